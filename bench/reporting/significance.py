"""Significance groups for leaderboard rows from paired tests over shared samples.

Methods with full coverage are taken in rank order (a partial row gets no group). Each group is led by the best method not yet covered; a method
joins every group whose leader it is not significantly worse than (two-sided p >= alpha), so a
method can carry several letters ("ab"). Which test compares two methods is the metric's to say
(``MetricSpec.paired_test``): the exact McNemar test on paired correctness (accuracy), a paired
bootstrap of the metric's own aggregate (the default), or none.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, MutableMapping, Sequence

from bench.reporting.leaderboard import Table
from bench.execution.stats import mcnemar_pvalue, paired_bootstrap_pvalue, resampler
from bench.execution.store import SampleLog
from bench.status import direction_of
from bench.execution.layout import RunsLayout

ALPHA = 0.05


def load_sample_scores(record_path: str | Path) -> dict[str, dict[str, Any]]:
    """Per-sample scores (id -> metric -> values) stored beside a record."""
    entries = SampleLog(RunsLayout.samples(record_path)).read()
    return {i: e.get("scores", {}) for i, e in entries.items()}


Values = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class PairedTest:
    """How one metric compares two methods on shared samples (from its :class:`MetricSpec`)."""

    aggregate: Callable[[Values], float]
    kind: str = "bootstrap"  # bootstrap | mcnemar
    sample_keys: tuple[str, ...] = ()  # mcnemar: (label, P(positive)) in the per-sample values

    def pvalue(self, a: Values, b: Values, resamples: int = 1000, seed: int = 0) -> float:
        """Two-sided p-value that ``a`` and ``b`` (the same samples, in order) differ."""
        if self.kind == "mcnemar" and all(k in v for k in self.sample_keys for v in (*a, *b)):
            label, prob = self.sample_keys
            ca = [(v[prob] >= 0.5) == bool(v[label]) for v in a]
            cb = [(v[prob] >= 0.5) == bool(v[label]) for v in b]
            return mcnemar_pvalue(ca, cb)
        return paired_bootstrap_pvalue(a, b, self.aggregate, resamples, seed)[1]


def paired_tests(metric_registry: Any, names: Iterable[str]) -> dict[str, PairedTest]:
    """The paired test of each named, registered metric that has one and can be built."""
    from bench.errors import Unavailable
    from bench.lazy import resolve

    out: dict[str, PairedTest] = {}
    for name in names:
        if name in out or name not in metric_registry:
            continue
        spec = metric_registry.get(name)
        if spec.paired_test == "none":
            continue
        try:
            metric = resolve(spec.factory)(**dict(spec.options))
        except Unavailable:
            continue
        out[name] = PairedTest(metric.aggregate, spec.paired_test, tuple(spec.sample_keys))
    return out


def assign_groups(table: Table, tests: Mapping[str, PairedTest], resamples: int = 1000,
                  alpha: float = ALPHA) -> None:
    """Fill ``row.groups[metric]`` for every metric with a paired test and per-sample scores."""
    scores = {r.label: r.sample_scores() for r in table.rows}
    for metric, direction in table.metrics:
        test = tests.get(metric)
        if test is None:
            continue
        # Partial rows are scored on other samples than the rest: they are not ranked.
        ranked = [r for r in table.rows if r.cells.get(metric)
                  and r.cells[metric].value is not None and not r.cells[metric].partial]
        ranked.sort(key=lambda r: r.cells[metric].value or 0.0,
                    reverse=direction_of(direction).higher_is_better)
        leaders: list[str] = []
        letters: dict[str, str] = {r.label: "" for r in ranked}
        for row in ranked:
            for g, leader in enumerate(leaders):
                shared = sorted(set(scores[leader]) & set(scores[row.label]))
                shared = [i for i in shared if metric in scores[leader][i]
                          and metric in scores[row.label][i]]
                if len(shared) < 2:
                    continue
                a = [scores[leader][i][metric] for i in shared]
                b = [scores[row.label][i][metric] for i in shared]
                if test.pvalue(a, b, resamples) >= alpha:
                    letters[row.label] += _letter(g)
            if not letters[row.label]:
                leaders.append(row.label)
                letters[row.label] = _letter(len(leaders) - 1)
        for row in ranked:
            row.groups[metric] = letters[row.label]


def _letter(i: int) -> str:
    return string.ascii_lowercase[i] if i < 26 else f"g{i}"


SIGNIFICANCE_VERSION = 2  # bump when the tests or their inputs change


def declared_tests(metric_registry: Any, names: Iterable[str]) -> list[str]:
    """``name:test:sample keys`` of each named, registered metric whose spec names a paired
    test (read from the specs alone: no metric is built)."""
    out = set()
    for name in names:
        if name in metric_registry:
            spec = metric_registry.get(name)
            if spec.paired_test != "none":
                out.add(f"{name}:{spec.paired_test}:{','.join(spec.sample_keys)}")
    return sorted(out)


def _table_key(table: Table, metrics: list[str], resamples: int) -> str:
    """Everything the groups and rank intervals of ``table`` depend on."""
    from bench.hashing import canonical_json, sha256_bytes

    rows = [{"label": r.label, "cells": {m: [c.value, c.partial] for m, c in r.cells.items()},
             "samples": r.sample_scores()} for r in table.rows]
    body = {"version": SIGNIFICANCE_VERSION, "alpha": ALPHA, "resamples": resamples,
            "metrics": [list(m) for m in table.metrics], "tested": metrics, "rows": rows}
    return sha256_bytes(canonical_json(body).encode())


def add_significance(tables: list[Table], metric_registry: Any, resamples: int = 1000,
                     cache: MutableMapping[str, Any] | None = None) -> None:
    """Assign groups in every table, for metrics whose specs name a paired test.

    With ``cache``, a table whose rows, per-sample scores and settings were seen before gets
    its groups and rank intervals from it (a warm re-run does not redo thousands of paired
    bootstraps), and no metric is built for it: the entry says which metrics were tested, and
    only a declared metric that could not be built then (weights absent) is tried again."""
    names = [m for t in tables for m, _ in t.metrics]
    built: dict[str, PairedTest] | None = None

    def tests() -> dict[str, PairedTest]:
        nonlocal built
        if built is None:
            built = paired_tests(metric_registry, names)
        return built

    declared = declared_tests(metric_registry, names)
    for table in tables:
        key = _table_key(table, declared, resamples) if cache is not None else ""
        found = cache.get(key) if cache is not None else None
        if found is not None:
            untested = {m for m, _ in table.metrics if m in metric_registry
                        and metric_registry.get(m).paired_test != "none"} - set(found["tested"])
            # usable only if none of them can be built now
            if not (untested and paired_tests(metric_registry, sorted(untested))):
                for row in table.rows:
                    marks = found["rows"].get(row.label, {})
                    row.groups = dict(marks.get("groups", {}))
                    row.ranks = {m: (lo, hi) for m, (lo, hi) in marks.get("ranks", {}).items()}
                continue
        assign_groups(table, tests(), resamples)
        assign_rank_intervals(table, {m: t.aggregate for m, t in tests().items()},
                              max(50, resamples // 5))
        if cache is not None:
            cache[key] = {"tested": sorted(m for m, _ in table.metrics if m in tests()),
                          "rows": {r.label: {"groups": r.groups, "ranks": r.ranks}
                                   for r in table.rows}}


def assign_rank_intervals(table: Table, aggregates: Mapping[str, Callable],
                          resamples: int = 200, seed: int = 0) -> None:
    """Fill ``row.ranks[metric] = (best, worst)``: the 95% bootstrap interval of each rank.

    Samples shared by every full-coverage row are drawn with replacement; on each draw every
    method's metric is recomputed and the methods ranked (1 = best).
    """
    import numpy as np

    scores = {r.label: r.sample_scores() for r in table.rows}
    rng = np.random.default_rng(seed)
    for metric, direction in table.metrics:
        aggregate = aggregates.get(metric)
        rows = [r for r in table.rows if r.cells.get(metric)
                and r.cells[metric].value is not None and not r.cells[metric].partial]
        if aggregate is None or len(rows) < 2:
            continue
        shared = sorted(set.intersection(*[
            {i for i, s in scores[r.label].items() if metric in s} for r in rows]))
        if len(shared) < 2:
            continue
        draw = resampler(aggregate)
        per = {r.label: draw([scores[r.label][i][metric] for i in shared]) for r in rows}
        ranks: dict[str, list[int]] = {r.label: [] for r in rows}
        for _ in range(resamples):
            idx = rng.integers(0, len(shared), len(shared))
            try:
                vals = {m: on(idx) for m, on in per.items()}
            except ValueError:
                continue
            order = sorted(vals, key=vals.__getitem__,
                           reverse=direction_of(direction).higher_is_better)
            for rank, m in enumerate(order, 1):
                ranks[m].append(rank)
        for r in rows:
            if ranks[r.label]:
                lo, hi = np.quantile(ranks[r.label], [0.025, 0.975])
                r.ranks[metric] = (int(np.floor(lo)), int(np.ceil(hi)))
