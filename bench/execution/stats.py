"""Bootstrap confidence intervals and paired tests over samples."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from bench.errors import BenchError
from bench.interfaces import ColumnAggregate, DrawAggregate

Aggregate = Callable[[Sequence[Mapping[str, Any]]], float]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float = 0.95
    method: str = "percentile bootstrap"
    resamples: int = 0


def bootstrap_ci(
    values: Sequence[Mapping[str, Any]],
    aggregate: Aggregate,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval | None:
    """Percentile bootstrap over samples: resample per-sample values, re-aggregate.

    Returns None when there are fewer than two samples or resampling is disabled.
    Resamples whose aggregate is undefined (e.g. ROC-AUC of a one-class draw) are skipped.
    """
    return _bootstrap(len(values), lambda idx: aggregate([values[i] for i in idx]),
                      resamples, level, seed)


def bootstrap_ci_columns(
    columns: Mapping[str, np.ndarray],
    aggregate_columns: Callable[[Mapping[str, np.ndarray]], float],
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval | None:
    """:func:`bootstrap_ci` over per-sample values held as columns (one array per key): the same
    draws and so the same interval, without rebuilding the arrays for every resample."""
    n = len(next(iter(columns.values()))) if columns else 0
    owner = _draws_owner(aggregate_columns)
    if owner is not None and n >= 2 and resamples > 0:
        idx = np.random.default_rng(seed).integers(0, n, (resamples, n))
        values = _draw_values(owner, columns, idx)
        return _interval(values[np.isfinite(values)].tolist(), resamples, level)
    return _bootstrap(n, lambda idx: aggregate_columns({k: c[idx] for k, c in columns.items()}),
                      resamples, level, seed)


def _bootstrap(n: int, statistic: Callable[[np.ndarray], float], resamples: int, level: float,
               seed: int) -> Interval | None:
    if n < 2 or resamples <= 0:
        return None
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        try:
            v = statistic(idx)
        except ValueError:
            continue
        if math.isfinite(v):
            stats.append(v)
    return _interval(stats, resamples, level)


def _interval(stats: list[float], resamples: int, level: float) -> Interval | None:
    if len(stats) < max(2, resamples // 2):
        return None
    alpha = (1 - level) / 2
    lo, hi = (float(x) for x in np.quantile(stats, [alpha, 1 - alpha]))
    return Interval(lo, hi, level, "percentile bootstrap", len(stats))


def _draws_owner(aggregate: Callable[..., float]) -> DrawAggregate | None:
    """The :class:`~bench.interfaces.DrawAggregate` metric whose ``aggregate`` or
    ``aggregate_columns`` this is, if any."""
    owner = aggregate.__self__ if inspect.ismethod(aggregate) else None
    if isinstance(owner, DrawAggregate) and aggregate in (owner.aggregate,
                                                          owner.aggregate_columns):
        return owner
    return None


def _draw_values(owner: DrawAggregate, columns: Mapping[str, Any], draws: np.ndarray
                 ) -> np.ndarray:
    """``owner.aggregate_draws``, its first row checked against ``aggregate_columns``, so a
    metric whose two paths disagree is an error, not a quietly different interval or p."""
    values = np.asarray(owner.aggregate_draws(columns, draws), dtype=float)
    if values.shape != (len(draws),):
        raise BenchError(f"{type(owner).__name__}.aggregate_draws returned shape "
                         f"{values.shape} for {len(draws)} draws")
    try:
        first = float(owner.aggregate_columns({k: np.asarray(c)[draws[0]]
                                               for k, c in columns.items()}))
    except ValueError:
        first = math.nan
    if not (first == values[0] or (math.isnan(first) and math.isnan(values[0]))):
        raise BenchError(f"{type(owner).__name__}.aggregate_draws gives {values[0]!r} for a draw "
                         f"whose aggregate_columns is {first!r}; they must be equal")
    return values


def resampler(aggregate: Aggregate) -> Callable[[Sequence[Mapping[str, Any]]],
                                                Callable[[np.ndarray], float]]:
    """``resampler(aggregate)(values)(idx) == aggregate([values[i] for i in idx])``; for the
    ``aggregate`` of a :class:`~bench.interfaces.ColumnAggregate` metric the values become
    columns once and each draw indexes arrays (same numbers, far fewer Python objects)."""
    owner = aggregate.__self__ if inspect.ismethod(aggregate) else None
    if isinstance(owner, ColumnAggregate) and aggregate == owner.aggregate:
        def on_columns(values: Sequence[Mapping[str, Any]]) -> Callable[[np.ndarray], float]:
            cols = owner.columns(values)
            return lambda idx: owner.aggregate_columns({k: c[idx] for k, c in cols.items()})
        return on_columns
    return lambda values: lambda idx: aggregate([values[i] for i in idx])


def paired_bootstrap_pvalue(
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    aggregate: Aggregate,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Two-sided paired bootstrap test of aggregate(a) - aggregate(b) over the same samples.

    ``a[i]`` and ``b[i]`` must belong to the same sample. Returns (observed difference, p).
    The p-value is the share of resampled differences on the other side of zero, doubled.
    """
    if len(a) != len(b):
        raise ValueError("paired test needs the same samples on both sides")
    n = len(a)
    observed = aggregate(a) - aggregate(b)
    if n < 2:
        return observed, 1.0
    rng = np.random.default_rng(seed)
    owner = _draws_owner(aggregate)
    if owner is not None:  # all draws at once: one (resamples, n) call gives the same indices
        idx = rng.integers(0, n, (resamples, n))
        d = _draw_values(owner, owner.columns(a), idx) - _draw_values(owner, owner.columns(b), idx)
        d = d[np.isfinite(d)]
    else:
        diffs = []
        draw = resampler(aggregate)
        on_a, on_b = draw(a), draw(b)
        for _ in range(resamples):
            idx = rng.integers(0, n, n)
            try:
                diffs.append(on_a(idx) - on_b(idx))
            except ValueError:
                continue
        d = np.asarray([x for x in diffs if math.isfinite(x)])
    if d.size == 0:
        return observed, 1.0
    p = 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0)))
    return observed, min(1.0, p)


def mcnemar_pvalue(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> float:
    """Exact McNemar test on paired correctness: binomial test on the discordant pairs."""
    a = np.asarray(correct_a, bool)
    b = np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError("McNemar needs the same samples on both sides")
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    from scipy import stats as sps  # here: scipy.stats takes about a second to import

    return float(sps.binomtest(only_a, only_a + only_b, 0.5).pvalue)
