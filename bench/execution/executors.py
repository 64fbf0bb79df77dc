"""Executors run independent units of work (one method on one split) in-process, in a pool of
local processes, or on a Ray cluster (``bench.execution.distributed``)."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Protocol

from bench.errors import BenchError


class Executor(Protocol):
    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]: ...


class InProcessExecutor:
    """Runs units one after another in this process."""

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield fn(item)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _limit_threads(threads: int) -> None:
    """In a fresh worker, before torch or a BLAS is imported: use this worker's share of the
    cores, so two workers on two cores do not run four compute threads. A value the user set
    is kept."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


class PoolExecutor:
    """Runs units in worker processes (spawned, so torch threads are never forked), each with
    its share of the cores; results come back in the order of the units."""

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise BenchError("workers must be at least 1")
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if len(items) <= 1:  # nothing to overlap: skip the workers' start-up
            yield from InProcessExecutor().map(fn, items)
            return
        ctx = mp.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(items)), mp_context=ctx,
                                 initializer=_limit_threads, initargs=(threads,)) as pool:
            yield from pool.map(fn, items)


def make_executor(name: str, workers: int, address: str = "", shard_size: int = 0) -> Executor:
    """``address`` and ``shard_size`` apply to the ray executor only, where ``workers`` is the
    CPU count of a local instance (0: all cores)."""
    if name == "inprocess":
        return InProcessExecutor()
    if name == "pool":
        return PoolExecutor(workers)
    if name == "ray":
        from bench.execution.distributed import RayExecutor

        return RayExecutor(address=address, workers=workers, shard_size=shard_size)
    raise BenchError(f"unknown executor {name!r}; use 'inprocess', 'pool' or 'ray'")
