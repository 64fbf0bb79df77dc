"""Bootstrap, paired tests and the classification metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from bench.metrics.classification import ClassificationMetric
from bench.execution.stats import bootstrap_ci, mcnemar_pvalue, paired_bootstrap_pvalue


def _values(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(y * 0.6 + rng.normal(0.2, 0.25, n), 0, 1)
    return y, p, [{"y": int(a), "p": float(b)} for a, b in zip(y, p)]


@pytest.mark.parametrize("name,ref", [
    ("accuracy", lambda y, p: skm.accuracy_score(y, p >= 0.5)),
    ("balanced-accuracy", lambda y, p: skm.balanced_accuracy_score(y, p >= 0.5)),
    ("f1", lambda y, p: skm.f1_score(y, p >= 0.5)),
    ("roc-auc", lambda y, p: skm.roc_auc_score(y, p)),
])
def test_classification_metrics_equal_scikit_learn(name, ref):
    y, p, values = _values()
    p[:20] = 0.5  # ties
    values = [{"y": int(a), "p": float(b)} for a, b in zip(y, p)]
    assert ClassificationMetric(name).aggregate(values) == pytest.approx(ref(y, p), abs=1e-12)


def test_roc_auc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        ClassificationMetric("roc-auc").aggregate([{"y": 1, "p": 0.3}, {"y": 1, "p": 0.8}])


def test_bootstrap_ci_covers_the_value_and_is_seeded():
    y, p, values = _values()
    agg = ClassificationMetric("accuracy").aggregate
    ci = bootstrap_ci(values, agg, 500, seed=3)
    assert ci.low < agg(values) < ci.high and ci.high - ci.low < 0.2
    assert bootstrap_ci(values, agg, 500, seed=3) == ci
    assert bootstrap_ci(values[:1], agg, 500) is None


def test_paired_tests_separate_clearly_different_methods():
    y, p, good = _values(300)
    rng = np.random.default_rng(1)
    bad = [{"y": v["y"], "p": float(rng.random())} for v in good]
    agg = ClassificationMetric("accuracy").aggregate
    diff, pval = paired_bootstrap_pvalue(good, bad, agg, 500)
    assert diff > 0.2 and pval < 0.01
    _, same = paired_bootstrap_pvalue(good, good, agg, 200)
    assert same == 1.0
    correct_good = [(v["p"] >= 0.5) == v["y"] for v in good]
    correct_bad = [(v["p"] >= 0.5) == v["y"] for v in bad]
    assert mcnemar_pvalue(correct_good, correct_bad) < 1e-6
    assert mcnemar_pvalue(correct_good, correct_good) == 1.0
