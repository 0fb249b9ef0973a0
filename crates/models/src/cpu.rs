//! The instruction-set paths the matrix products and convolutions are compiled for, and running
//! them on a chosen one.
//!
//! The hot loops (`#[inline(always)]` functions over slices) are compiled three times: for the
//! x86-64 baseline (SSE2), for AVX2+FMA and for AVX-512 (F+VL, with FMA). [`per_path!`] writes
//! the three instantiations and one function that runs the one a [`CpuPath`] names, so that
//! tests can run every path the CPU has on the same inputs and compare the bits (a kernel
//! directly, or a whole network through [`run_on`]), while production code runs
//! [`CpuPath::detected`]. This mirrors `optbench_optim::CpuPath` (the
//! models crate does not depend on the optimizers).
//!
//! Every path gives the same bits because the loops use only correctly rounded IEEE-754
//! operations (`+ - * /`, `mul_add`, comparisons) in the same order on every path; the paths
//! differ only in how many independent elements are computed at once (see [`crate::gemm`]).

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set path of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuPath {
    /// The target's baseline (x86-64: SSE2; `mul_add` is the libm `fmaf` call).
    Baseline,
    /// x86-64 with AVX2 and FMA (Haswell and later).
    Avx2Fma,
    /// x86-64 with AVX-512 F and VL, and FMA (Skylake-X, Zen 4 and later).
    Avx512,
}

impl CpuPath {
    /// Every path, baseline first.
    pub const ALL: [CpuPath; 3] = [CpuPath::Baseline, CpuPath::Avx2Fma, CpuPath::Avx512];

    /// A short name (`baseline`, `avx2+fma`, `avx512`).
    pub fn name(self) -> &'static str {
        match self {
            CpuPath::Baseline => "baseline",
            CpuPath::Avx2Fma => "avx2+fma",
            CpuPath::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            CpuPath::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            CpuPath::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            CpuPath::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            CpuPath::Avx2Fma | CpuPath::Avx512 => false,
        }
    }

    /// The fastest path this CPU supports (detected once per process).
    pub fn detected() -> CpuPath {
        static DETECTED: AtomicU8 = AtomicU8::new(u8::MAX);
        match DETECTED.load(Ordering::Relaxed) {
            0 => CpuPath::Baseline,
            1 => CpuPath::Avx2Fma,
            2 => CpuPath::Avx512,
            _ => {
                let best = if CpuPath::Avx512.is_supported() {
                    CpuPath::Avx512
                } else if CpuPath::Avx2Fma.is_supported() {
                    CpuPath::Avx2Fma
                } else {
                    CpuPath::Baseline
                };
                DETECTED.store(best as u8, Ordering::Relaxed);
                best
            }
        }
    }

    /// The path the networks run on: [`CpuPath::detected`], unless this thread is inside
    /// [`run_on`].
    pub fn active() -> CpuPath {
        FORCED.with(|f| f.get()).unwrap_or_else(CpuPath::detected)
    }

    /// The supported paths, baseline first.
    pub fn supported() -> impl Iterator<Item = CpuPath> {
        CpuPath::ALL.into_iter().filter(|p| p.is_supported())
    }
}

thread_local! {
    static FORCED: std::cell::Cell<Option<CpuPath>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every matrix product and convolution of this thread on `path` (for tests that
/// compare the paths' bits through a whole network; production code never calls it).
///
/// # Panics
/// If the CPU does not support `path`.
pub fn run_on<R>(path: CpuPath, f: impl FnOnce() -> R) -> R {
    assert!(path.is_supported(), "{path} is not supported on this CPU");
    let previous = FORCED.with(|c| c.replace(Some(path)));
    let result = f();
    FORCED.with(|c| c.set(previous));
    result
}

impl std::fmt::Display for CpuPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `per_path!(fn name(args...) => body);` defines `fn name(path: CpuPath, args...)`, which runs
/// the `#[inline(always)]` function `body::<RN, RW, PM, NW>(args...)` compiled for `path`, the
/// const parameters being the path's micro-kernel sizes ([`Shape`]). The caller passes a path
/// the CPU supports ([`CpuPath::detected`], or one checked with [`CpuPath::is_supported`]); an
/// unsupported vector path would silently run the baseline code instead.
macro_rules! per_path {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident ($($arg:ident: $ty:ty),+ $(,)?) => $body:ident
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(path: $crate::cpu::CpuPath, $($arg: $ty),+) {
            use $crate::cpu::{AVX2, AVX512, BASELINE};
            #[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma"))]
            #[allow(clippy::too_many_arguments)]
            fn avx512($($arg: $ty),+) {
                $body::<{ AVX512.rows_narrow }, { AVX512.rows_wide }, { AVX512.packed }, { AVX512.wide }>(
                    $($arg),+
                )
            }
            #[multiversion::multiversion(targets("x86_64+avx2+fma"))]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),+) {
                $body::<{ AVX2.rows_narrow }, { AVX2.rows_wide }, { AVX2.packed }, { AVX2.wide }>(
                    $($arg),+
                )
            }
            match path {
                $crate::cpu::CpuPath::Avx512 => avx512($($arg),+),
                $crate::cpu::CpuPath::Avx2Fma => avx2($($arg),+),
                $crate::cpu::CpuPath::Baseline => $body::<
                    { BASELINE.rows_narrow },
                    { BASELINE.rows_wide },
                    { BASELINE.packed },
                    { BASELINE.wide },
                >($($arg),+),
            }
        }
    };
}
pub(crate) use per_path;

