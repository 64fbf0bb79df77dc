"""Classification metrics score a split in one call and write the same per-sample entries."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench.interfaces import BatchScoring
from bench.metrics.classification import FUNCTIONS, ClassificationMetric
from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit
from bench.execution.store import SampleLog

METRICS = tuple(FUNCTIONS)


def _run(tmp_path: Path) -> tuple[dict, dict]:
    unit = Unit(task="consonant-voicing", method="toy-zcr", dataset="toy-segments", split="test",
                metrics=METRICS, runs_dir=str(tmp_path), bootstrap=100)
    path = Path(run_unit(unit))
    samples = SampleLog(path.with_suffix(".samples.jsonl")).read()
    return read_record(path)["metrics"], samples


@pytest.mark.parametrize("name", METRICS)
def test_batch_equals_per_sample(name):
    metric = ClassificationMetric(name)
    assert isinstance(metric, BatchScoring)
    samples = [SimpleNamespace(label=i % 2) for i in range(7)]
    preds = [{"proba": i / 7} for i in range(7)]
    one_by_one = [metric.per_sample(s, p) for s, p in zip(samples, preds)]
    assert metric.per_sample_batch(samples, preds) == one_by_one


def _strip(metrics: dict) -> dict:
    return {k: {f: v for f, v in m.items() if f != "details"} for k, m in metrics.items()}


def test_runner_batch_path_writes_what_the_per_sample_path_writes(tmp_path, toy_registries,
                                                                  monkeypatch):
    batch_metrics, batch_samples = _run(tmp_path / "batch")
    calls = []
    monkeypatch.setattr(ClassificationMetric, "per_sample_batch",
                        lambda self, s, p: calls.append(1) or [])  # wrong length: falls back
    fallback_metrics, fallback_samples = _run(tmp_path / "fallback")
    assert len(calls) == len(METRICS)
    monkeypatch.delattr(ClassificationMetric, "per_sample_batch")
    plain_metrics, plain_samples = _run(tmp_path / "plain")
    assert _strip(batch_metrics) == _strip(plain_metrics) == _strip(fallback_metrics)
    assert all(m["status"] == "ok" and m["n_scored"] == 30 for m in batch_metrics.values())
    scores = {i: e["scores"] for i, e in batch_samples.items()}
    assert scores == {i: e["scores"] for i, e in plain_samples.items()}
    assert scores == {i: e["scores"] for i, e in fallback_samples.items()}


@pytest.mark.parametrize("name", METRICS)
def test_column_bootstrap_gives_the_same_interval(name):
    from bench.interfaces import ColumnAggregate
    from bench.execution.stats import bootstrap_ci, bootstrap_ci_columns

    metric = ClassificationMetric(name)
    assert isinstance(metric, ColumnAggregate)
    rng = np.random.default_rng(1)
    values = [{"y": int(rng.integers(2)), "p": float(rng.random())} for _ in range(60)]
    assert metric.aggregate_columns(metric.columns(values)) == metric.aggregate(values)
    plain = bootstrap_ci(values, metric.aggregate, 300, seed=4)
    columns = bootstrap_ci_columns(metric.columns(values), metric.aggregate_columns, 300, seed=4)
    assert plain is not None and plain == columns


@pytest.mark.parametrize("name", METRICS)
def test_paired_tests_and_rank_draws_are_unchanged_by_columns(name):
    from bench.execution.stats import paired_bootstrap_pvalue, resampler

    metric = ClassificationMetric(name)
    rng = np.random.default_rng(2)
    y = rng.integers(2, size=80)
    a = [{"y": int(t), "p": float(rng.random())} for t in y]
    b = [{"y": int(t), "p": float(rng.random())} for t in y]
    plain = paired_bootstrap_pvalue(a, b, lambda v: metric.aggregate(v), 200, seed=5)
    assert paired_bootstrap_pvalue(a, b, metric.aggregate, 200, seed=5) == plain
    idx = rng.integers(0, 80, 80)
    assert resampler(metric.aggregate)(a)(idx) == metric.aggregate([a[i] for i in idx])


def _mean_metrics():
    from bench.metrics.image_quality import PsnrMetric, SsimMetric
    from bench.metrics.lse_metric import LseMetric

    return [(PsnrMetric(), "psnr"), (SsimMetric(region="frame"), "ssim"),
            (LseMetric.__new__(LseMetric), "lse_d")]


@pytest.mark.parametrize("index", range(3))
def test_talking_face_means_bootstrap_on_columns_with_the_same_numbers(index):
    from bench.interfaces import ColumnAggregate
    from bench.execution.stats import bootstrap_ci, bootstrap_ci_columns, resampler

    metric, key = _mean_metrics()[index]
    if key == "lse_d":
        metric.key = key  # the aggregate reads only the chosen score (no SyncNet needed)
    assert isinstance(metric, ColumnAggregate)
    rng = np.random.default_rng(3)
    values = [{key: float(rng.normal(7.0, 2.0)), "n_frames": 25} for _ in range(36)]
    assert metric.aggregate_columns(metric.columns(values)) == metric.aggregate(values)
    plain = bootstrap_ci(values, lambda v: metric.aggregate(v), 300, seed=4)
    assert plain is not None
    assert bootstrap_ci_columns(metric.columns(values), metric.aggregate_columns, 300,
                                seed=4) == plain
    idx = rng.integers(0, 36, 36)
    assert resampler(metric.aggregate)(values)(idx) == metric.aggregate([values[i] for i in idx])


def test_average_ranks_equal_scipy_rankdata_with_ties_and_nan():
    from scipy.stats import rankdata

    from bench.metrics.classification import average_ranks

    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 695):
        for p in (rng.random(n), np.round(rng.random(n), 1), rng.integers(0, 3, n),
                  rng.integers(0, 3, n).astype(float)):
            got, want = average_ranks(p), rankdata(p)
            assert got.dtype == want.dtype and np.array_equal(got, want)
    with_nan = np.array([0.2, np.nan, 0.1])
    np.testing.assert_array_equal(average_ranks(with_nan), rankdata(with_nan))
