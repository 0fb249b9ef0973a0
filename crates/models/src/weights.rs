//! Weights from and to PyTorch, as safetensors files (through the `safetensors` crate).
//!
//! A file holds one tensor per entry of the network's `named_parameters()` (f32, PyTorch's
//! names and shapes, [`crate::Problem::param_layout`]) and, for networks with batch norm, its
//! buffers as PyTorch's `state_dict()` has them: `running_mean`, `running_var` (f32) and
//! `num_batches_tracked` (i64). So in Python
//!
//! ```python
//! from safetensors.torch import load_file, save_file
//! model.load_state_dict(load_file("seed0.safetensors"))    # start PyTorch where optbench starts
//! save_file(model.state_dict(), "weights.safetensors")      # and `init: {file: ...}` the reverse
//! ```
//!
//! Loading ([`load`]) requires every parameter with its exact shape, takes f32 or f64 values,
//! accepts the buffers (loaded when present, else PyTorch's initial values) and rejects any
//! other tensor; each error names the tensor and its expected shape.
//!
//! A shared (tied) parameter has several names in PyTorch's `state_dict()` (`tok_emb.weight`
//! and `head.weight`): [`save`] writes it under each, and [`load_with_aliases`] accepts any of
//! them (equal values where several are present), so both `model.load_state_dict(...)` and
//! `safetensors.torch.save_model`, which keeps one of the names, work.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::error::ModelError;
use crate::layers::graph::NamedTensor;

/// Suffix of PyTorch's batch-norm step counter, a buffer that optbench does not need.
const BATCHES_TRACKED: &str = "num_batches_tracked";

/// What [`load`] read: the parameters, and the buffers that were in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The parameter vector.
    pub params: Vec<f32>,
    /// Buffer tensors found in the file, with their values.
    pub buffers: Vec<(NamedTensor, Vec<f32>)>,
}

fn weights_error(path: &Path, tensor: Option<&str>, message: String) -> ModelError {
    ModelError::Weights {
        path: path.to_path_buf(),
        tensor: tensor.map(str::to_string),
        message,
    }
}

fn values(path: &Path, name: &str, view: &TensorView) -> Result<Vec<f32>, ModelError> {
    let data = view.data();
    match view.dtype() {
        Dtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        Dtype::F64 => Ok(data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect()),
        other => Err(weights_error(
            path,
            Some(name),
            format!("tensor `{name}` has dtype {other:?}; F32 or F64 is needed"),
        )),
    }
}

/// Reads the parameters of a network with `params` (and `buffers`) from the safetensors file
/// `path`. Errors name the missing, extra or mis-shaped tensor and its expected shape.
pub fn load(
    path: &Path,
    params: &[NamedTensor],
    buffers: &[NamedTensor],
) -> Result<Loaded, ModelError> {
    load_with_aliases(path, params, &[], buffers)
}

/// As [`load`], where the tensors of `aliases` (other names of parameters, at their offsets)
/// may stand for a parameter or appear beside it with the same values.
pub fn load_with_aliases(
    path: &Path,
    params: &[NamedTensor],
    aliases: &[NamedTensor],
    buffers: &[NamedTensor],
) -> Result<Loaded, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| weights_error(path, None, format!("not a safetensors file: {e}")))?;
    let known: HashMap<&str, &NamedTensor> = params
        .iter()
        .chain(aliases)
        .chain(buffers)
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut names = file.names();
    names.sort_unstable();
    for name in &names {
        let tracked = name
            .strip_suffix(BATCHES_TRACKED)
            .is_some_and(|prefix| known.contains_key(format!("{prefix}running_mean").as_str()));
        if !known.contains_key(name) && !tracked {
            let expected: Vec<&str> = params.iter().map(|t| t.name.as_str()).collect();
            return Err(weights_error(
                path,
                Some(name),
                format!(
                    "tensor `{name}` is not a parameter or buffer of this network (its parameters: {})",
                    expected.join(", ")
                ),
            ));
        }
    }
    let read = |t: &NamedTensor| -> Result<Option<Vec<f32>>, ModelError> {
        let Ok(view) = file.tensor(&t.name) else {
            return Ok(None);
        };
        if view.shape() != t.shape.as_slice() {
            return Err(weights_error(
                path,
                Some(&t.name),
                format!(
                    "tensor `{}` has shape {:?}, expected {:?}",
                    t.name,
                    view.shape(),
                    t.shape
                ),
            ));
        }
        values(path, &t.name, &view).map(Some)
    };
    let n: usize = params.iter().map(NamedTensor::len).sum();
    let mut out = vec![0.0f32; n];
    for t in params {
        let others: Vec<&NamedTensor> = aliases.iter().filter(|a| a.offset == t.offset).collect();
        let mut value: Option<(&str, Vec<f32>)> = read(t)?.map(|v| (t.name.as_str(), v));
        for alias in others {
            let Some(v) = read(alias)? else { continue };
            match &value {
                Some((first, seen)) if *seen != v => {
                    return Err(weights_error(
                        path,
                        Some(&alias.name),
                        format!(
                            "tensor `{}` shares its values with `{first}` in this network, but                              the file has different values for them",
                            alias.name
                        ),
                    ));
                }
                Some(_) => {}
                None => value = Some((alias.name.as_str(), v)),
            }
        }
        let (_, v) = value.ok_or_else(|| {
            weights_error(
                path,
                Some(&t.name),
                format!(
                    "tensor `{}` is missing (expected shape {:?})",
                    t.name, t.shape
                ),
            )
        })?;
        out[t.range()].copy_from_slice(&v);
    }
    let mut found = Vec::new();
    for t in buffers {
        if let Some(v) = read(t)? {
            found.push((t.clone(), v));
        }
    }
    Ok(Loaded {
        params: out,
        buffers: found,
    })
}

