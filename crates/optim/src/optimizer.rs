//! The split between an immutable update rule and the owner of its state.

use serde::{Serialize, de::DeserializeOwned};

use crate::{CpuPath, OptimError};

/// An update rule: immutable configuration plus a step over flat buffers.
///
/// `apply` must not allocate; all per-element state lives in `State`, created once by
/// `init_state` for a parameter vector of length `n`.
pub trait UpdateRule: Clone + std::fmt::Debug + Send + Sync {
    /// Per-parameter buffers and scalars the rule carries between steps.
    type State: Clone + std::fmt::Debug + Send + Serialize + DeserializeOwned;

    /// The optimizer's name as written in YAML (`sgd`, `adam`, ...).
    const NAME: &'static str;

    /// Fresh state for `n` parameters (torch's lazily created state, created eagerly).
    fn init_state(&self, n: usize) -> Self::State;

    /// Checks that `state` fits `n` parameters (after deserialising it).
    fn check_state(&self, state: &Self::State, n: usize) -> Result<(), OptimError>;

    /// One update, in place, with the kernels compiled for `path` (which the caller checked the
    /// CPU supports). `step` is torch's `state['step']` after its increment (1 for the first
    /// update); `lr` is the learning rate of this step. Lengths were checked by the caller.
    #[allow(clippy::too_many_arguments)]
    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut Self::State,
        step: u64,
        lr: f64,
    );

    /// One update on the fastest path this CPU has ([`CpuPath::detected`]).
    fn apply(
        &self,
        params: &mut [f32],
        grads: &[f32],
        state: &mut Self::State,
        step: u64,
        lr: f64,
    ) {
        self.apply_on(CpuPath::detected(), params, grads, state, step, lr);
    }
}

/// Owns a rule, its state and the step counter.
#[derive(Clone, Debug)]
pub struct Optimizer<R: UpdateRule> {
    rule: R,
    state: R::State,
    step: u64,
    len: usize,
}

/// A serialisable snapshot of an optimizer's state: step counter and buffers.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Snapshot<S> {
    pub step: u64,
    pub len: usize,
    pub state: S,
}

impl<R: UpdateRule> Optimizer<R> {
    /// An optimizer for a parameter vector of `len` elements.
    pub fn new(rule: R, len: usize) -> Self {
        let state = rule.init_state(len);
        Self {
            rule,
            state,
            step: 0,
            len,
        }
    }

    /// The rule this optimizer applies.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// Updates taken so far.
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// One update of `params` from `grads` with learning rate `lr`.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) -> Result<(), OptimError> {
        self.step_with(CpuPath::detected(), params, grads, lr)
    }

    /// [`Self::step`] with the kernels of `path`; an error if this CPU does not have it. Every
    /// path gives the same bits (this is how the tests check that).
    pub fn step_on(
        &mut self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        lr: f64,
    ) -> Result<(), OptimError> {
        if !path.is_supported() {
            return Err(OptimError::CpuPathUnavailable { path: path.name() });
        }
        self.step_with(path, params, grads, lr)
    }

    /// One update on `path`, which the CPU supports.
    fn step_with(
        &mut self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        lr: f64,
    ) -> Result<(), OptimError> {
        if params.len() != self.len {
            return Err(OptimError::LengthMismatch {
                what: "params",
                got: params.len(),
                expected: self.len,
            });
        }
        if grads.len() != self.len {
            return Err(OptimError::LengthMismatch {
                what: "grads",
                got: grads.len(),
                expected: self.len,
            });
        }
        self.step += 1;
        self.rule
            .apply_on(path, params, grads, &mut self.state, self.step, lr);
        Ok(())
    }

    /// The state as a serialisable snapshot.
    pub fn snapshot(&self) -> Snapshot<R::State> {
        Snapshot {
            step: self.step,
            len: self.len,
            state: self.state.clone(),
        }
    }

    /// Restores a snapshot taken from an optimizer with the same rule and length.
    pub fn restore(&mut self, snapshot: Snapshot<R::State>) -> Result<(), OptimError> {
        if snapshot.len != self.len {
            return Err(OptimError::LengthMismatch {
                what: "snapshot",
                got: snapshot.len,
                expected: self.len,
            });
        }
        self.rule.check_state(&snapshot.state, self.len)?;
        self.step = snapshot.step;
        self.state = snapshot.state;
        Ok(())
    }
}

/// Object-safe face of [`Optimizer`], for code that picks the optimizer at run time.
pub trait DynOptimizer: Send + std::fmt::Debug {
    /// The optimizer's YAML name.
    fn name(&self) -> &'static str;
    /// Updates taken so far.
    fn steps_taken(&self) -> u64;
    /// One update (see [`Optimizer::step`]).
    fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) -> Result<(), OptimError>;
    /// One update with the kernels of `path` (see [`Optimizer::step_on`]).
    fn step_on(
        &mut self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        lr: f64,
    ) -> Result<(), OptimError>;
    /// The state (step counter and buffers) as JSON.
    fn save_state(&self) -> serde_json::Value;
    /// Restores state saved by [`DynOptimizer::save_state`] of the same optimizer.
    fn load_state(&mut self, state: serde_json::Value) -> Result<(), String>;
}

impl<R: UpdateRule + 'static> DynOptimizer for Optimizer<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }
    fn steps_taken(&self) -> u64 {
        self.step
    }
    fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) -> Result<(), OptimError> {
        Optimizer::step(self, params, grads, lr)
    }
    fn step_on(
        &mut self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        lr: f64,
    ) -> Result<(), OptimError> {
        Optimizer::step_on(self, path, params, grads, lr)
    }
    fn save_state(&self) -> serde_json::Value {
        serde_json::to_value(self.snapshot()).expect("optimizer state serialises to JSON")
    }
    fn load_state(&mut self, state: serde_json::Value) -> Result<(), String> {
        let snapshot: Snapshot<R::State> =
            serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.restore(snapshot).map_err(|e| e.to_string())
    }
}

/// Checks that a state buffer has `expected` elements (for [`UpdateRule::check_state`]).
pub(crate) fn check_len(
    optimizer: &'static str,
    what: &'static str,
    buf: &[f32],
    expected: usize,
) -> Result<(), OptimError> {
    if buf.len() == expected {
        Ok(())
    } else {
        Err(OptimError::InvalidState {
            optimizer,
            reason: format!("`{what}` has {} elements, expected {expected}", buf.len()),
        })
    }
}
