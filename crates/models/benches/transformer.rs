//! `transformer_train_step`: one training step (forward, next-token cross-entropy at every
//! position, backward, AdamW update) of a 2-layer GPT-style model — d_model 128, 4 heads, MLP
//! 512 with GELU, pre-LN, context 64, byte vocabulary (256), batch 16 — on one thread, in
//! tokens per second (16 · 64 = 1,024 per step). Compare with
//! `scripts/bench_torch_transformer.py`, which trains the same module in PyTorch.
//!
//! FLOPs per step, for the fraction of the FMA peak (PaLM's count, Chowdhery et al. 2022,
//! appendix B): 6·N + 12·L·d·T per token, N the parameters of the matrix products (blocks and
//! head, 425,984), L = 2, d = 128, T = 64: 2,752,512 per token, 2.819 GFLOP per step.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use optbench_models::{BatchSize, Batcher, ProblemConfig, build_problem_in, load_dataset};
use optbench_optim::OptimizerConfig;

use crate::cpu_time::thread_cpu_time;

/// A deterministic 64 KiB byte text (a linear congruential stream of printable bytes).
fn byte_text(dir: &std::path::Path) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let text: Vec<u8> = (0..65_536)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            b' ' + ((state >> 33) % 95) as u8
        })
        .collect();
    std::fs::write(dir.join("bench.txt"), text).unwrap();
}

pub fn transformer_train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("transformer_train_step");
    group.sample_size(20);
    let dir = tempfile::tempdir().unwrap();
    byte_text(dir.path());
    let keys = serde_json::json!({
        "dataset": {"name": "text", "path": "bench.txt", "tokens": "byte"},
        "layers": 2, "d_model": 128, "heads": 4, "context": 64,
        "mlp_activation": "gelu", "norm": "pre",
    });
    let cfg = ProblemConfig::from_json("transformer", keys.as_object().unwrap()).unwrap();
    let data = load_dataset(cfg.dataset().unwrap(), 0, dir.path()).unwrap();
    let mut problem = build_problem_in(&cfg, Some(data), 0, dir.path()).unwrap();
    let batch = 16;
    let mut params = problem.initial_params();
    let mut grad = vec![0.0; problem.dim()];
    // torch.optim.AdamW(lr=1e-3): betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    let adamw = OptimizerConfig::from_json("adamw", &serde_json::Map::new()).unwrap();
    let mut adamw = adamw.build(problem.dim()).unwrap();
    let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(batch), 0);
    group.throughput(Throughput::Elements((batch * 64) as u64));
    group.bench_function(BenchmarkId::new("2x128_ctx64_adamw", batch), |b| {
        b.iter(|| {
            black_box(problem.loss_grad(&params, batches.next_batch(), &mut grad));
            adamw.step(&mut params, &grad, 1e-3).unwrap();
        })
    });
    // The same steps timed by this thread's CPU time instead of the wall clock: on a loaded
    // machine it leaves out the time the thread waits for a core (the script prints PyTorch's
    // alike). Linux only; elsewhere the line is skipped.
    if thread_cpu_time().is_some() {
        group.bench_function(BenchmarkId::new("2x128_ctx64_adamw_cpu_time", batch), |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu_time().unwrap_or_default();
                for _ in 0..iters {
                    black_box(problem.loss_grad(&params, batches.next_batch(), &mut grad));
                    adamw.step(&mut params, &grad, 1e-3).unwrap();
                }
                thread_cpu_time().unwrap_or_default().saturating_sub(start)
            })
        });
    }
    group.finish();
}
