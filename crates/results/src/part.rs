//! Part files: one finished run, written atomically and durably as it finishes, read back bit for
//! bit.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::atomic::write_atomic;
use crate::error::{ResultsError, io_err};
use crate::record::{MetricRow, RunOutcome, RunStatus};
use crate::schema::{METRICS_COLUMNS, part_path};

/// The optional (nullable) columns of a metric row: those of `metrics.parquet` after the
/// first five.
pub(crate) const OPTIONAL_COLUMNS: usize = METRICS_COLUMNS.len() - 5;

//
// Binary, little-endian, exact (floats as their bits, so a resumed sweep is bit-identical):
//   magic b"OBPART01"
//   str run_id | u8 status | u8 has_error [str error] | u64 steps | f64 epochs
//   | u8 has_train_len [u64 train_len] | f64 wall_time_s | u64 n_rows
//   n_rows × ( u64 step | f64 epoch | u64 examples_seen | f64 wall_time_s
//              | u16 presence bits of the 10 optional columns (bit k: `optional_values`[k])
//              | the present f64 values )
//   magic b"OBPARTEND"
// where str is u64 length + UTF-8 bytes.

const PART_MAGIC: &[u8; 8] = b"OBPART01";
const PART_END: &[u8; 9] = b"OBPARTEND";

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}
fn put_f64(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}
fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_u64(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Serialises an outcome into the part-file format.
pub fn encode_part(outcome: &RunOutcome) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128 + outcome.metrics.len() * 112);
    buf.extend_from_slice(PART_MAGIC);
    put_str(&mut buf, &outcome.run_id);
    buf.push(outcome.status.code());
    match &outcome.error {
        Some(e) => {
            buf.push(1);
            put_str(&mut buf, e);
        }
        None => buf.push(0),
    }
    put_u64(&mut buf, outcome.steps);
    put_f64(&mut buf, outcome.epochs);
    match outcome.train_len {
        Some(n) => {
            buf.push(1);
            put_u64(&mut buf, n);
        }
        None => buf.push(0),
    }
    put_f64(&mut buf, outcome.wall_time_s);
    put_u64(&mut buf, outcome.metrics.len() as u64);
    for row in &outcome.metrics {
        put_u64(&mut buf, row.step);
        put_f64(&mut buf, row.epoch);
        put_u64(&mut buf, row.examples_seen);
        put_f64(&mut buf, row.wall_time_s);
        let opts = optional_values(row);
        let mut bits = 0u16;
        for (k, v) in opts.iter().enumerate() {
            if v.is_some() {
                bits |= 1 << k;
            }
        }
        buf.extend_from_slice(&bits.to_le_bytes());
        for v in opts.iter().flatten() {
            put_f64(&mut buf, *v);
        }
    }
    buf.extend_from_slice(PART_END);
    buf
}

/// The optional values of a row, in the order of `METRICS_COLUMNS[5..]` and of a part file's
/// presence bits (`train_accuracy`, added last, is absent from older part files).
pub(crate) fn optional_values(row: &MetricRow) -> [Option<f64>; OPTIONAL_COLUMNS] {
    [
        row.lr,
        row.train_loss,
        row.batch_loss,
        row.test_loss,
        row.test_accuracy,
        row.grad_norm,
        row.update_norm,
        row.x0,
        row.x1,
        row.train_accuracy,
    ]
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn str(&mut self) -> Result<String, String> {
        let n = usize::try_from(self.u64()?).map_err(|e| e.to_string())?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
    }
    fn flag(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("bad flag byte {b} at byte {}", self.pos - 1)),
        }
    }
}

