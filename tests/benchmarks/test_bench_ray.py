"""The consonant track on a local Ray instance with 2 workers against the in-process executor.

Run: ``BENCH_BENCHMARKS=1 python -m pytest tests/benchmarks/test_bench_ray.py --benchmark-only``.
Every round starts cold: a fresh runs directory (no cached predictions or scores) and an empty
TopCap feature cache. Ray's start-up (``ray.init`` of a local instance and its first task) is
timed on its own and not counted in the Ray round; the records of both executors are checked
against each other (torch fits may differ in the last bits: Ray runs each task with one
thread, the in-process run with torch's default).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bench.execution.config import RunConfig
from bench.execution.executors import InProcessExecutor
from bench.execution.planning import plan_units
from bench.discovery.loader import registries
from bench.execution.records import read_record
from bench.execution.runner import run_unit

ray = pytest.importorskip("ray")

WORKERS = 2  # the target machine has 2 cores
LIMIT = int(os.environ.get("BENCH_RAY_LIMIT", "0"))  # 0: the whole test split


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """A feature cache directory that each round empties; set before Ray's workers start."""
    cache = tmp_path_factory.mktemp("features")
    saved = os.environ.get("BENCH_CACHE_DIR")
    os.environ["BENCH_CACHE_DIR"] = str(cache)
    yield cache
    if saved is None:
        os.environ.pop("BENCH_CACHE_DIR", None)
    else:
        os.environ["BENCH_CACHE_DIR"] = saved


@pytest.fixture(scope="module")
def ray_instance(cold):
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=WORKERS, include_dashboard=False,
             logging_level="WARNING")
    ray.get(ray.remote(lambda: None).remote())
    startup = time.perf_counter() - t0
    yield startup
    ray.shutdown()


def _units(runs: Path):
    cfg = RunConfig(tasks=["consonant-voicing"], runs_dir=str(runs), limit=LIMIT)
    return plan_units(cfg, registries())


def _round(executor, cold: Path, root: Path, name: str) -> list[str]:
    runs = root / name
    shutil.rmtree(runs, ignore_errors=True)
    shutil.rmtree(cold, ignore_errors=True)
    cold.mkdir()
    return list(executor.map(run_unit, _units(runs)))


def _values(paths):
    out = {}
    for p in paths:
        rec = read_record(Path(p))
        out[rec["method"]["name"]] = {m: (r.get("value"), r.get("ci"))
                                      for m, r in rec["metrics"].items()}
    return out


@pytest.fixture(scope="module")
def results():
    return {}


def test_consonant_track_in_process(benchmark, cold, tmp_path_factory, results):
    root = tmp_path_factory.mktemp("inprocess")
    paths = benchmark.pedantic(_round, args=(InProcessExecutor(), cold, root, "runs"),
                               rounds=1, iterations=1)
    results["inprocess"] = _values(paths)


def test_consonant_track_on_ray_2_workers(benchmark, cold, ray_instance, tmp_path_factory,
                                         results):
    from bench.execution.distributed import RayExecutor

    root = tmp_path_factory.mktemp("ray")
    benchmark.extra_info["ray_startup_s"] = round(ray_instance, 2)
    paths = benchmark.pedantic(_round, args=(RayExecutor(), cold, root, "runs"),
                               rounds=1, iterations=1)
    print(f"\nRay start-up (local instance, {WORKERS} CPUs, first task): {ray_instance:.1f} s")
    if "inprocess" in results:  # torch fits may differ in the last bits with the thread count
        ours, theirs = _values(paths), results["inprocess"]
        differ = sorted(m for m in theirs if ours.get(m) != theirs[m])
        benchmark.extra_info["methods_differing_from_inprocess"] = differ
        print(f"methods whose values differ from the in-process run: {differ or 'none'}")
