//! Link settings of the `openwatch` binary.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OPENWATCH_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    let keep_pie = std::env::var_os("OPENWATCH_PIE").is_some_and(|v| v == "1");
    if os != "linux" || env != "gnu" {
        return;
    }
    if !keep_pie {
        // A position-independent Rust binary of this size carries ~150,000 relative
        // relocations (vtables, static tables: a 2.6 MB `.data.rel.ro`). At every start the
        // dynamic loader writes all of them, which copies every page of that section: about
        // 4 ms of each short `openwatch query` or `openwatch import` (measured: an
        // empty-range query 16 -> 11 ms wall, paired runs of the two release binaries).
        // Linked as a fixed-address executable the linker resolves them once, and the
        // pages are read from the file only when touched. The cost: the executable's own
        // code and data are not at a random address (shared libraries, heap, stack and
        // maps still are). `OPENWATCH_PIE=1` at build time keeps the position-independent
        // link, for packagers who want it.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    } else if native && glibc_at_least(2, 36) {
        // Position-independent: pack the relative relocations as DT_RELR, so the loader
        // reads a few KiB instead of a 3.6 MB `.rela.dyn` (the copies of the written pages
        // remain). Such a binary needs glibc 2.36 or later to start (it requires
        // `GLIBC_ABI_DT_RELR`), so the flag is only given when the glibc of this (native)
        // build is that recent.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the C library of the build machine is glibc `major.minor` or later, from
/// `getconf GNU_LIBC_VERSION` ("glibc 2.36"); false when that cannot be told.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
