"""What makes a run's numbers the same on every machine: CPU kernels, thread counts, torch flags.

Two things change the floating-point result of the same code with the same seed:

- **which CPU kernels the numeric libraries pick.** OpenBLAS (numpy, SciPy), MKL and oneDNN
  (torch) and torch's own vectorised kernels choose their code path from the CPU they find
  (AVX2, AVX-512, AMX); the paths sum in different orders. A model trained for thousands of steps
  amplifies those last-bit differences into other predictions. ``PINNED_KERNELS`` names one
  path that every x86-64 CPU with AVX2 runs; the libraries read it when they load, so a unit whose
  method asks for it runs in a fresh process started with these variables (``run_pinned``).
- **how many threads a reduction is split over.** ``fixed_threads`` holds torch's intra-op
  threads and the BLAS/OpenMP pools at one count while a method trains and predicts, and turns
  on torch's deterministic algorithms.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import multiprocessing.util as mp_util
import os
import sys
from collections.abc import Callable, Iterator
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bench.errors import BenchError

T = TypeVar("T")

# The AVX2 code paths of each library (the widest every current x86-64 server CPU has).
PINNED_KERNELS = {
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's and SciPy's OpenBLAS (DYNAMIC_ARCH builds)
    "MKL_CBWR": "AVX2,STRICT",  # MKL's conditional numerical reproducibility branch (torch)
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN convolutions and matmuls (torch)
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own vectorised kernels
}


def pinning_enabled() -> bool:
    """False when ``BENCH_PIN_KERNELS=0``: units then run in this process with its native kernel
    paths (the test suite does this; records say ``pinned: false``)."""
    return os.environ.get("BENCH_PIN_KERNELS", "1") != "0"


def kernels_pinned() -> bool:
    """True when this process started with ``PINNED_KERNELS`` in its environment.

    Setting the variables after numpy or torch has loaded does nothing, so a process that was
    not started with them counts as unpinned even if they are set now. (What the libraries
    actually run is in ``kernel_report``: an OpenBLAS built for one CPU ignores the variable.)
    """
    return all(_START_ENV.get(k) == v for k, v in PINNED_KERNELS.items())


def kernel_report() -> dict[str, Any]:
    """The kernel paths in use, as far as the libraries say, for the run record."""
    report: dict[str, Any] = {"pinned": kernels_pinned(),
                              "env": {k: os.environ.get(k) for k in PINNED_KERNELS}}
    try:
        from threadpoolctl import threadpool_info

        report["blas"] = sorted({f"{i.get('internal_api')}:{i.get('architecture')}"
                                 for i in threadpool_info() if i.get("user_api") == "blas"})
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        pass
    if "torch" in sys.modules:
        import torch

        report["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return report


def run_pinned(fn: Callable[[T], Any], arg: T) -> Any:
    """``fn(arg)`` in a spawned process that started with ``PINNED_KERNELS`` set.

    The process is started once and kept for the next pinned units of this run: a fresh one per
    unit cost a spawn and the numeric libraries' imports every time (seconds per unit).
    """
    return pinned_result(submit_pinned(fn, arg))


def submit_pinned(fn: Callable[[T], Any], arg: T, workers: int = 1) -> Future:
    """Start ``fn(arg)`` in one of ``workers`` pinned processes; read it with :func:`pinned_result`.

    The processes are kept for the rest of the run; asking for more than are running replaces
    them (between runs of units, never while one is in flight).
    """
    return _pinned_pool(workers).submit(_call, fn, arg)


def pinned_result(future: Future) -> Any:
    """The result of :func:`submit_pinned`; a pinned process that died is a clear error."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        stop_pinned_worker()
        raise BenchError(f"the process started with pinned CPU kernels ended without a "
                         f"result ({exc}); set BENCH_PIN_KERNELS=0 to run in this "
                         "process instead") from None


_PINNED_POOL: ProcessPoolExecutor | None = None
_PINNED_WORKERS = 0


def _pinned_pool(workers: int = 1) -> ProcessPoolExecutor:
    global _PINNED_POOL, _PINNED_WORKERS
    if _PINNED_POOL is not None and _PINNED_WORKERS < workers:
        stop_pinned_worker()
    if _PINNED_POOL is None:
        saved = {k: os.environ.get(k) for k in PINNED_KERNELS}
        os.environ.update(PINNED_KERNELS)  # each child copies the environment when it starts
        try:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                       initializer=_stop_joblib_at_exit)
            # each submit finds no idle worker yet and spawns one: all start now, while the
            # variables are set (a process started later would not be pinned)
            started = [pool.submit(_started_pinned) for _ in range(workers)]
            if not all(f.result() for f in started):  # pragma: no cover - a broken spawn
                pool.shutdown(wait=False, cancel_futures=True)
                raise BenchError("a process started for pinned CPU kernels did not see them")
        finally:
            _restore(saved)
        _PINNED_POOL, _PINNED_WORKERS = pool, workers
        atexit.register(stop_pinned_worker)
        # a process started by multiprocessing (a --executor pool worker) does not run atexit
        # handlers: it joins its children first, and would wait forever on this idle one
        mp_util.Finalize(None, stop_pinned_worker, exitpriority=10)
    return _PINNED_POOL


def _stop_joblib_at_exit() -> None:
    # in every worker (an initializer; the start-up tasks may all land on one worker): at exit,
    # multiprocessing joins this process's children before the interpreter's own exit hooks
    # run, and joblib's idle workers would hold it there for their 300 s timeout
    mp_util.Finalize(None, _stop_joblib_workers, exitpriority=10)


def _started_pinned() -> bool:
    return kernels_pinned()


def _stop_joblib_workers() -> None:
    """Stop joblib's reusable worker processes, if this process started any."""
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def stop_pinned_worker() -> list[int | None]:
    """Stop the pinned workers; their exit codes. Their results are all back by now, so a
    worker that does not exit in time is killed rather than waited for."""
    global _PINNED_POOL, _PINNED_WORKERS
    pool, _PINNED_POOL, _PINNED_WORKERS = _PINNED_POOL, None, 0
    if pool is None:
        return []
    workers = list(getattr(pool, "_processes", {}).values())  # private, but the only handle
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.join(timeout=EXIT_GRACE_S)
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=EXIT_GRACE_S)
    return [worker.exitcode for worker in workers]


EXIT_GRACE_S = 10.0


def _call(fn: Callable[[T], Any], arg: T) -> Any:
    """``fn(arg)`` in the child; an exception that cannot travel back is sent as a BenchError."""
    try:
        return fn(arg)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise BenchError(str(exc)) from None
        raise


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextlib.contextmanager
def fixed_threads(threads: int) -> Iterator[dict[str, Any]]:
    """Hold torch (intra-op), BLAS and OpenMP at ``threads`` threads, torch deterministic.

    Yields what was set, for the run record; restores the previous settings afterwards.
    """
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    settings: dict[str, Any] = {"threads": threads}
    with contextlib.ExitStack() as stack:
        stack.enter_context(threadpool_limits(limits=threads))
        if "torch" in sys.modules:  # a method that uses torch has imported it by now
            import torch

            before = torch.get_num_threads()
            deterministic = torch.are_deterministic_algorithms_enabled()
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(True)
            stack.callback(torch.use_deterministic_algorithms, deterministic)
            stack.callback(torch.set_num_threads, before)
            settings.update(torch_threads=threads, torch_deterministic_algorithms=True)
        yield settings


_START_ENV = {k: os.environ.get(k) for k in PINNED_KERNELS}
