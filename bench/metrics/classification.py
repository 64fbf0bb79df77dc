"""Voiced-vs-voiceless metrics over per-sample (label, P(voiced)) pairs; voiced is positive."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

THRESHOLD = 0.5


def _arrays(values: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    y = np.fromiter((v["y"] for v in values), dtype=int, count=len(values))
    p = np.fromiter((v["p"] for v in values), dtype=float, count=len(values))
    return y, p


def _or_nan(fn: Any, y: np.ndarray, p: np.ndarray) -> float:
    try:
        return float(fn(y, p))
    except ValueError:
        return float("nan")


def accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p >= THRESHOLD).astype(int) == y))


def balanced_accuracy(y: np.ndarray, p: np.ndarray) -> float:
    pred = (p >= THRESHOLD).astype(int)
    recalls = [np.mean(pred[y == c] == c) for c in (0, 1) if np.any(y == c)]
    return float(np.mean(recalls))


def f1(y: np.ndarray, p: np.ndarray) -> float:
    pred = p >= THRESHOLD
    tp = np.sum(pred & (y == 1))
    denom = 2 * tp + np.sum(pred & (y == 0)) + np.sum(~pred & (y == 1))
    return float(2 * tp / denom) if denom else 0.0


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann–Whitney form of the ROC AUC (ties count one half)."""
    n1 = int(np.sum(y == 1))
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("ROC-AUC needs both classes")
    ranks = average_ranks(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def average_ranks(p: np.ndarray) -> np.ndarray:
    """``scipy.stats.rankdata(p)`` (ties get their average rank), the same float64 values.

    The same steps as SciPy's own (stable sort, tie groups, the average of each group's first
    and last rank), without its argument handling, which cost more than the ranking for the
    thousands of bootstrap draws of a split. Every rank is a whole or half number, exact in
    float64. NaN goes to SciPy (whose policy then applies).
    """
    p = np.asarray(p)
    if p.ndim != 1 or p.dtype.kind not in "fiub" or (p.dtype.kind == "f" and np.isnan(p).any()):
        from scipy.stats import rankdata  # here: scipy.stats takes about a second to import

        return rankdata(p)
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    new_group = np.r_[True, sorted_p[1:] != sorted_p[:-1]]
    dense = np.cumsum(new_group)
    bounds = np.r_[np.nonzero(new_group)[0], len(p)]
    ranks = np.empty(len(p), dtype=np.float64)
    ranks[order] = 0.5 * (bounds[dense] + bounds[dense - 1] + 1)
    return ranks


# -- many bootstrap draws at once (DrawAggregate): each row the same float as the function above


def _counts(draws: np.ndarray, n: int) -> np.ndarray:
    """(R, n) sample indices -> (R, n) how often each sample is in each draw."""
    rows = np.arange(len(draws))[:, None] * n
    return np.bincount((draws + rows).ravel(), minlength=len(draws) * n).reshape(len(draws), n)


def _accuracy_draws(y: np.ndarray, p: np.ndarray, draws: np.ndarray) -> np.ndarray:
    return np.mean(((p >= THRESHOLD).astype(int) == y)[draws], axis=1)


def _class_counts(y: np.ndarray, p: np.ndarray, draws: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per draw: (negatives, positives, negatives predicted 0, positives predicted 1)."""
    counts = _counts(draws, len(y))
    pred = p >= THRESHOLD
    n1 = counts @ (y == 1)
    return (draws.shape[1] - n1, n1, counts @ ((y == 0) & ~pred), counts @ ((y == 1) & pred))


def _balanced_accuracy_draws(y: np.ndarray, p: np.ndarray, draws: np.ndarray) -> np.ndarray:
    n0, n1, right0, right1 = _class_counts(y, p, draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        r0, r1 = right0 / n0, right1 / n1
    # the mean of the recalls of the classes present, as np.mean of a one- or two-item list
    return np.where(n0 == 0, r1, np.where(n1 == 0, r0, (r0 + r1) / 2))


def _f1_draws(y: np.ndarray, p: np.ndarray, draws: np.ndarray) -> np.ndarray:
    n0, n1, right0, tp = _class_counts(y, p, draws)
    denom = 2 * tp + (n0 - right0) + (n1 - tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / denom, 0.0)


def _roc_auc_draws(y: np.ndarray, p: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Mann-Whitney U from each draw's counts: a positive scores 1 for every negative below it
    and 1/2 for every tied one, which is the rank sum less n1 (n1 + 1) / 2; 2U is a whole
    number, so U and the AUC are the exact floats the rank form gives."""
    order = np.argsort(p, kind="mergesort")
    counts = _counts(draws, len(y))[:, order]
    pos = (y[order] == 1)
    sorted_p = p[order]
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])  # tie groups
    neg_g = np.add.reduceat(counts * ~pos, starts, axis=1)
    pos_g = np.add.reduceat(counts * pos, starts, axis=1)
    below = np.cumsum(neg_g, axis=1) - neg_g
    twice_u = np.sum(pos_g * (2 * below + neg_g), axis=1)
    n1 = pos_g.sum(axis=1)
    n0 = draws.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (twice_u / 2) / (n1 * n0)
    return np.where((n1 == 0) | (n0 == 0), np.nan, auc)


DRAW_FUNCTIONS = {"accuracy": _accuracy_draws, "balanced-accuracy": _balanced_accuracy_draws,
                  "f1": _f1_draws, "roc-auc": _roc_auc_draws}

FUNCTIONS = {"accuracy": accuracy, "balanced-accuracy": balanced_accuracy, "f1": f1,
             "roc-auc": roc_auc}


class ClassificationMetric:
    """One of accuracy, balanced-accuracy, f1, roc-auc at threshold 0.5 on P(voiced)."""

    def __init__(self, name: str):
        if name not in FUNCTIONS:
            raise ValueError(f"unknown classification metric {name!r}")
        self.name = name
        self._fn = FUNCTIONS[name]

    def fingerprint(self) -> Mapping[str, Any]:
        return {"metric": self.name, "positive_class": "voiced", "threshold": THRESHOLD}

    def per_sample(self, sample: Any, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"y": int(sample.label), "p": float(prediction["proba"])}

    def per_sample_batch(self, samples: Sequence[Any],
                         predictions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``per_sample`` for a whole split in one pass (the runner's fast path)."""
        n = len(samples)
        y = np.fromiter((s.label for s in samples), dtype=np.int64, count=n)
        p = np.fromiter((pr["proba"] for pr in predictions), dtype=float, count=n)
        return [{"y": yi, "p": pi} for yi, pi in zip(y.tolist(), p.tolist())]

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        return self._fn(*_arrays(values))

    def columns(self, values: Sequence[Mapping[str, Any]]) -> Mapping[str, np.ndarray]:
        y, p = _arrays(values)
        return {"y": y, "p": p}

    def aggregate_columns(self, columns: Mapping[str, np.ndarray]) -> float:
        return self._fn(columns["y"], columns["p"])

    def aggregate_draws(self, columns: Mapping[str, np.ndarray], draws: np.ndarray) -> np.ndarray:
        """``aggregate_columns`` of every row of sample indices ``draws`` (R, n) at once."""
        y, p = np.asarray(columns["y"]), np.asarray(columns["p"], dtype=float)
        if np.isnan(p).any():  # the rank form hands NaN to SciPy: keep its answer, draw by draw
            return np.array([_or_nan(self._fn, y[d], p[d]) for d in draws], dtype=float)
        return DRAW_FUNCTIONS[self.name](y, p, np.asarray(draws))
