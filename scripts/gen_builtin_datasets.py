#!/usr/bin/env python3
"""Writes the built-in datasets of optbench-models into crates/models/data/ as gzip CSV files.

Run from the repository root:

    python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-datasets.txt
    .venv/bin/python scripts/gen_builtin_datasets.py [--linfa-data DIR]

Every value is copied as the text its source writes it (no number is parsed and printed again),
so the files hold exactly the published values. The output is byte-for-byte deterministic (gzip
level 9, no file name, modification time 0): running the script again must leave `git status`
clean. The Rust crate reads these files; building and testing it never needs Python.

Sources (see crates/models/data/README.md for the citations and licences):

- iris.csv.gz: UCI "Iris" (Fisher 1936) as the UCI repository distributes it, i.e. with its two
  known differences from Fisher's table (samples 35 and 38). Read from linfa-datasets 0.8.1's
  copy (data/iris.csv.gz in the crate on crates.io; found under ~/.cargo/registry when the crate
  was ever fetched) or from UCI's iris.data (`--iris FILE`, class names mapped to 0, 1, 2).
- winequality-red.csv.gz: UCI "Wine Quality", red wines (Cortez et al. 2009), from linfa-datasets
  0.8.1's copy or from UCI's winequality-red.csv (`--wine FILE`, ';'-separated).
- diabetes.csv.gz: the diabetes data of Efron, Hastie, Johnstone & Tibshirani (2004), unscaled,
  from scikit-learn's bundled copy (sklearn/datasets/data/diabetes_data_raw.csv.gz and
  diabetes_target.csv.gz; `load_diabetes(scaled=False)`), 442 rows.
- digits.csv.gz: UCI "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak 1998), the
  1,797 8x8 images that scikit-learn bundles (sklearn/datasets/data/digits.csv.gz; `load_digits`).
"""

import argparse
import csv
import glob
import gzip
import hashlib
import io
import os
import sys

OUT = os.path.join("crates", "models", "data")

IRIS_HEADER = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
IRIS_CLASSES = {"Iris-setosa": "0", "Iris-versicolor": "1", "Iris-virginica": "2"}
DIABETES_HEADER = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression"]


def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def write_gz_csv(name, header, rows):
    """Writes header + rows (lists of strings) as gzip CSV, deterministically."""
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        if len(r) != len(header):
            sys.exit(f"{name}: a row has {len(r)} cells, the header {len(header)}: {r}")
        w.writerow(r)
    data = text.getvalue().encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    digest = hashlib.sha256(data).hexdigest()[:16]
    print(f"{path}: {len(rows)} rows, {len(buf.getvalue())} bytes, csv sha256 {digest}")


def iris(path):
    lines = [l.strip() for l in read_text(path).splitlines() if l.strip()]
    if lines[0].startswith("sepal"):  # linfa-datasets' copy: header, numeric labels
        rows = [l.split(",") for l in lines[1:]]
    else:  # UCI's iris.data
        rows = [l.split(",")[:4] + [IRIS_CLASSES[l.split(",")[4]]] for l in lines]
    write_gz_csv("iris.csv.gz", IRIS_HEADER, rows)


def wine(path):
    text = read_text(path)
    sep = ";" if ";" in text.splitlines()[0] else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    header = [h.replace(" ", "_") for h in rows[0]]
    write_gz_csv("winequality-red.csv.gz", header, [r for r in rows[1:] if r])


def sklearn_data_dir():
    import sklearn.datasets

    return os.path.join(os.path.dirname(sklearn.datasets.__file__), "data")


def diabetes():
    d = sklearn_data_dir()
    x = [l.split() for l in read_text(os.path.join(d, "diabetes_data_raw.csv.gz")).splitlines()]
    y = [l.strip() for l in read_text(os.path.join(d, "diabetes_target.csv.gz")).splitlines()]
    x = [r for r in x if r]
    y = [v for v in y if v]
    if len(x) != len(y):
        sys.exit(f"diabetes: {len(x)} feature rows, {len(y)} targets")
    # Targets are written as "1.510000000000000000e+02": integers; keep them as such.
    y = [str(int(float(v))) if float(v) == int(float(v)) else v for v in y]
    write_gz_csv("diabetes.csv.gz", DIABETES_HEADER, [r + [t] for r, t in zip(x, y)])


def digits():
    d = sklearn_data_dir()
    rows = [l.split(",") for l in read_text(os.path.join(d, "digits.csv.gz")).splitlines() if l]
    header = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)] + ["digit"]
    write_gz_csv("digits.csv.gz", header, rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    found = sorted(
        glob.glob(os.path.expanduser("~/.cargo/registry/src/*/linfa-datasets-0.8.1/data"))
    )
    ap.add_argument("--linfa-data", default=found[0] if found else None,
                    help="linfa-datasets 0.8.1's data/ folder (default: found in ~/.cargo)")
    ap.add_argument("--iris", help="UCI iris.data (default: linfa-datasets' iris.csv.gz)")
    ap.add_argument("--wine", help="UCI winequality-red.csv (default: linfa-datasets' copy)")
    args = ap.parse_args()
    if not os.path.isdir(OUT):
        sys.exit(f"run from the repository root ({OUT} not found)")
    src = args.linfa_data
    iris_path = args.iris or (src and os.path.join(src, "iris.csv.gz"))
    wine_path = args.wine or (src and os.path.join(src, "winequality-red.csv.gz"))
    if not iris_path or not wine_path:
        sys.exit("no source for iris / wine quality: pass --iris and --wine, or --linfa-data")
    iris(iris_path)
    wine(wine_path)
    diabetes()
    digits()


if __name__ == "__main__":
    main()
