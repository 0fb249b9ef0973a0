use super::*;

fn entry(commit: &str, median: f64) -> HistoryEntry {
    let mut labels = BTreeMap::new();
    labels.insert("runner".to_string(), "linux".to_string());
    HistoryEntry {
        provenance: Provenance {
            commit: commit.into(),
            date: "2026-01-02T03:04:05Z".into(),
            experiment: "ci".into(),
            rustc: "rustc 1.95.0".into(),
            cpu: "AMD EPYC".into(),
            arch: "x86_64".into(),
            os: "linux".into(),
            optbench_version: "0.1.0".into(),
            labels,
        },
        rows: vec![
            HistoryRow {
                series_id: "s1".into(),
                cell_id: "c1".into(),
                problem: "quadratic".into(),
                dataset: None,
                optimizer: "adam".into(),
                label: "adam lr=0.1".into(),
                metric: "final_train_loss".into(),
                median: Some(median),
                q25: Some(median - 1.0),
                q75: Some(median + 1.0),
                n: 3,
                runs: 4,
                diverged: 1,
                failed: 0,
            },
            HistoryRow {
                series_id: "s2".into(),
                cell_id: "c2".into(),
                problem: "mlp".into(),
                dataset: Some("iris".into()),
                optimizer: "sgd".into(),
                label: "sgd".into(),
                metric: "final_test_accuracy".into(),
                median: None,
                q25: None,
                q75: None,
                n: 0,
                runs: 2,
                diverged: 0,
                failed: 2,
            },
        ],
    }
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let e = entry("abc123", 2.5);
    let path = write_entry(dir.path(), &e, false).unwrap();
    assert_eq!(path, dir.path().join("abc123.parquet"));
    assert_eq!(read_entry(&path).unwrap(), e);
    assert_eq!(list_entries(dir.path()).unwrap(), vec![path]);
}

#[test]
fn same_commit_is_refused_unless_replaced() {
    let dir = tempfile::tempdir().unwrap();
    write_entry(dir.path(), &entry("abc1234", 1.0), false).unwrap();
    // The same name, and the full SHA of the same commit.
    for commit in ["abc1234", "abc1234def"] {
        let err = write_entry(dir.path(), &entry(commit, 2.0), false).unwrap_err();
        assert!(matches!(err, HistoryStoreError::Exists { .. }), "{err}");
    }
    let only = list_entries(dir.path()).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(read_entry(&only[0]).unwrap().rows[0].median, Some(1.0));
    // Names that are not SHAs, or shorter than 7 digits, are compared exactly.
    write_entry(dir.path(), &entry("abc", 3.0), false).unwrap();
    std::fs::remove_file(entry_path(dir.path(), "abc")).unwrap();
    // Replacing under a longer name removes the abbreviated file.
    let p = write_entry(dir.path(), &entry("abc1234def", 2.0), true).unwrap();
    assert_eq!(list_entries(dir.path()).unwrap(), vec![p.clone()]);
    assert_eq!(read_entry(&p).unwrap().rows[0].median, Some(2.0));
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn same_commit_names() {
    assert!(same_commit("c1", "c1"));
    assert!(!same_commit("c1", "c10"));
    assert!(same_commit("0123abc", "0123abcdef"));
    assert!(!same_commit("0123ab", "0123abcdef"));
    assert!(!same_commit("v1.2.3x", "v1.2.3xyz"));
}

#[test]
fn bad_commits_are_refused() {
    for c in ["", ".hidden", "a/b", "a b", &"x".repeat(101)] {
        assert!(check_commit(c).is_err(), "{c}");
    }
    check_commit("v1.2.3_rc-1").unwrap();
}

#[test]
fn other_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".x.parquet.tmp-1-1"), b"partial").unwrap();
    fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    fs::create_dir(dir.path().join("report.parquet")).unwrap();
    assert!(list_entries(dir.path()).unwrap().is_empty());
    assert!(
        list_entries(&dir.path().join("missing"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_foreign_parquet_file_is_a_schema_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.parquet");
    let mut df = DataFrame::new(1, vec![Column::new("a".into(), [1i64])]).unwrap();
    ParquetWriter::new(File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    assert!(matches!(
        read_entry(&path),
        Err(HistoryStoreError::Schema { .. })
    ));
}
