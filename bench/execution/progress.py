"""Progress on stderr for the stages that have no per-sample bar: loading a dataset, fitting.

A stage prints one line when it starts and one with its duration when it ends, so a long fit is
never silent (logs and non-terminal output get the same lines). ``BENCH_QUIET=1`` turns them off.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from tqdm import tqdm


def quiet() -> bool:
    return os.environ.get("BENCH_QUIET", "") not in ("", "0")


def say(message: str) -> None:
    """One line on stderr that does not break a running tqdm bar."""
    if not quiet():
        tqdm.write(message, file=sys.stderr)


@contextmanager
def stage(what: str) -> Iterator[None]:
    """``what ...`` now and ``what: done in N s`` (or ``failed after``) at the end."""
    say(f"{what} ...")
    t0 = time.perf_counter()
    try:
        yield
    except BaseException:
        say(f"{what}: failed after {time.perf_counter() - t0:.1f} s")
        raise
    say(f"{what}: done in {time.perf_counter() - t0:.1f} s")


def bar(total: int, desc: str) -> tqdm:
    """A per-item bar on stderr that vanishes when done (hidden under BENCH_QUIET)."""
    return tqdm(total=total, desc=desc, leave=False, disable=quiet() or None, file=sys.stderr)


def bytes_bar(total: int | None, desc: str) -> tqdm:
    """A download bar in bytes (total None: size unknown)."""
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False,
                disable=quiet() or None, file=sys.stderr)
