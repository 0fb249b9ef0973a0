//! A full disk, end to end: a real `optbench run` writes into a 48 KiB tmpfs (mounted in a
//! private mount namespace with `unshare`, so nothing outside the test sees it) and runs out of
//! space after a few part files. It must exit with the I/O code (4) and a message naming the
//! file it could not write and the cause (`No space left on device`), leave no temporary file
//! behind, and, once the file system has room again (`mount -o remount,size=…`), the same
//! command must resume and produce the results of a sweep that never failed, bit for bit.
//!
//! Skipped with a note where `unshare -rm` cannot make a mount namespace (no user namespaces,
//! no `unshare`, not Linux).

use optbench_testkit as common;

use std::process::Command;

use optbench_results::{read_metrics, read_runs};

/// 24 runs of a few ms each; every part file takes a page of the tmpfs.
const EXPERIMENT: &str = "\
name: full-disk
seeds: 4
problems:
  - name: rosenbrock
  - name: quadratic
train:
  steps: 200
  batch_size: full
  eval_every: 20
optimizers:
  - name: sgd
    lr: [1.0e-5, 2.0e-5]
  - name: adam
    lr: 1.0e-3
";

fn can_unshare() -> bool {
    Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            "mount -t tmpfs -o size=8k tmpfs /tmp 2>/dev/null",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_full_disk_exits_with_the_io_code_naming_the_file_and_the_sweep_resumes() {
    if !can_unshare() {
        eprintln!("NOTE: `unshare -rm` cannot mount a tmpfs here: full-disk test skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let file = root.join("full.yaml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let bin = env!("CARGO_BIN_EXE_optbench");

    let whole = root.join("whole");
    let o = Command::new(bin)
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&whole)
        .args(["--jobs", "1", "--no-plots"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // In the namespace: mount a tiny tmpfs, run (it fills up), list what is left, give the file
    // system room, run again, copy the results out.
    let disk = root.join("disk");
    let kept = root.join("kept");
    std::fs::create_dir_all(&disk).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    let script = r#"
        set -u
        mount -t tmpfs -o size=48k tmpfs "$DISK" || exit 90
        "$BIN" run "$FILE" --out "$DISK/out" --jobs 1 --no-plots 2>"$KEPT/first.log"
        echo $? >"$KEPT/first.code"
        ls -A "$DISK/out" "$DISK/out/parts" >"$KEPT/left.txt"
        mount -o remount,size=16m "$DISK" || exit 91
        "$BIN" run "$FILE" --out "$DISK/out" --jobs 1 --no-plots 2>"$KEPT/second.log"
        echo $? >"$KEPT/second.code"
        cp "$DISK/out/runs.parquet" "$DISK/out/metrics.parquet" "$KEPT/"
    "#;
    let status = Command::new("unshare")
        .args(["-rm", "sh", "-c", script])
        .env("DISK", &disk)
        .env("KEPT", &kept)
        .env("BIN", bin)
        .env("FILE", &file)
        .status()
        .unwrap();
    assert!(status.success(), "namespace script: {status}");
    let read = |name: &str| std::fs::read_to_string(kept.join(name)).unwrap();

    let first = read("first.log");
    assert_eq!(read("first.code").trim(), "4", "{first}");
    assert!(first.contains("No space left on device"), "{first}");
    assert!(
        first.contains(&disk.join("out").display().to_string()),
        "the message names the file: {first}"
    );
    assert!(first.contains("run the same command again"), "{first}");
    let left = read("left.txt");
    let names: Vec<&str> = left
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with(':'))
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with(".part")) && !names.iter().any(|n| n.starts_with('.')),
        "finished parts stay, no temporary file or claim: {left}"
    );

    let second = read("second.log");
    assert_eq!(read("second.code").trim(), "0", "{second}");
    assert!(second.contains("kept from an earlier sweep"), "{second}");
    assert_eq!(
        common::fingerprint(&read_runs(&whole).unwrap()),
        common::fingerprint(&read_runs(&kept).unwrap())
    );
    assert_eq!(
        common::fingerprint(&read_metrics(&whole).unwrap()),
        common::fingerprint(&read_metrics(&kept).unwrap())
    );
}
