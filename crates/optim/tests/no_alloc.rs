//! A step never touches the heap: a counting global allocator sees no allocation, reallocation
//! or deallocation during steps of any optimizer and option set.
#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only forwards to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use optbench_optim::OptimizerConfig;
use serde_json::{Value, json};

struct Counting;

thread_local! {
    /// Counts only on the thread that armed it, so parallel tests do not interfere.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-local may be gone while a thread shuts down.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap operations performed by `f` on this thread.
fn count(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    let n = count(|| {
        let v = std::hint::black_box(vec![1u8; 100]);
        drop(v);
    });
    assert!(n >= 2, "counted {n}");
}

#[test]
fn no_heap_allocation_inside_a_step() {
    let cases = [
        ("sgd", json!({})),
        (
            "sgd",
            json!({"momentum": 0.9, "weight_decay": 0.1, "maximize": true}),
        ),
        ("sgd", json!({"momentum": 0.9, "nesterov": true})),
        ("adagrad", json!({"lr_decay": 0.1, "weight_decay": 0.1})),
        ("adadelta", json!({"weight_decay": 0.1})),
        ("rmsprop", json!({})),
        (
            "rmsprop",
            json!({"centered": true, "momentum": 0.9, "weight_decay": 0.1}),
        ),
        ("adam", json!({})),
        ("adam", json!({"amsgrad": true, "weight_decay": 0.1})),
        ("adamw", json!({})),
        (
            "nadam",
            json!({"weight_decay": 0.1, "decoupled_weight_decay": true}),
        ),
        ("radam", json!({"weight_decay": 0.1})),
        ("adamax", json!({})),
        ("lion", json!({"weight_decay": 0.1})),
    ];
    for (name, hp) in cases {
        let Value::Object(map) = hp else {
            unreachable!()
        };
        let cfg = OptimizerConfig::from_json(name, &map).unwrap();
        let n = 1000;
        let mut opt = cfg.build(n).unwrap();
        let mut params = vec![0.5f32; n];
        let grads: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        // The first step included: state is created in `build`, not lazily.
        let heap_ops = count(|| {
            for _ in 0..10 {
                opt.step(&mut params, &grads, 1e-3).unwrap();
            }
        });
        assert_eq!(heap_ops, 0, "{name} {map:?} allocated during a step");
    }
}
