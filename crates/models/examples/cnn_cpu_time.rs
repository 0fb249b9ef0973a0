//! CPU time of one training step of the `cnn_train_step` benchmark's networks (DeepOBS's 2c2d
//! with Adam, ResNet-20 with SGD + momentum; batch 128, one thread) and of the `conv_layer`
//! benchmark's convolutions (forward + backward), read from `/proc/thread-self/schedstat`: on a
//! shared machine the time the thread spends waiting for a core does not count, unlike
//! criterion's wall-clock time. Also one core's FMA peak, measured the same way: 12 independent
//! chains of 16-float FMAs (enough to fill both FMA pipes), compiled for AVX-512 when the CPU
//! has it. `scripts/bench_cnn_cpu.sh` runs it beside `scripts/bench_torch_cnn.py`, which
//! reports PyTorch's thread CPU time the same way.
//!
//! Usage: `cargo run --release -p optbench-models --example cnn_cpu_time -- [steps [filter]]`
//! (Linux only; `filter`: only the measurements whose label contains it, for profiling). Prints
//! `peak <GFLOP/s>`, `conv <layer> <ms> <GFLOP/s>` and `step <network> <ms>`.

#[path = "../benches/cnn_cases.rs"]
mod cnn_cases;
#[path = "../benches/cpu_time.rs"]
mod cpu_time;

/// CPU milliseconds per call of `f`, after 3 warm-up calls.
fn cpu_ms(steps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f(); // warm-up: buffers sized, caches warm
    }
    let now = || cpu_time::thread_cpu_time().expect("/proc/thread-self/schedstat (Linux only)");
    let start = now();
    for _ in 0..steps {
        f();
    }
    (now() - start).as_secs_f64() * 1e3 / steps as f64
}

/// 12 independent chains of `c = fma(c, a, b)` on 16 floats each, `rounds` times: 384 floating
/// point operations per round. (Two blocks of six rows, as the GEMM's 12 × 16 kernel: written as
/// one block, LLVM vectorises across the rows with gathers.)
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma"))]
fn fma_chains(rounds: usize, a: f32, b: f32) -> f32 {
    let mut lo = [[1e-3f32; 16]; 6];
    let mut hi = [[2e-3f32; 16]; 6];
    for _ in 0..rounds {
        for row in &mut lo {
            for v in row.iter_mut() {
                *v = v.mul_add(a, b);
            }
        }
        for row in &mut hi {
            for v in row.iter_mut() {
                *v = v.mul_add(a, b);
            }
        }
    }
    lo.iter().chain(&hi).flatten().sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let steps: usize = args
        .get(1)
        .map_or(20, |s| s.parse().expect("steps: a positive integer"));
    let filter = args.get(2).map_or("", String::as_str);
    if "peak".contains(filter) {
        let rounds = 50_000_000;
        let ms = cpu_ms(1, || {
            std::hint::black_box(fma_chains(rounds, 0.999_999, 1e-7));
        });
        println!("peak {:.1}", (rounds * 384) as f64 / ms / 1e6);
    }
    for mut pass in cnn_cases::conv_passes() {
        if pass.label.contains(filter) {
            let ms = cpu_ms(steps, || pass.run());
            let label = pass.label.replace(' ', "_");
            println!("conv {label} {ms:.2} {:.1}", pass.flops as f64 / ms / 1e6);
        }
    }
    for mut step in cnn_cases::train_steps() {
        if step.label.contains(filter) {
            let ms = cpu_ms(steps, || {
                step.run();
            });
            println!("step {} {ms:.2}", step.label);
        }
    }
}
