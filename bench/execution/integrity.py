"""What keeps a result from being shrunk, overwritten or hijacked.

- :func:`store_record` decides what a finished unit may replace: a run that evaluated nothing
  never replaces a good record (it is written beside it as ``<name>.failed.json``), a record made
  by another distribution is never replaced (the new one goes beside it), and a run of fewer
  metrics keeps the old record's other metrics when both scored the same predictions.
- :func:`unit_lock` gives each unit one writer: a second process waits with a message (or, for
  ``--resume``, is refused, since the first is still running).
- :func:`unusable_files` and :func:`report_unusable` make coverage count every file a corpus
  could not use, with one warning line per kind of problem.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import filelock

from bench.errors import BenchError
from bench.hashing import hash_json
from bench.interfaces import SplitMeta
from bench.execution.records import RecordError, RunRecord, read_record, write_record
from bench.status import Status
from bench.execution.store import SampleLog
from bench.execution.layout import RunsLayout

log = logging.getLogger(__name__)
LOCK_WAIT_ENV = "BENCH_LOCK_TIMEOUT"  # seconds a second run of a unit waits (default: 1 hour)


class EmptySplitError(BenchError):
    """A split with nothing to evaluate; nothing could be evaluated, so exit code 3."""

    exit_code = 3


class UnusableFileError(BenchError):
    """``--strict``: a file of the corpus could not be used."""


class UnitBusyError(BenchError):
    """Another live process holds the unit."""


def evaluated(record: Mapping[str, Any]) -> bool:
    """True when at least one metric of the record has a value."""
    return any(m.get("value") is not None for m in record.get("metrics", {}).values())


def failed(record: Mapping[str, Any]) -> bool:
    """A unit that produced no value because something failed (not merely unavailable or n/a)."""
    if evaluated(record):
        return False
    statuses = {m.get("status") for m in record.get("metrics", {}).values()}
    cov = str(record.get("coverage", {}).get("status", Status.OK))  # "failed: <reason>" or ok
    return cov.startswith(Status.FAILED) or Status.FAILED in statuses or not statuses


def _existing(path: Path) -> RunRecord | None:
    try:
        return read_record(path) if path.exists() else None
    except RecordError:
        return None  # a corrupt record protects nothing; it is replaced


def store_record(path: Path, record: RunRecord, samples: list[Mapping[str, Any]]) -> Path:
    """Write ``record`` (and its per-sample scores) where it may go; return where it went."""
    old = _existing(path)
    ours = record.get("identity", {}).get("distribution", "")
    theirs = (old or {}).get("identity", {}).get("distribution", "")  # type: ignore[attr-defined]
    if old is not None and ours and theirs and ours != theirs:
        beside = RunsLayout.beside(path, hash_json(ours)[:8])
        log.warning("%s was made by distribution %s, not %s; it is kept and this run's record "
                    "goes to %s", path, theirs, ours, beside)
        path = beside
        old = _existing(path)
    if old is not None and evaluated(record):
        samples = _carry_over(old, record, samples, path)
    if not evaluated(record) and old is not None and evaluated(old):
        failure = RunsLayout.failure(path)
        record["kind"] = "failure"
        record["kept"] = str(path)
        write_record(failure, record)
        print(f"warning: this run of {path.stem} failed; the last good record {path} is kept and "
              f"the failure is recorded in {failure}", file=sys.stderr)
        return failure
    write_record(path, record)
    SampleLog(RunsLayout.samples(path)).rewrite(samples)
    stale = RunsLayout.failure(path)
    if evaluated(record) and stale.exists():
        stale.unlink()  # the failure it recorded no longer describes this unit
    return path


def _carry_over(old: RunRecord, record: RunRecord, samples: list[Mapping[str, Any]],
                path: Path) -> list[Mapping[str, Any]]:
    """Keep the old record's metrics that this run did not compute (``--metric`` subset) or
    could not compute (unavailable here), when both scored the very same predictions."""
    if old.get("keys", {}).get("predictions") != record.get("keys", {}).get("predictions"):
        return samples  # other predictions: the old values describe something else
    carried = []
    for name, result in old.get("metrics", {}).items():
        new = record["metrics"].get(name)
        if result.get("value") is None or (new is not None and new.get("status") != "unavailable"):
            continue
        kept: dict[str, Any] = dict(result)
        if new is not None:
            details: dict[str, Any] = dict(kept.get("details") or {})
            details.update(kept_from=old.get("created", ""), unavailable_now=new.get("message", ""))
            kept["details"] = details
        record["metrics"][name] = kept  # type: ignore[assignment]
        record.setdefault("keys", {})[f"score:{name}"] = old.get("keys", {}).get(f"score:{name}", "")
        carried.append(name)
    if not carried:
        return samples
    # the old order first (its first metric is the table's main score), then any new metrics
    order = list(old.get("metric_order") or old.get("metrics", {}))
    record["metric_order"] = order + [m for m in record.get("metric_order", []) if m not in order]
    old_scores = SampleLog(RunsLayout.samples(path)).read()
    return [{**e, "scores": {**e.get("scores", {}),
                             **{m: v for m, v in old_scores.get(e["id"], {}).get("scores", {}).items()
                                if m in carried}}} for e in samples]


@contextlib.contextmanager
def unit_lock(path: Path, unit: Any) -> Iterator[None]:
    """Hold the unit's lock while it runs; a second process waits, or is refused on --resume."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), thread_local=False)
    owner = path.with_suffix(".owner")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        who = owner.read_text().strip() if owner.exists() else "another process"
        name = f"{unit.method} on {unit.dataset}/{unit.split}"
        if unit.resume:
            raise UnitBusyError(f"{name} is being run by {who} (lock {path}); --resume of a "
                                "live run is refused: wait for it to finish or stop it") from None
        wait = float(os.environ.get(LOCK_WAIT_ENV, "3600"))
        print(f"waiting for {name}: it is being run by {who} (lock {path})", file=sys.stderr)
        start = time.monotonic()
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise UnitBusyError(f"{name} is still being run by {who} after {wait:g} s "
                                f"(lock {path}); nothing was written") from None
        print(f"{name}: the other run finished after {time.monotonic() - start:.0f} s",
              file=sys.stderr)
    try:
        owner.write_text(f"pid {os.getpid()}\n")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()


