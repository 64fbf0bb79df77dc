"""bench.results: records and per-sample scores as tidy pandas DataFrames."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results
from bench.errors import BenchError
from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit

METRICS = ("accuracy", "roc-auc")


def _run(tmp_path, method):
    unit = Unit(task="consonant-voicing", method=method, dataset="toy-segments", split="test",
                metrics=METRICS, runs_dir=str(tmp_path), bootstrap=50)
    return read_record(Path(run_unit(unit)))


def test_record_level_matches_the_records(tmp_path, toy_registries):
    recs = {m: _run(tmp_path, m) for m in ("toy-zcr", "toy-flaky")}
    df = results.load(tmp_path)
    assert list(df.columns) == results.RECORD_COLUMNS
    assert len(df) == 4 and set(df["method"]) == set(recs)
    for method, rec in recs.items():
        for metric in METRICS:
            row = df[(df.method == method) & (df.metric == metric)].iloc[0]
            m = rec["metrics"][metric]
            assert row.value == m["value"] and [row.ci_low, row.ci_high] == m["ci"]
            assert (row.n_scored, row.n_total, row.status) == (m["n_scored"], m["n_total"],
                                                               m["status"])
    wide = df.pivot_table(index="method", columns="metric", values="value")
    assert wide.loc["toy-flaky", "accuracy"] == recs["toy-flaky"]["metrics"]["accuracy"]["value"]


def test_sample_level_gives_back_the_aggregate(tmp_path, toy_registries):
    rec = _run(tmp_path, "toy-zcr")
    df = results.load(tmp_path, level="sample")
    assert list(df.columns) == results.SAMPLE_COLUMNS
    acc = df[df.metric == "accuracy"].pivot(index="sample", columns="field", values="value")
    assert len(acc) == rec["metrics"]["accuracy"]["n_scored"] == 30
    recomputed = ((acc["p"] >= 0.5).astype(int) == acc["y"]).mean()
    assert recomputed == pytest.approx(rec["metrics"]["accuracy"]["value"])


def test_bad_inputs_name_the_problem(tmp_path, toy_registries):
    with pytest.raises(BenchError, match="does not exist"):
        results.load(tmp_path / "nope")
    with pytest.raises(BenchError, match="level must be"):
        results.load(tmp_path, level="unit")
    _run(tmp_path, "toy-zcr")
    samples = next(tmp_path.glob("records/**/*.samples.jsonl"))
    samples.unlink()
    with pytest.raises(BenchError, match="per-sample scores missing"):
        results.load(tmp_path, level="sample")
    assert len(results.load(tmp_path)) == 2
