//! With the `blas` feature, ndarray's matrix products call `cblas_sgemm`; link the system
//! OpenBLAS that provides it (Debian: libopenblas-serial-dev, single-threaded).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_BLAS").is_some() {
        println!("cargo::rustc-link-lib=openblas");
    }
}
