"""A warm leaderboard reuses its significance groups and rank intervals from the cache."""

from __future__ import annotations

import pytest

from bench.reporting import significance
from bench.feature_cache import JsonDiskCache
from bench.reporting.leaderboard import build_tables


def _marks(tables):
    return [{r.label: (r.groups, r.ranks) for r in t.rows} for t in tables]


def test_cached_groups_equal_computed_ones(toy_runs, toy_registries, tmp_path, monkeypatch):
    fresh = build_tables(toy_runs)
    significance.add_significance(fresh, toy_registries.metrics, resamples=100)
    cache = JsonDiskCache("significance", lambda v: v, lambda v: v, root=tmp_path)
    first = build_tables(toy_runs)
    significance.add_significance(first, toy_registries.metrics, resamples=100, cache=cache)
    assert _marks(first) == _marks(fresh)
    assert any(r.groups for t in fresh for r in t.rows)

    def no_tests(*args, **kwargs):
        raise AssertionError("paired test run on a cache hit")

    def no_metric(*args, **kwargs):
        raise AssertionError("a metric built on a cache hit")

    monkeypatch.setattr(significance, "assign_groups", no_tests)
    monkeypatch.setattr(significance, "assign_rank_intervals", no_tests)
    on_disk = JsonDiskCache("significance", lambda v: v, lambda v: v, root=tmp_path)
    warm = build_tables(toy_runs)
    with monkeypatch.context() as m:  # a hit needs no metric object (no model imports)
        m.setattr("bench.lazy.resolve", no_metric)
        significance.add_significance(warm, toy_registries.metrics, resamples=100, cache=on_disk)
    assert _marks(warm) == _marks(fresh)
    other = build_tables(toy_runs)
    with pytest.raises(AssertionError, match="cache hit"):  # other settings: computed again
        significance.add_significance(other, toy_registries.metrics, resamples=50, cache=on_disk)
