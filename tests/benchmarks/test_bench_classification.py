"""Classification scoring throughput per metric: the runner's batch path (one vectorised call
and one log write per split) beside the per-sample path (one call and one synced line per
sample), both writing the same per-sample entries. Target: >= 10,000 samples/s per metric.

Run: BENCH_BENCHMARKS=1 python -m pytest tests/benchmarks/test_bench_classification.py
     --benchmark-only --benchmark-columns=min,mean,ops,rounds
(ops x N_SAMPLES = samples/s)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench.metrics.classification import FUNCTIONS, ClassificationMetric
from bench.execution.runner import _append, score_batch, score_sample, store_arrays
from bench.execution.store import ArtifactStore, SampleLog

N_SAMPLES = 2000


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    items = [(f"s{i:05d}", SimpleNamespace(label=int(rng.integers(2))),
              {"proba": float(rng.random())}) for i in range(N_SAMPLES)]
    return items


def _state(name, path):
    path.unlink(missing_ok=True)
    return SimpleNamespace(name=name, metric=ClassificationMetric(name), log=SampleLog(path),
                           cached={}, unavailable=None)


def _per_sample_path(st, items, artifacts):
    for sample_id, sample, prediction in items:
        scored, _ = score_sample({st.name: st.metric}, sample_id, sample, prediction)
        entry, arrays = scored[st.name]
        _append(st, store_arrays(entry, arrays, artifacts))


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("path", ["batch", "per-sample"])
def test_bench_classification_scoring(benchmark, split, tmp_path, name, path):
    benchmark.group = f"classification-scoring-{name}-{N_SAMPLES}-samples"
    artifacts = ArtifactStore(tmp_path / "artifacts")
    log_path = tmp_path / "scores.jsonl"
    run = score_batch if path == "batch" else _per_sample_path
    states = []

    def setup():
        states.append(_state(name, log_path))
        return (states[-1], split, artifacts), {}

    benchmark.pedantic(run, setup=setup, rounds=3 if path == "batch" else 1, iterations=1)
    st = states[-1]
    assert len(st.cached) == N_SAMPLES and st.unavailable is None
    written = SampleLog(log_path).read()
    assert written == st.cached
    first_id, sample, prediction = split[0]
    assert written[first_id]["values"] == st.metric.per_sample(sample, prediction)
