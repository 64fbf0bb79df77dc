"""DrawAggregate: metrics that aggregate many bootstrap draws at once give, draw by draw, the
very floats of their one-draw path, so intervals, p-values and leaderboards do not change."""

from __future__ import annotations

import numpy as np
import pytest

from bench.errors import BenchError
from bench.execution.stats import bootstrap_ci_columns, paired_bootstrap_pvalue
from bench.interfaces import DrawAggregate
from bench.metrics.classification import ClassificationMetric
from bench.metrics.image_quality import SsimMetric
from bench.metrics.lse_metric import LseMetric

CLASSIFICATION = ("accuracy", "balanced-accuracy", "f1", "roc-auc")


def _one_by_one(metric, columns, draws):
    out = []
    for d in draws:
        try:
            out.append(metric.aggregate_columns({k: c[d] for k, c in columns.items()}))
        except ValueError:
            out.append(np.nan)
    return np.array(out)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n, decimals", [(2, 6), (5, 1), (36, 2), (695, 6)])
def test_classification_draws_equal_one_draw_at_a_time(name, n, decimals):
    rng = np.random.default_rng(n + decimals)
    metric = ClassificationMetric(name)
    assert isinstance(metric, DrawAggregate)
    for y in (rng.integers(0, 2, n), np.r_[np.ones(n - 1, int), 0]):  # one-class draws too
        columns = {"y": y, "p": np.round(rng.random(n), decimals)}  # ties at 1 decimal
        draws = rng.integers(0, n, (400, n))
        got = metric.aggregate_draws(columns, draws)
        assert np.array_equal(got, _one_by_one(metric, columns, draws), equal_nan=True)


def test_roc_auc_draws_with_every_score_tied_and_nan_scores():
    metric = ClassificationMetric("roc-auc")
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 12, (50, 12))
    tied = {"y": np.arange(12) % 2, "p": np.full(12, 0.5)}
    assert np.array_equal(metric.aggregate_draws(tied, draws),
                          _one_by_one(metric, tied, draws), equal_nan=True)
    with_nan = {"y": np.arange(12) % 2, "p": np.r_[np.nan, rng.random(11)]}
    assert np.array_equal(metric.aggregate_draws(with_nan, draws),
                          _one_by_one(metric, with_nan, draws), equal_nan=True)


@pytest.mark.parametrize("metric", [LseMetric("lse-c"), SsimMetric()])
def test_mean_metrics_draws_equal_one_draw_at_a_time(metric):
    key = metric.key if isinstance(metric, LseMetric) else metric.name
    rng = np.random.default_rng(1)
    for n in (2, 9, 36, 200):
        columns = {key: rng.normal(5, 3, n)}
        draws = rng.integers(0, n, (300, n))
        assert np.array_equal(metric.aggregate_draws(columns, draws),
                              _one_by_one(metric, columns, draws))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_pvalues_and_intervals_equal_the_one_draw_path(name):
    rng = np.random.default_rng(2)
    metric = ClassificationMetric(name)
    y = rng.integers(0, 2, 120)
    good = np.clip(y * 0.6 + rng.random(120) * 0.5, 0, 1)
    a = [{"y": int(t), "p": float(p)} for t, p in zip(y, good)]
    b = [{"y": int(t), "p": float(p)} for t, p in zip(y, rng.random(120))]
    # a plain function is not a DrawAggregate's method: the draw-by-draw path
    assert paired_bootstrap_pvalue(a, b, metric.aggregate, 500, seed=3) == \
        paired_bootstrap_pvalue(a, b, lambda v: metric.aggregate(v), 500, seed=3)
    columns = metric.columns(a)
    assert bootstrap_ci_columns(columns, metric.aggregate_columns, 500, seed=4) == \
        bootstrap_ci_columns(columns, lambda c: metric.aggregate_columns(c), 500, seed=4)


class _Disagrees(ClassificationMetric):
    def aggregate_draws(self, columns, draws):
        return super().aggregate_draws(columns, draws) + 1e-9


def test_a_metric_whose_draws_disagree_with_its_columns_is_an_error():
    metric = _Disagrees("accuracy")
    values = [{"y": i % 2, "p": (i % 3) / 2} for i in range(20)]
    with pytest.raises(BenchError, match="aggregate_draws gives .* must be equal"):
        paired_bootstrap_pvalue(values, values[::-1], metric.aggregate, 100)