/// `on_path!(fn name(args...) { body })` defines `fn name(args...)`, which runs `body`
/// compiled for [`CpuPath::active`]: per-element loops of the layers (batch normalisation, max
/// pooling), whose order of operations does not depend on the vector width, so every path gives
/// the same bits (compared by `tests/cpu_paths.rs`). The convolution's copies (padding, im2col,
/// col2im) measured no faster compiled this way, so they stay baseline.
macro_rules! on_path {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident ($($arg:ident: $ty:ty),+ $(,)?) $body:block
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),+) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),+) $body
            #[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma"))]
            #[allow(clippy::too_many_arguments)]
            fn avx512($($arg: $ty),+) {
                body($($arg),+)
            }
            #[multiversion::multiversion(targets("x86_64+avx2+fma"))]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),+) {
                body($($arg),+)
            }
            match $crate::cpu::CpuPath::active() {
                $crate::cpu::CpuPath::Avx512 => avx512($($arg),+),
                $crate::cpu::CpuPath::Avx2Fma => avx2($($arg),+),
                $crate::cpu::CpuPath::Baseline => body($($arg),+),
            }
        }
    };
}
pub(crate) use on_path;

/// Micro-kernel sizes of a path (see [`crate::gemm`]): rows of the register block with a B
/// panel of [`NARROW`] columns (`rows_narrow`, for products with at most 16 columns, A read in
/// place or packed), with a panel of `wide` columns when A's rows are read in place
/// (`rows_wide`), and on packed A panels with a wide panel (`packed`). Every size gives the same bits; they only decide how many
/// independent accumulators are live at once. (Const parameters, not a trait's associated
/// constants: stable Rust cannot size arrays by the latter in generic code.)
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub rows_narrow: usize,
    pub rows_wide: usize,
    pub packed: usize,
    pub wide: usize,
}

/// Columns of a narrow B panel.
pub(crate) const NARROW: usize = 16;

/// AVX-512, 32 registers of 16 floats: 12 × 32 (24 accumulators) with a wide B, on rows read
/// in place or packed (packed 12 × 32 instead of 6 × 32 measured 10 % faster on the
/// transformer step, whose weight gradients are packed products), 12 × 16 on 16-column panels
/// (12 accumulators, as two blocks of six rows: see `gemm::halves`; 6 × 16 took 16 % more CPU
/// time on ResNet-20's 16-channel convolutions, `conv_layer` in `benches/cnn.rs`).
pub(crate) const AVX512: Shape = Shape {
    rows_narrow: 12,
    rows_wide: 12,
    packed: 12,
    wide: 32,
};

/// AVX2+FMA, 16 registers of 8 floats: 6 × 16 (12 accumulators), as BLIS's Haswell kernel.
pub(crate) const AVX2: Shape = Shape {
    rows_narrow: 6,
    rows_wide: 6,
    packed: 6,
    wide: 16,
};

/// Baseline x86-64: no FMA instruction (`mul_add` is a library call), so only the bits matter.
pub(crate) const BASELINE: Shape = AVX2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_path_is_supported_and_the_best_one() {
        let best = CpuPath::detected();
        assert!(best.is_supported());
        assert_eq!(CpuPath::detected(), best, "cached");
        for path in CpuPath::supported() {
            assert!(path as u8 <= best as u8, "{path} supported, {best} picked");
        }
        assert!(CpuPath::Baseline.is_supported());
    }
}
