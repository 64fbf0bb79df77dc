"""Executors run independent units of work (one method on one split) in-process, in a pool of
local processes, or on a Ray cluster (``bench.execution.distributed``)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
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


@contextlib.contextmanager
def _cores_left(taken: int) -> Iterator[None]:
    """Run torch here on the cores ``taken`` pinned processes leave (at least one); torch may
    not be imported yet, so its start-up default is held down too."""
    cores = os.cpu_count() or 1
    if not taken or cores <= 1:
        yield
        return
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    asked = saved["OMP_NUM_THREADS"]
    usual = int(asked) if asked and asked.isdigit() and int(asked) > 0 else cores
    share = max(1, min(usual, cores - taken))
    before = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else usual
    for name in THREAD_VARIABLES:
        os.environ[name] = str(share)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(share)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(before)


class OverlapExecutor:
    """Units that run in a process with pinned CPU kernels (``pinned(unit)``) go to such
    processes, started at once, while the other units run here one after another, so the
    consonant units (one thread each) and the talking-face units (torch's threads here) overlap.
    ``workers`` counts this process while it has units of its own: 2 means one pinned process
    beside this one, or two when every unit is pinned.

    Every unit runs in the same kind of process as with :class:`InProcessExecutor` (there the
    pinned units queue for one pinned process), so the records are the same, up to the last
    bits of float32 models whose result depends on torch's thread count (below). Results come
    back in the order of the units.

    A unit here gets only the cores the pinned processes leave free: torch's threads spin at
    their barriers, so two of them beside a busy pinned process on two cores run slower than
    one. The share is fixed by the plan, not by how far the pinned units have got, so a unit's
    thread count (which can move a float32 result in its last bits) is the same on every run.
    """

    def __init__(self, pinned: Callable[[Any], bool], workers: int = 2):
        if workers < 1:
            raise BenchError("workers must be at least 1")
        self.pinned, self.workers = pinned, workers

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from bench.execution import determinism

        items = list(items)
        remote = [i for i, item in enumerate(items) if self.pinned(item)]
        if not remote:
            yield from InProcessExecutor().map(fn, items)
            return
        # this process is one of the workers while it has units of its own to run
        local = len(items) - len(remote)
        workers = max(1, min(self.workers - 1 if local else self.workers, len(remote)))
        futures = {i: determinism.submit_pinned(fn, items[i], workers) for i in remote}
        done: dict[int, Any] = {}
        next_out = 0
        for i, item in enumerate(items):
            if i not in futures:
                with _cores_left(workers):
                    done[i] = fn(item)
            while next_out < len(items) and (next_out in done or (
                    next_out in futures and futures[next_out].done())):
                yield done.pop(next_out) if next_out in done else \
                    determinism.pinned_result(futures.pop(next_out))
                next_out += 1
        for i in range(next_out, len(items)):
            yield done.pop(i) if i in done else determinism.pinned_result(futures.pop(i))


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
