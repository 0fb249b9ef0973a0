//! Link options for the `optbench` binary of release-based profiles on Linux (test binaries and
//! other platforms link as before), which keep it under 40 MB with its line tables:
//!
//! - `--compress-debug-sections=zlib`: the workspace's line tables (about 24 MB of DWARF) are
//!   stored compressed. Rust's backtraces, gdb and perf read them; zstd would be smaller, but
//!   Rust's own backtraces do not read zstd-compressed sections (file and line go missing).
//! - `-no-pie`: a position-dependent executable needs no table of relative relocations (2 MB).
//!   The code is position-independent all the same; only the executable's own address is fixed.
//! - `-O2`: the linker merges the tails of equal strings.
//! - `--icf=all`: identical functions (generic code instantiated alike in several crates) are
//!   kept once. Only lld and gold have it, so only when rustc links with its own lld (the
//!   default for x86_64 Linux since Rust 1.90); a frame of a folded function is named after one
//!   of its identical copies.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if !(release && linux) {
        return;
    }
    for arg in ["-Wl,--compress-debug-sections=zlib", "-no-pie", "-Wl,-O2"] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
    if links_with_rust_lld() {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}

/// Whether rustc links this target with its bundled lld: x86_64 Linux (GNU) with Rust 1.90 or
/// newer, and no linker chosen in the environment.
fn links_with_rust_lld() -> bool {
    let target = std::env::var("TARGET").unwrap_or_default();
    // RUSTC_LINKER: a linker set in cargo's configuration; link flags in RUSTFLAGS may pick one.
    let linker_set = std::env::var_os("RUSTC_LINKER").is_some()
        || std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("link"));
    target == "x86_64-unknown-linux-gnu" && !linker_set && rustc_minor().is_some_and(|m| m >= 90)
}

/// The minor version of the rustc that builds this crate (`rustc 1.95.0 (...)` → 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