/// Parses the part-file format written by [`encode_part`].
pub fn decode_part(buf: &[u8]) -> Result<RunOutcome, String> {
    let mut c = Cursor { buf, pos: 0 };
    if c.take(PART_MAGIC.len())? != PART_MAGIC {
        return Err("not an optbench part file (bad magic)".into());
    }
    let run_id = c.str()?;
    let status = RunStatus::from_code(c.u8()?).ok_or("bad status code")?;
    let error = if c.flag()? { Some(c.str()?) } else { None };
    let steps = c.u64()?;
    let epochs = c.f64()?;
    let train_len = if c.flag()? { Some(c.u64()?) } else { None };
    let wall_time_s = c.f64()?;
    let n = usize::try_from(c.u64()?).map_err(|e| e.to_string())?;
    // Each row takes at least 34 bytes: refuse absurd counts before allocating.
    if n > buf.len() / 34 {
        return Err(format!("row count {n} does not fit the file"));
    }
    let mut metrics = Vec::with_capacity(n);
    for _ in 0..n {
        let step = c.u64()?;
        let epoch = c.f64()?;
        let examples_seen = c.u64()?;
        let wall = c.f64()?;
        let bits = c.u16()?;
        let mut vals = [None; OPTIONAL_COLUMNS];
        for (k, v) in vals.iter_mut().enumerate() {
            if bits & (1 << k) != 0 {
                *v = Some(c.f64()?);
            }
        }
        metrics.push(MetricRow {
            step,
            epoch,
            examples_seen,
            wall_time_s: wall,
            lr: vals[0],
            train_loss: vals[1],
            batch_loss: vals[2],
            test_loss: vals[3],
            test_accuracy: vals[4],
            grad_norm: vals[5],
            update_norm: vals[6],
            x0: vals[7],
            x1: vals[8],
            train_accuracy: vals[9],
        });
    }
    if c.take(PART_END.len())? != PART_END {
        return Err("bad end marker".into());
    }
    if c.pos != buf.len() {
        return Err("trailing bytes after the end marker".into());
    }
    Ok(RunOutcome {
        run_id,
        status,
        error,
        steps,
        epochs,
        train_len,
        wall_time_s,
        metrics,
    })
}

/// Writes the part file of a finished run into `<dir>/parts/` (atomically and durably: see
/// [`crate::atomic`]).
pub fn write_part(dir: &Path, outcome: &RunOutcome) -> Result<(), ResultsError> {
    write_atomic(&part_path(dir, &outcome.run_id), &encode_part(outcome))
}

/// Reads a part file.
pub fn read_part(path: &Path) -> Result<RunOutcome, ResultsError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|f| BufReader::new(f).read_to_end(&mut buf))
        .map_err(io_err(path))?;
    decode_part(&buf).map_err(|message| ResultsError::CorruptPart {
        path: path.to_path_buf(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> RunOutcome {
        RunOutcome {
            run_id: "abc".into(),
            status: RunStatus::Diverged,
            error: Some("boom ü".into()),
            steps: 7,
            epochs: 0.5,
            train_len: Some(14),
            wall_time_s: 0.25,
            metrics: vec![
                MetricRow {
                    step: 0,
                    lr: Some(0.1),
                    train_loss: Some(3.0),
                    x0: Some(-1.5),
                    x1: Some(2.0),
                    ..MetricRow::default()
                },
                MetricRow {
                    step: 7,
                    epoch: 0.5,
                    examples_seen: 7,
                    wall_time_s: 0.2,
                    lr: Some(0.1),
                    train_loss: Some(f64::NAN),
                    batch_loss: Some(f64::INFINITY),
                    test_loss: None,
                    test_accuracy: None,
                    grad_norm: Some(-0.0),
                    update_norm: Some(1e300),
                    x0: Some(f64::NEG_INFINITY),
                    x1: None,
                    train_accuracy: Some(0.25),
                },
            ],
        }
    }

    fn bits(o: &RunOutcome) -> Vec<Vec<Option<u64>>> {
        o.metrics
            .iter()
            .map(|r| {
                let mut v = vec![Some(r.step), Some(r.epoch.to_bits()), Some(r.examples_seen)];
                v.extend(optional_values(r).iter().map(|x| x.map(f64::to_bits)));
                v
            })
            .collect()
    }

    #[test]
    fn part_roundtrip_is_bit_exact() {
        let o = outcome();
        let back = decode_part(&encode_part(&o)).unwrap();
        assert_eq!(back.run_id, o.run_id);
        assert_eq!(back.status, o.status);
        assert_eq!(back.error, o.error);
        assert_eq!(back.steps, 7);
        assert_eq!(back.train_len, Some(14));
        assert_eq!(bits(&back), bits(&o));
    }

    #[test]
    fn truncated_or_foreign_parts_are_rejected() {
        let bytes = encode_part(&outcome());
        for cut in [0, 5, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode_part(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_part(&extra).is_err());
        assert!(decode_part(b"PAR1 not a part file at all").is_err());
    }
}
