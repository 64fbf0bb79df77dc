"""Executors run independent units of work (one method on one split) in-process, in a pool of
local processes, or on a Ray cluster (``bench.distributed``)."""

from __future__ import annotations

import multiprocessing as mp
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


class PoolExecutor:
    """Runs units in worker processes (spawned, so torch threads are never forked)."""

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise BenchError("workers must be at least 1")
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
            yield from pool.map(fn, list(items))


def make_executor(name: str, workers: int, address: str = "", shard_size: int = 0) -> Executor:
    """``address`` and ``shard_size`` apply to the ray executor only, where ``workers`` is the
    CPU count of a local instance (0: all cores)."""
    if name == "inprocess":
        return InProcessExecutor()
    if name == "pool":
        return PoolExecutor(workers)
    if name == "ray":
        from bench.distributed import RayExecutor

        return RayExecutor(address=address, workers=workers, shard_size=shard_size)
    raise BenchError(f"unknown executor {name!r}; use 'inprocess', 'pool' or 'ray'")