/// Writes `params` (laid out as `layout`) and the buffers (`buffer_layout`, values
/// `buffer_values`, plus each batch norm's `num_batches_tracked = batches`) to `path`.
pub fn save(
    path: &Path,
    layout: &[NamedTensor],
    params: &[f32],
    buffer_layout: &[NamedTensor],
    buffer_values: &[f32],
    batches: u64,
) -> Result<(), ModelError> {
    let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut blobs: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for t in layout {
        blobs.push((
            t.name.clone(),
            Dtype::F32,
            t.shape.clone(),
            le(&params[t.range()]),
        ));
    }
    for t in buffer_layout {
        blobs.push((
            t.name.clone(),
            Dtype::F32,
            t.shape.clone(),
            le(&buffer_values[t.range()]),
        ));
        if let Some(prefix) = t.name.strip_suffix("running_var") {
            let counter = (batches as i64).to_le_bytes().to_vec();
            blobs.push((
                format!("{prefix}{BATCHES_TRACKED}"),
                Dtype::I64,
                vec![],
                counter,
            ));
        }
    }
    let views = blobs
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| weights_error(path, None, format!("cannot encode: {e}")))?;
    // One metadata entry only: safetensors writes the metadata map in the HashMap's iteration
    // order, which differs between processes, and the same weights must give the same bytes.
    let info = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(info), path).map_err(|e| match e {
        safetensors::SafeTensorError::IoError(source) => ModelError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => weights_error(path, None, format!("cannot write: {other}")),
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: exact copies
mod tests {
    use super::*;

    fn tensor(name: &str, shape: &[usize], offset: usize, module: &'static str) -> NamedTensor {
        NamedTensor {
            name: name.into(),
            shape: shape.to_vec(),
            offset,
            module,
        }
    }

    #[test]
    fn round_trip_and_errors_name_the_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let layout = vec![
            tensor("conv1.weight", &[2, 1, 1, 1], 0, "Conv2d"),
            tensor("bn1.weight", &[2], 2, "BatchNorm2d"),
            tensor("bn1.bias", &[2], 4, "BatchNorm2d"),
        ];
        let buffers = vec![
            tensor("bn1.running_mean", &[2], 0, "BatchNorm2d"),
            tensor("bn1.running_var", &[2], 2, "BatchNorm2d"),
        ];
        let params = [1.0, -2.0, 0.5, 0.25, 1e-8, 3.0];
        save(&path, &layout, &params, &buffers, &[0.1, 0.2, 0.9, 1.1], 7).unwrap();
        let loaded = load(&path, &layout, &buffers).unwrap();
        assert_eq!(loaded.params, params);
        assert_eq!(loaded.buffers[1].1, [0.9, 1.1]);
        // The file is a state_dict: the step counter is there as i64.
        let bytes = std::fs::read(&path).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let tracked = st.tensor("bn1.num_batches_tracked").unwrap();
        assert_eq!(
            (tracked.dtype(), tracked.data()),
            (Dtype::I64, &7i64.to_le_bytes()[..])
        );

        // A network with another shape, an extra tensor, a missing one.
        let mut wide = layout.clone();
        wide[0].shape = vec![2, 1, 3, 3];
        let e = load(&path, &wide, &buffers).unwrap_err().to_string();
        assert!(
            e.contains("`conv1.weight` has shape [2, 1, 1, 1], expected [2, 1, 3, 3]"),
            "{e}"
        );
        let e = load(&path, &layout[..2], &buffers).unwrap_err().to_string();
        assert!(e.contains("`bn1.bias` is not a parameter"), "{e}");
        let mut more = layout.clone();
        more.push(tensor("linear.weight", &[3, 2], 6, "Linear"));
        let e = load(&path, &more, &buffers).unwrap_err().to_string();
        assert!(
            e.contains("`linear.weight` is missing (expected shape [3, 2])"),
            "{e}"
        );
        let e = load(&dir.path().join("none"), &layout, &buffers).unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }));
    }
}
