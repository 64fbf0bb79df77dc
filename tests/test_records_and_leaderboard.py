"""Record schema migration, leaderboard tables and renderers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bench.reporting.leaderboard import build_tables
from bench.execution.records import SCHEMA_VERSION, RecordError, read_record
from bench.reporting.reporters import csv as csv_rep
from bench.reporting.reporters import html as html_rep
from bench.reporting.reporters import markdown as md_rep
from bench.execution.runner import Unit, run_unit

METRICS = ("accuracy", "roc-auc")


def test_version_1_records_still_load(tmp_path):
    old = {"schema_version": 1, "task": {"name": "consonant-voicing", "version": "1.0"},
           "dataset": {"name": "d", "split": "test", "n_samples": 10},
           "method": {"name": "m", "version": "1"},
           "metrics": {"accuracy": {"value": 0.9, "ci": [0.8, 0.95], "n": 10}}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    rec = read_record(path)
    assert rec["schema_version"] == SCHEMA_VERSION
    assert rec["metrics"]["accuracy"]["n_scored"] == 10
    assert rec["metrics"]["accuracy"]["ci"] == [0.8, 0.95]


def test_unknown_schema_and_garbage_are_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(RecordError, match="schema_version 99"):
        read_record(path)
    path.write_text("{not json")
    with pytest.raises(RecordError, match=str(path)):
        read_record(path)


@pytest.fixture
def runs(tmp_path, toy_registries):
    for method in ("toy-zcr", "toy-flaky", "toy-nan", "toy-coin"):
        run_unit(Unit(task="consonant-voicing", method=method, dataset="toy-segments",
                      split="test", metrics=METRICS, runs_dir=str(tmp_path), bootstrap=100))
    return tmp_path


def test_tables_mark_best_partial_and_failed(runs):
    (table,) = build_tables(runs)
    assert (table.task, table.dataset, table.split) == ("consonant-voicing", "toy-segments", "test")
    assert [m for m, _ in table.metrics] == list(METRICS)
    by = {r.method: r for r in table.rows}
    assert by["toy-flaky"].cells["accuracy"].partial
    assert by["toy-nan"].cells["accuracy"].value is None
    assert table.rows[-1].method == "toy-nan"  # no value sorts last
    assert "toy-zcr" in table.best("accuracy")

    md = md_rep.render([table])
    assert "accuracy ↑" in md and "⚠ 29/30" in md and "n/a (failed)" in md
    assert "`bench run --task consonant-voicing --method toy-zcr" in md
    rows = list(csv.DictReader(io.StringIO(csv_rep.render([table]))))
    flaky = [r for r in rows if r["method"] == "toy-flaky" and r["metric"] == "accuracy"][0]
    assert flaky["status"] == "partial" and flaky["n_scored"] == "29"
    assert float(flaky["ci_low"]) <= float(flaky["value"]) <= float(flaky["ci_high"])
    page = html_rep.render([table])
    assert page.startswith("<!doctype html>") and "class=\"board\"" in page
    assert "29/30 scored" in page


def test_leaderboard_refuses_a_tampered_record(runs):
    path = next(Path(runs).glob("records/**/toy-zcr.json"))
    data = json.loads(path.read_text())
    data["metrics"]["accuracy"]["value"] = 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="toy-zcr.json"):
        build_tables(runs)


def test_significance_groups_separate_good_from_broken(runs, toy_registries):
    from bench.reporting.significance import add_significance

    (table,) = build_tables(runs)
    add_significance([table], toy_registries.metrics, resamples=200)
    by = {r.method: r for r in table.rows}
    assert by["toy-zcr"].groups["accuracy"] == "a"
    assert "accuracy" not in by["toy-flaky"].groups  # partial coverage: not ranked
    assert "a" not in by["toy-coin"].groups["accuracy"]
    assert by["toy-coin"].groups["roc-auc"] not in ("", "a")
    assert "accuracy" not in by["toy-nan"].groups  # no value, no group


def test_rank_intervals_put_the_clear_winner_first(runs, toy_registries):
    from bench.reporting.significance import add_significance

    (table,) = build_tables(runs)
    add_significance([table], toy_registries.metrics, resamples=200)
    by = {r.method: r for r in table.rows}
    assert by["toy-zcr"].ranks["accuracy"] == (1, 1)
    assert by["toy-coin"].ranks["accuracy"] == (2, 2)
    assert "accuracy" not in by["toy-flaky"].ranks  # partial rows are not ranked
    assert "rank 1)" in md_rep.render([table])
