//! The context of an expansion: the file and its positions, the overrides applied, and the
//! crossing of an entry's keys into variants. Every error of the expansion is made here, so it
//! names the file, the position, the entry and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use optbench_models::TableReader;
use serde_json::{Map, Value};

use super::MAX_RUNS;
use super::axes::expand_value;
use crate::error::ExperimentError;
use crate::experiment::{Entry, Issue, describe_value};
use crate::yaml::{Document, KeyPath, Seg};

/// One combination of an entry's keys, with the path each key came from (for messages).
#[derive(Clone, Debug, Default)]
pub(super) struct Variant {
    pub(super) keys: Map<String, Value>,
    pub(super) sources: BTreeMap<String, KeyPath>,
}

/// The file being expanded, its positions and the overrides applied.
pub(super) struct Context<'a> {
    pub(super) file: &'a Path,
    /// The file's folder: relative data paths resolve against it.
    pub(super) base_dir: PathBuf,
    pub(super) doc: &'a Document,
    pub(super) overrides: &'a [(KeyPath, String)],
    /// Reads Parquet datasets (optbench-results provides one).
    pub(super) tables: &'a dyn TableReader,
}

impl Context<'_> {
    /// An error about an issue found by [`crate::experiment`].
    pub(super) fn issue(&self, i: Issue) -> ExperimentError {
        self.error(&i.path, i.message)
    }

    /// An error about the node at `path`: entry and key from the path, position from the text
    /// (none when the value came from `--set`).
    pub(super) fn error(&self, path: &KeyPath, message: impl Into<String>) -> ExperimentError {
        let message = message.into();
        let segs = &path.0;
        let (entry, key_start) = match segs.as_slice() {
            [Seg::Key(list), Seg::Index(i), ..] if list == "problems" || list == "optimizers" => {
                let item = &self.doc.value[list.as_str()][*i];
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .or_else(|| item.as_str());
                let e = match name {
                    Some(n) => format!("{list}[{i}] ({n})"),
                    None => format!("{list}[{i}]"),
                };
                (Some(e), 2)
            }
            [Seg::Key(k), Seg::Index(i), ..] => (Some(format!("{k}[{i}]")), 2),
            [Seg::Key(k), ..] => (Some(k.clone()), 1),
            _ => (None, 0),
        };
        let key = (segs.len() > key_start).then(|| KeyPath(segs[key_start..].to_vec()).to_string());
        let key = key.map(|k| k.trim_start_matches('.').to_string());
        if let Some((_, o)) = self.overrides.iter().find(|(p, _)| path.starts_with(p)) {
            return ExperimentError {
                file: self.file.to_path_buf(),
                position: None,
                entry: Some(match entry {
                    Some(e) => format!("{e} (set by --set {o})"),
                    None => format!("--set {o}"),
                }),
                key,
                message,
            };
        }
        ExperimentError {
            file: self.file.to_path_buf(),
            position: self.doc.locate(path),
            entry,
            key,
            message,
        }
    }

    /// Crosses an entry's keys and zip groups into its variants; `extra` are keys inherited
    /// from elsewhere (the top-level `schedule`) unless the entry sets them.
    pub(super) fn variants(
        &self,
        entry: &Entry,
        extra: &[(String, Value, KeyPath)],
        list_valued: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Variant>, ExperimentError> {
        let mut out = vec![Variant::default()];
        let mut keys: Vec<(String, Value, KeyPath)> = entry
            .keys
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), entry.path.key(k)))
            .collect();
        for (k, v, p) in extra {
            if !entry.keys.contains_key(k) && !entry.zip.iter().any(|g| g.keys.contains_key(k)) {
                keys.push((k.clone(), v.clone(), p.clone()));
            }
        }
        for (k, v, p) in keys {
            let vals = expand_value(&v, list_valued(&k))
                .map_err(|m| self.error(&p, format!("`{k}` {m}")))?;
            if out.len().saturating_mul(vals.len()) > MAX_RUNS {
                return Err(self.error(&p, format!("the grid has more than {MAX_RUNS} variants")));
            }
            out = out
                .into_iter()
                .flat_map(|var| {
                    vals.iter().map({
                        let k = k.clone();
                        let p = p.clone();
                        move |x| {
                            let mut var = var.clone();
                            var.keys.insert(k.clone(), x.clone());
                            var.sources.insert(k.clone(), p.clone());
                            var
                        }
                    })
                })
                .collect();
        }
        for g in &entry.zip {
            let mut next = Vec::with_capacity(out.len() * g.len);
            for var in &out {
                for i in 0..g.len {
                    let mut var = var.clone();
                    for (k, list) in &g.keys {
                        var.keys.insert(k.clone(), list[i].clone());
                        var.sources.insert(k.clone(), g.path.key(k));
                    }
                    next.push(var);
                }
            }
            out = next;
        }
        Ok(out)
    }

    /// An integer ≥ `min` (integral floats such as `1e3` accepted).
    pub(super) fn count(
        &self,
        path: &KeyPath,
        key: &str,
        v: &Value,
        min: u64,
    ) -> Result<u64, ExperimentError> {
        let n = v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15)
                .map(|x| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let n = x as u64;
                    n
                })
        });
        match n {
            Some(n) if n >= min => Ok(n),
            _ => Err(self.error(
                path,
                format!(
                    "`{key}` must be an integer ≥ {min}, found {}",
                    describe_value(v)
                ),
            )),
        }
    }

    /// How many variants [`Self::variants`] will make of `entry`, computed from the lengths of
    /// its axes without crossing them (saturating), so that an oversized grid is rejected before
    /// any work.
    pub(super) fn variant_count(
        &self,
        entry: &Entry,
        extra: &[(String, Value, KeyPath)],
        list_valued: &dyn Fn(&str) -> bool,
    ) -> Result<usize, ExperimentError> {
        let mut n = 1usize;
        let own = entry.keys.iter().map(|(k, v)| (k, v, entry.path.key(k)));
        let inherited = extra
            .iter()
            .filter(|(k, ..)| {
                !entry.keys.contains_key(k) && !entry.zip.iter().any(|g| g.keys.contains_key(k))
            })
            .map(|(k, v, p)| (k, v, p.clone()));
        for (k, v, p) in own.chain(inherited) {
            let vals = expand_value(v, list_valued(k))
                .map_err(|m| self.error(&p, format!("`{k}` {m}")))?;
            n = n.saturating_mul(vals.len());
        }
        for g in &entry.zip {
            n = n.saturating_mul(g.len);
        }
        Ok(n)
    }
}
