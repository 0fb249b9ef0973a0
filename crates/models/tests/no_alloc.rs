//! The training hot loop does not allocate: a counting global allocator (this file only, hence
//! the `unsafe` for `GlobalAlloc`) counts allocations made by the current thread. Activations,
//! gradients and the matrix products' packing buffers are sized on the first step and the first
//! evaluation, and reused afterwards.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use optbench_models::{BatchSize, Batcher, ProblemConfig, build_problem, load_dataset};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Allocations made by `steps` SGD steps on batches of `batch` (with `evals` evaluations of
/// `train_loss` and `test_metrics` spread over them), after a warm-up step and evaluation that
/// size the buffers.
fn allocations_in_steps(problem: &ProblemConfig, batch: usize, steps: usize, evals: usize) -> u64 {
    let data = load_dataset(problem.dataset().unwrap(), 0, Path::new(".")).unwrap();
    let mut p = build_problem(problem, Some(data), 0).unwrap();
    let mut params = p.initial_params();
    let mut grad = vec![0.0; p.dim()];
    let mut batches = Batcher::new(p.train_len(), BatchSize::Examples(batch), 0);
    let mut step = |p: &mut Box<dyn optbench_models::Problem>| {
        let loss = p.loss_grad(&params, batches.next_batch(), &mut grad);
        for (x, g) in params.iter_mut().zip(&grad) {
            *x -= 0.01 * g;
        }
        loss
    };
    // Warm-up: buffers are sized on the first step and the first evaluations.
    step(&mut p);
    let init = p.initial_params();
    p.train_loss(&init);
    p.test_metrics(&init);
    let before = allocs();
    for i in 0..steps {
        std::hint::black_box(step(&mut p));
        if (i + 1) % (steps / evals) == 0 {
            std::hint::black_box(p.train_loss(&init));
            std::hint::black_box(p.test_metrics(&init));
        }
    }
    allocs() - before
}

#[test]
fn training_steps_do_not_allocate() {
    for (problem, hidden) in [("mlp", vec![32, 16]), ("softmax_regression", vec![])] {
        let mut keys = serde_json::json!({
            "dataset": {"name": "synthetic_classification", "samples": 500, "features": 40, "classes": 5},
        })
        .as_object()
        .unwrap()
        .clone();
        if problem == "mlp" {
            keys.insert("hidden".into(), hidden.into());
        }
        let cfg = ProblemConfig::from_json(problem, &keys).unwrap();
        // 30 steps cross several epochs (400 training examples, batches of 64).
        let n = allocations_in_steps(&cfg, 64, 30, 3);
        assert_eq!(
            n, 0,
            "{problem}: {n} allocations in 30 steps and 3 evaluations"
        );
    }
}

#[test]
fn augmenting_a_batch_does_not_allocate() {
    use optbench_models::{Augmentation, ImageShape, augment::augment_batch};
    use rand::SeedableRng;
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let src = vec![1.0f32; 8 * shape.n_values()];
    let mut dst = vec![0.0f32; src.len()];
    let list = [
        Augmentation::RandomCrop { padding: 4 },
        Augmentation::HorizontalFlip,
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let pad = [-1.0f32, -1.1, -1.2];
    let before = allocs();
    augment_batch(&list, shape, &pad, &src, &mut dst, &mut rng);
    assert_eq!(allocs(), before, "augment_batch allocated");
}

/// The same for the convolutional and residual networks (batch norm, dropout, pooling, residual
/// additions, augmentation of the training batches).
#[test]
fn image_network_steps_do_not_allocate() {
    let dataset = serde_json::json!({"name": "synthetic_images", "samples": 96, "channels": 3,
        "height": 12, "width": 12, "classes": 4, "augment": [{"random_crop": 2}, "hflip"]});
    let cases = [
        (
            "cnn",
            serde_json::json!({"conv": [{"channels": 4, "norm": "batch", "pool": "max"},
                                        {"channels": 6, "stride": 2, "pool": {"type": "avg", "kernel": 2}}],
                               "hidden": [8], "dropout": 0.2}),
        ),
        ("resnet", serde_json::json!({"depth": 8, "shortcut": "B"})),
        ("resnet", serde_json::json!({"depth": 8})),
    ];
    for (problem, keys) in cases {
        let mut keys = keys.as_object().unwrap().clone();
        keys.insert("dataset".into(), dataset.clone());
        let cfg = ProblemConfig::from_json(problem, &keys).unwrap();
        // 12 steps cross two epochs (77 training examples, batches of 16).
        let n = allocations_in_steps(&cfg, 16, 12, 2);
        assert_eq!(
            n, 0,
            "{problem}: {n} allocations in 12 steps and 2 evaluations"
        );
    }
}

/// The same for the transformer: modular arithmetic (answer only, no layer norm) and a text
/// (every position, pre-LN, tied embeddings, random windows).
#[test]
fn transformer_steps_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.txt");
    std::fs::write(
        &text,
        "the quick brown fox jumps over the lazy dog. ".repeat(40),
    )
    .unwrap();
    let cases = [
        serde_json::json!({"dataset": {"name": "modular_arithmetic", "p": 13}, "layers": 1,
                           "d_model": 16, "heads": 2, "context": 4, "norm": "none",
                           "mlp_activation": "relu"}),
        serde_json::json!({"dataset": {"name": "text", "path": text.to_str().unwrap(),
                                       "tokens": "char"},
                           "layers": 2, "d_model": 16, "heads": 4, "context": 12,
                           "tie_embeddings": true, "mlp_activation": "gelu_tanh",
                           "eval_train_examples": 20}),
    ];
    for keys in cases {
        let cfg = ProblemConfig::from_json("transformer", keys.as_object().unwrap()).unwrap();
        let n = allocations_in_steps(&cfg, 8, 12, 2);
        assert_eq!(
            n, 0,
            "{keys}: {n} allocations in 12 steps and 2 evaluations"
        );
    }
}
