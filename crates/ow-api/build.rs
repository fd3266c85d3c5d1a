//! Rebuilds `ow-api` when the web console's build output changes, so the binary embeds (in
//! release builds) or finds (in debug builds, read at run time) the current `web/dist`.
//! Without this, a console built after the Rust code would stay invisible until an unrelated
//! change recompiled the crate (rust-embed's derive cannot tell cargo about new files).
//! The Rust build never runs npm: `scripts/build-console.sh` builds `web/dist`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::path::Path::new("../../web/dist").exists() {
        println!("cargo:rerun-if-changed=../../web/dist");
    } else {
        // Appears when the console is built; `web/` itself is in the repository.
        println!("cargo:rerun-if-changed=../../web");
    }
}