def unusable_files(dataset: Any, split: Any, split_name: str) -> list[dict[str, str]]:
    """Files of this split that the corpus adapter could not use, as coverage failures."""
    meta = split.meta if isinstance(split, SplitMeta) else {}
    return [dict(f) for f in (meta or {}).get("unusable", [])]


def _kinds(failures: Sequence[Mapping[str, Any]]) -> Counter[str]:
    return Counter(str(f.get("kind") or f.get("message", "")) for f in failures)


def report_unusable(dataset: str, split: str, unusable: list[dict[str, str]],
                    strict: bool = False) -> None:
    """One warning per kind of problem with its count; ``strict`` fails on the first file."""
    if strict and unusable:
        raise UnusableFileError(f"--strict: dataset {dataset!r} split {split!r}: "
                                f"{unusable[0]['message']}")
    for kind, count in sorted(_kinds(unusable).items()):
        example = next(f for f in unusable if (f.get("kind") or f.get("message")) == kind)
        log.warning("%s/%s: %d file(s) could not be used: %s (e.g. %s); they count as not "
                    "scored", dataset, split, count, kind, example["id"])


def load_kind(message: str) -> str:
    """The kind of a load failure: its message without the file name and the details."""
    text = str(message)
    head, sep, rest = text.partition(": ")
    if sep and ("/" in head or "." in head):  # "<path>: reason (details): more"
        text = rest
    return re.split(r"[:(\[]", text, maxsplit=1)[0].strip() or str(message)


def report_load_failures(dataset: str, split: str, failures: Sequence[Mapping[str, Any]]) -> None:
    """One warning per kind of load failure, with its count and an example."""
    loads = [f for f in failures if f.get("stage") == "load"]
    kinds = Counter(load_kind(f["message"]) for f in loads)
    for kind, count in sorted(kinds.items()):
        first = next(f for f in loads if load_kind(f["message"]) == kind)
        log.warning("%s/%s: %d sample(s) could not be loaded: %s (e.g. %s: %s); see the "
                    "record's coverage", dataset, split, count, kind, first["id"],
                    first["message"])


def check_writable(directory: str | Path, what: str) -> Path:
    """Fail before any work when ``directory`` cannot hold results."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise BenchError(f"{what} {path} is a file, not a directory")
    probe_dir = path
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        raise BenchError(f"{what} {path} is not writable (permission denied on {probe_dir})")
    return path


def exit_status(records: list[Mapping[str, Any]]) -> int:
    """0: every unit evaluated; 1: some failed; 3: nothing could be evaluated."""
    if records and not any(evaluated(r) for r in records):
        return 3
    return 1 if any(failed(r) for r in records) else 0


def read_json(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())
