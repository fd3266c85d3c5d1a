//! Link settings of the `openwatch` binary.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if os == "linux" && env == "gnu" && native && glibc_at_least(2, 36) {
        // Pack the ~150,000 relative relocations of a position-independent Rust binary
        // (vtables, static tables) as DT_RELR: the dynamic loader then reads a few KiB
        // instead of a 3.6 MB `.rela.dyn` at every start, which every short
        // `openwatch query` pays. The binary stays position-independent. Such a binary
        // needs glibc 2.36 or later to start (it requires `GLIBC_ABI_DT_RELR`), so the flag
        // is only given when the glibc of this (native) build is that recent.
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
