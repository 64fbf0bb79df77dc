"""The run record: one JSON per (method, dataset, split), schema defined here.

``SCHEMA_VERSION`` 2 is current. Version 1 records (a flat ``metrics`` mapping of name to
``{"value", "ci": [low, high]}`` and no coverage block) still load: :func:`migrate` upgrades them.
A record carries the sha256 of its own content; a record that does not verify is refused.

Every ``status`` (of a metric result, a per-sample entry, the coverage block) is a
:class:`bench.status.Status`: ``ok``, ``partial`` (some samples failed or were unusable),
``failed`` (nothing scored), ``unavailable`` (weights or a library absent) or ``n/a`` (the metric
does not apply to these samples; not a failure). The coverage block's status is ``ok`` or, for a
method that produced nothing, ``"<failed|unavailable>: <reason>"``. ``direction`` is a
:class:`bench.status.Direction` (``higher`` or ``lower`` is better).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, TypedDict

from bench.errors import BenchError
from bench.hashing import canonical_json, sha256_bytes
from bench.status import Direction
from bench.execution.layout import RunsLayout

SCHEMA_VERSION = 2


class MetricResult(TypedDict, total=False):
    value: float | None
    ci: list[float] | None  # [low, high] at ci_level
    ci_level: float
    ci_method: str
    direction: str  # a bench.status.Direction: higher | lower
    status: str  # a bench.status.Status: ok | partial | failed | unavailable | n/a
    message: str
    n_total: int
    n_scored: int
    n_failed: int
    failures: list[dict[str, str]]  # [{"id", "stage", "message"}]
    fingerprint: dict[str, Any]
    details: dict[str, Any]


class RunRecord(TypedDict, total=False):
    schema_version: int
    task: dict[str, str]  # name, version
    dataset: dict[str, Any]  # name, version, split, manifest_hash, n_samples
    method: dict[str, Any]  # name, version, config, config_hash, weights, reference, plugin
    metrics: dict[str, MetricResult]
    metric_order: list[str]  # the run's metric order (the first is the table's main score)
    coverage: dict[str, Any]  # predict stage: n_total, n_ok, n_failed, failures
    seeds: dict[str, int]
    keys: dict[str, str]  # prediction cache key, per-metric score keys
    timing: dict[str, float]  # seconds per stage
    execution: dict[str, Any]  # distributed runs only: executor, shards, retries, GPUs, devices
    environment: dict[str, Any]
    plugins: dict[str, str]
    command: str
    reproduce: str
    created: str
    sha256: str
    kind: str  # full | smoke (--limit) | failure (beside a kept good record) | check | verify
    identity: dict[str, Any]  # limit, seed, config overrides, dataset options, producer
    kept: str  # failure records: the good record that was kept


class RecordError(BenchError):
    pass


def _digest(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "sha256"}
    return sha256_bytes(canonical_json(body).encode())


def write_record(path: Path, record: RunRecord) -> None:
    """Write atomically, with the content checksum filled in."""
    record = dict(record)  # type: ignore[assignment]
    record["schema_version"] = SCHEMA_VERSION
    record["sha256"] = _digest(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def migrate(record: dict[str, Any]) -> RunRecord:
    """Upgrade an older record to the current schema."""
    version = record.get("schema_version", 1)
    if version == SCHEMA_VERSION:
        return record  # type: ignore[return-value]
    if version != 1:
        raise RecordError(f"unknown record schema_version {version}")
    metrics: dict[str, MetricResult] = {}
    for name, m in record.get("metrics", {}).items():
        ci = m.get("ci")
        metrics[name] = MetricResult(
            value=m.get("value"), ci=list(ci) if ci else None, ci_level=0.95,
            ci_method="percentile bootstrap", direction=m.get("direction", Direction.HIGHER),
            status="ok", n_total=m.get("n", 0), n_scored=m.get("n", 0), n_failed=0,
            failures=[], fingerprint=m.get("fingerprint", {}),
        )
    out = dict(record)
    out["metrics"] = metrics
    out.setdefault("coverage", {})
    out["schema_version"] = SCHEMA_VERSION
    return out  # type: ignore[return-value]


def read_record(path: Path) -> RunRecord:
    """Load and verify a record; a corrupt file is an error naming it."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: cannot read run record ({exc})") from None
    if not isinstance(record, dict):
        raise RecordError(f"{path}: not a run record")
    version = record.get("schema_version", 1)
    if version not in (1, SCHEMA_VERSION):
        raise RecordError(f"{path}: unknown record schema_version {version}")
    stored = record.get("sha256")
    if stored is not None and stored != _digest(record):
        raise RecordError(f"{path}: checksum mismatch, the record was modified or corrupted; "
                          "re-run `bench run` to recompute it")
    if stored is None and record.get("schema_version", 1) >= 2:
        raise RecordError(f"{path}: record has no checksum")
    return migrate(record)


def find_records(root: Path) -> list[Path]:
    return RunsLayout(root).find_records()


def is_leaderboard_record(record: Mapping[str, Any]) -> bool:
    """Only full runs feed leaderboards: never smoke (--limit), failure, check or verify ones."""
    return record.get("kind", "full") == "full"
