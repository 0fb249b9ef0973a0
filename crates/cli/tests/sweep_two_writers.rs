//! One writer per run, whoever starts it: two `optbench run` processes on one results folder
//! (no shards: a job resubmitted while the old one still runs) split the plan between them.
//! The runs they report having run add up to exactly the plan, the part files are the plan,
//! and both end with the complete, identical results.

mod sweep_process;

use optbench_testkit as common;
use sweep_process::optbench_run;

use std::process::Output;
use std::time::Duration;

use optbench_results::{self as results, read_metrics, read_runs};

/// 32 runs of about a tenth of a second each: long enough that the second process, started
/// once the first has finished one run, still finds runs to claim on an idle machine.
const EXPERIMENT: &str = "\
name: two-writers
seeds: 4
problems:
  - name: rosenbrock
  - name: quadratic
train:
  steps: 200000
  batch_size: full
  eval_every: 20000
optimizers:
  - name: sgd
    lr: [1.0e-5, 2.0e-5]
  - name: adam
    lr: [1.0e-3, 2.0e-3]
";

/// The `N run here` and `M run by another process` counts of the summary line.
fn counts(o: &Output) -> (usize, usize) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains(" run here"))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    let before = |tag: &str| -> usize {
        line.find(tag).map_or(0, |at| {
            line[..at]
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
    };
    (before(" run here"), before(" run by another process"))
}

#[test]
fn two_processes_on_one_folder_run_every_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("two.yaml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let one = tmp.path().join("one");
    let shared = tmp.path().join("shared");
    let o = optbench_run(&file, &one, 2).output().unwrap();
    let (ran, _) = counts(&o);
    assert_eq!(ran, 32);

    let first = optbench_run(&file, &shared, 2).spawn().unwrap();
    // Start the second once the first is under way (one run finished), whatever the load.
    let parts = shared.join("parts");
    for _ in 0..6000 {
        let started = std::fs::read_dir(&parts).is_ok_and(|mut d| d.next().is_some());
        if started {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = optbench_run(&file, &shared, 2).spawn().unwrap();
    let a = first.wait_with_output().unwrap();
    let b = second.wait_with_output().unwrap();
    let (ran_a, others_a) = counts(&a);
    let (ran_b, others_b) = counts(&b);
    eprintln!("first ran {ran_a} (others {others_a}), second ran {ran_b} (others {others_b})");
    assert_eq!(ran_a + ran_b, 32, "runs done twice or not at all");
    assert!(
        ran_b > 0,
        "the second process did nothing: start it earlier"
    );
    // The first started on an empty folder: what it did not run, the second ran.
    assert_eq!(others_a, ran_b);
    assert!(others_b <= ran_a);

    let names: Vec<String> = std::fs::read_dir(shared.join(results::PARTS_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        32,
        "parts, and no claim or temporary file: {names:?}"
    );
    assert!(names.iter().all(|n| n.ends_with(".part")), "{names:?}");
    for f in [read_runs, read_metrics] {
        assert_eq!(
            common::fingerprint(&f(&one).unwrap()),
            common::fingerprint(&f(&shared).unwrap())
        );
    }
}
