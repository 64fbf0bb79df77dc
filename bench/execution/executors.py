"""Executors run independent units of work (one method on one split) in-process, in a pool of
local processes, or on a Ray cluster (``bench.execution.distributed``)."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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


class OverlapExecutor:
    """Keeps ``workers`` units running at once (one core each), taken in the order of the
    units: a unit whose method pins CPU kernels (``pinned(unit)``) in one of ``workers``
    processes started with them pinned, any other unit in one of ``workers`` plain processes
    with one core's share of threads. The consonant units (pinned) and the talking-face units
    (torch) thus share the cores to the end of the run, however the two tracks' work is split.

    Every unit runs in the same kind of process as with :class:`InProcessExecutor` (there the
    pinned units also go to a pinned process), so the records are the same, up to the last bits
    of float32 models whose result depends on torch's thread count: a plain process has one
    core's share, where this process would use all cores. Results come back in the order of
    the units. Without pinned units everything runs here, with all cores.
    """

    def __init__(self, pinned: Callable[[Any], bool], workers: int = 2):
        if workers < 1:
            raise BenchError("workers must be at least 1")
        self.pinned, self.workers = pinned, workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from bench.execution import determinism

        items = list(items)
        remote = {i for i, item in enumerate(items) if self.pinned(item)}
        if not remote:
            yield from InProcessExecutor().map(fn, items)
            return
        plain = len(items) - len(remote)
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        pool = None
        if plain:  # torch's threads spin at their barriers: one core's share each, no more
            pool = ProcessPoolExecutor(max_workers=min(self.workers, plain),
                                       mp_context=mp.get_context("spawn"),
                                       initializer=_limit_threads, initargs=(threads,))
        pinned_workers = min(self.workers, len(remote))
        waiting = list(range(len(items)))[::-1]  # popped from the end: in order
        running: dict[int, Future] = {}
        finished: dict[int, Future] = {}
        next_out = 0
        try:
            while next_out < len(items):
                while waiting and len(running) < self.workers:
                    i = waiting.pop()
                    running[i] = (determinism.submit_pinned(fn, items[i], pinned_workers)
                                  if i in remote else pool.submit(fn, items[i]))  # type: ignore[union-attr]
                wait(running.values(), return_when=FIRST_COMPLETED)
                for i in [i for i, f in running.items() if f.done()]:
                    finished[i] = running.pop(i)
                while next_out in finished:
                    future = finished.pop(next_out)
                    yield (determinism.pinned_result(future) if next_out in remote
                           else _plain_result(future))
                    next_out += 1
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def _plain_result(future: Future) -> Any:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise BenchError(f"a worker process ended without a result ({exc})") from None


def make_executor(name: str, workers: int, address: str = "", shard_size: int = 0,
                  pinned: Callable[[Any], bool] | None = None) -> Executor:
    """``address`` and ``shard_size`` apply to the ray executor only, where ``workers`` is the
    CPU count of a local instance (0: all cores). ``pinned`` says which units the overlap
    executor sends to pinned processes (none without it)."""
    if name == "inprocess":
        return InProcessExecutor()
    if name == "overlap":
        return OverlapExecutor(pinned or (lambda _: False), workers)
    if name == "pool":
        return PoolExecutor(workers)
    if name == "ray":
        from bench.execution.distributed import RayExecutor

        return RayExecutor(address=address, workers=workers, shard_size=shard_size)
    raise BenchError(f"unknown executor {name!r}; use 'overlap', 'inprocess', 'pool' or 'ray'")
