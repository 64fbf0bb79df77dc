"""The process-pool executor: units come back in order, each worker uses its share of the
cores, and the records equal an in-process run's."""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bench.execution.executors import (
    THREAD_VARIABLES,
    InProcessExecutor,
    OverlapExecutor,
    PoolExecutor,
)


def _probe(item: int) -> tuple[int, str | None, int]:
    return item, os.environ.get("OMP_NUM_THREADS"), os.getpid()


def test_pool_returns_units_in_order_with_a_share_of_the_cores(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    out = list(PoolExecutor(2).map(_probe, range(6)))
    assert [item for item, _, _ in out] == list(range(6))
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert {threads for _, threads, _ in out} == {share}
    assert os.getpid() not in {pid for _, _, pid in out}


def test_pool_runs_a_single_unit_in_process():
    assert [pid for _, _, pid in PoolExecutor(2).map(_probe, [0])] == [os.getpid()]
    assert list(InProcessExecutor().map(_probe, [])) == []


def _where(item: int) -> tuple[int, int, bool]:
    from bench.execution import determinism

    return item, os.getpid(), determinism.kernels_pinned()


@pytest.mark.slow  # starts pinned and plain processes
def test_overlap_sends_pinned_units_to_pinned_processes_and_keeps_the_order():
    from bench.execution import determinism

    try:
        out = list(OverlapExecutor(lambda item: item % 3 == 0, workers=2).map(_where, range(7)))
        only_pinned = list(OverlapExecutor(lambda item: True, workers=2).map(_where, range(4)))
    finally:
        determinism.stop_pinned_worker()
    assert [item for item, _, _ in out] == list(range(7))
    plain = {(pid, pinned) for item, pid, pinned in out if item % 3}
    assert not any(pinned for _, pinned in plain) and os.getpid() not in dict(plain)
    assert 1 <= len(plain) <= 2  # at most `workers` plain processes
    away = [(pid, pinned) for item, pid, pinned in out if item % 3 == 0]
    assert all(pinned and pid != os.getpid() for pid, pinned in away)
    assert not {pid for pid, _ in away} & {pid for pid, _ in plain}
    assert [item for item, _, _ in only_pinned] == list(range(4))
    assert all(pinned and pid != os.getpid() for _, pid, pinned in only_pinned)
    assert 1 <= len({pid for _, pid, _ in only_pinned}) <= 2


def _threads(shared, item: int) -> tuple[int, str | None, int, int]:
    import torch

    together, lock, running = shared
    with lock:
        running.value += 1
        at_start = running.value
    together.wait(timeout=120)  # returns only once another unit is running too
    with lock:
        running.value -= 1
    return item, os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads(), at_start


@pytest.mark.slow  # starts pinned and plain processes
def test_overlap_runs_workers_units_at_once_each_on_its_share_of_the_cores(monkeypatch):
    import torch

    from bench.execution import determinism

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    with mp.get_context("spawn").Manager() as manager:
        shared = (manager.Barrier(2), manager.Lock(), manager.Value("i", 0))
        try:
            out = list(OverlapExecutor(lambda item: item % 2 == 0, workers=2)
                       .map(functools.partial(_threads, shared), range(4)))
        finally:
            determinism.stop_pinned_worker()
    assert [item for item, *_ in out] == list(range(4))
    share = max(1, (os.cpu_count() or 1) // 2)
    # the plain units had one core's share of threads, torch's too
    assert {(env, n) for item, env, n, _ in out if item % 2} == {(str(share), share)}
    # every unit met another at the barrier (two at once), and never more than two ran
    assert max(at_start for *_, at_start in out) <= 2
    # this process is as it was
    assert torch.get_num_threads() == before
    assert all(os.environ.get(name) is None for name in THREAD_VARIABLES)


def test_overlap_without_pinned_units_runs_everything_here():
    out = list(OverlapExecutor(lambda item: False).map(_probe, range(3)))
    assert [pid for _, _, pid in out] == [os.getpid()] * 3
    with pytest.raises(Exception, match="at least 1"):
        OverlapExecutor(lambda item: False, workers=0)


def _records(runs: Path) -> dict[str, object]:
    """Every record and per-sample file, less what differs between two honest runs."""
    out: dict[str, object] = {}
    for path in sorted((runs / "records").rglob("*")):
        if path.name.endswith(".json"):
            rec = json.loads(path.read_text())
            for key in ("timing", "created", "environment", "sha256", "command"):
                rec.pop(key, None)
            out[str(path.relative_to(runs))] = rec
        elif path.name.endswith(".jsonl"):
            out[str(path.relative_to(runs))] = path.read_text()
    return out


def _records_by_executor(tmp_path: Path, args: list[str], executors: tuple[str, ...]
                         ) -> list[dict[str, object]]:
    """Run ``bench ARGS`` once with each executor, in its own runs directory."""
    from bench.cli import main

    out = []
    for executor in executors:
        res = CliRunner().invoke(main, [*args, "--executor", executor, "--runs-dir",
                                        str(tmp_path / executor)])
        assert res.exit_code == 0, res.output
        out.append(_records(tmp_path / executor))
    return out


@pytest.mark.slow
def test_pool_records_equal_in_process_records(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    args = ["run", "--task", "talking-face", "--method", "ground-truth", "--method",
            "static-reference", "--metric", "psnr", "--metric", "ssim", "--split", "test",
            "--limit", "2"]
    inprocess, pool = _records_by_executor(tmp_path, args, ("inprocess", "pool"))
    assert len(inprocess) == 4 and inprocess == pool


@pytest.mark.slow  # trains mfcc-svm twice, in pinned and plain worker processes
def test_overlap_records_equal_in_process_records_with_pinned_units(tmp_path, monkeypatch):
    """The default executor on a plan of both kinds: a pinned consonant unit and talking-face
    units go to their worker processes, and every record and per-sample file equals an
    in-process run's."""
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BENCH_PIN_KERNELS", "1")
    args = ["run", "--method", "mfcc-svm", "--method", "ground-truth", "--method",
            "static-reference", "--metric", "accuracy", "--metric", "psnr", "--split", "test",
            "--limit", "3"]
    inprocess, overlap = _records_by_executor(tmp_path, args, ("inprocess", "overlap"))
    assert len(inprocess) == 6 and inprocess == overlap


def test_topcap_feature_pass_is_shared_under_a_lock(tmp_path):
    from plugins.topcap import _decode, _encode
    from reference_models.topcap.shared_features import SharedFeatures
    from reference_models.topcap.classifier import TopCapClassifier
    from reference_models.topcap.synthetic import make_segments

    from bench.feature_cache import JsonDiskCache

    signals, _ = make_segments(2, seed=0)
    cache = JsonDiskCache("topcap-test", _encode, _decode, root=tmp_path)
    shared = SharedFeatures(feature_cache=cache).features(signals)
    assert (tmp_path / "topcap-test.lock").exists()
    again = SharedFeatures(feature_cache=JsonDiskCache("topcap-test", _encode, _decode,
                                                       root=tmp_path))
    assert all(k in again._cache for k in cache._memory)  # the second pass only reads
    np.testing.assert_array_equal(again.features(signals), shared)
    np.testing.assert_array_equal(TopCapClassifier().features(signals), shared)


def _joblib_sum(n: int) -> float:
    import math

    from joblib import Parallel, delayed

    return float(sum(Parallel(n_jobs=2)(delayed(math.sqrt)(i) for i in range(n))))


def _joblib_sum_on_own_worker(barrier) -> float:
    barrier.wait(timeout=120)  # both calls running at once: one on each worker
    return _joblib_sum(50)


@pytest.mark.slow  # starts pinned processes and joblib workers
def test_pinned_workers_that_used_joblib_exit_by_themselves():
    """joblib's idle workers must not hold a pinned process at exit (it used to wait for them,
    then be killed after a grace period, at the end of every run)."""
    from bench.execution import determinism

    with mp.get_context("spawn").Manager() as manager:
        barrier = manager.Barrier(2)
        try:
            futures = [determinism.submit_pinned(_joblib_sum_on_own_worker, barrier, 2)
                       for _ in range(2)]
            assert [determinism.pinned_result(f) for f in futures] == [_joblib_sum(50)] * 2
        finally:
            codes = determinism.stop_pinned_worker()
    # none was killed; None: the pool's own thread reaped the process first
    assert len(codes) == 2 and set(codes) <= {0, None}
