//! Compresses the release binary's debug sections (the workspace's line tables, about 24 MB of
//! DWARF) with zlib at link time: 69 MB → 51 MB, and `[profile.dist]` 50 MB → 36 MB. Backtraces,
//! gdb and perf read compressed sections, so file and line stay in every frame.
//!
//! GNU ld (2.26+), gold and lld take the flag; it is only passed on Linux, and only for the
//! `optbench` binary of release-based profiles, so test binaries link as before.

fn main() {
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if release && linux {
        println!("cargo::rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
