//! The instruction-set paths every kernel is compiled for, and running a kernel on a chosen one.
//!
//! Each fused loop (a `#[inline(always)]` function over slices) is compiled three times: for
//! the x86-64 baseline (SSE2), for AVX2+FMA and for AVX-512 (F+VL, with FMA). `kernel!`
//! writes the three instantiations and one function that runs the one a [`CpuPath`] names, so
//! that tests can run every path the CPU has on the same inputs and compare the bits, and
//! production code runs [`CpuPath::detected`].
//!
//! Why three named paths instead of one `#[multiversion]` dispatcher per kernel: the dispatcher
//! picks the best path itself and offers no way to call another one, so a test of "every path
//! gives the same bits" could not run the paths this CPU would not pick. Here each vector path is
//! a `multiversion` function with a single target (its fallback is never taken: callers pass a
//! path the CPU supports), and the baseline is the plain loop.
//!
//! All paths give bit-identical results because the loops use only IEEE-754 operations that
//! are correctly rounded on every target (`+ - * /`, `sqrt`, `mul_add`, comparisons) and Rust
//! never contracts `a * b + c` into an FMA on its own; `tests/cpu_paths.rs` checks this for
//! every option set of every optimizer.

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
}

impl std::fmt::Display for CpuPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `kernel!(fn name<const A: bool, ...>(args...) => body);` defines
/// `fn name<const A: bool, ...>(path: CpuPath, args...)`, which runs the `#[inline(always)]`
/// loop `body::<A, ...>(args...)` compiled for `path`. The caller passes a path the CPU
/// supports ([`CpuPath::detected`], or one checked with [`CpuPath::is_supported`]); an
/// unsupported vector path would silently run the baseline code instead.
macro_rules! kernel {
    (
        $(#[$meta:meta])*
        fn $name:ident $(<$(const $c:ident: bool),+>)? ($($arg:ident: $ty:ty),+ $(,)?) => $body:ident
    ) => {
        $(#[$meta])*
        fn $name $(<$(const $c: bool),+>)? (path: $crate::cpu::CpuPath, $($arg: $ty),+) {
            #[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma"))]
            fn avx512 $(<$(const $c: bool),+>)? ($($arg: $ty),+) {
                $body $(::<$($c),+>)? ($($arg),+)
            }
            #[multiversion::multiversion(targets("x86_64+avx2+fma"))]
            fn avx2 $(<$(const $c: bool),+>)? ($($arg: $ty),+) {
                $body $(::<$($c),+>)? ($($arg),+)
            }
            match path {
                $crate::cpu::CpuPath::Avx512 => avx512 $(::<$($c),+>)? ($($arg),+),
                $crate::cpu::CpuPath::Avx2Fma => avx2 $(::<$($c),+>)? ($($arg),+),
                $crate::cpu::CpuPath::Baseline => $body $(::<$($c),+>)? ($($arg),+),
            }
        }
    };
}
pub(crate) use kernel;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_path_is_supported_and_the_best_one() {
        let best = CpuPath::detected();
        assert!(best.is_supported());
        assert_eq!(CpuPath::detected(), best, "cached");
        for path in CpuPath::ALL {
            if path.is_supported() {
                assert!(
                    path as u8 <= best as u8,
                    "{path} is supported but {best} was picked"
                );
            }
        }
        assert!(CpuPath::Baseline.is_supported());
    }
}
