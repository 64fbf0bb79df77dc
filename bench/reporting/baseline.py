"""The committed results: the reference runs' records and per-sample scores, shipped in the repo.

``baseline/`` holds one gzip'd JSON-lines file per task (one line per run record: the record as
``bench run`` wrote it, with its own sha256, and the per-sample scores that paired tests need)
and ``manifest.json`` with each file's sha256 and size. The files are written deterministically
(sorted lines, gzip without a timestamp), so exporting the same records again gives the same
bytes and a diff shows only what changed.

The leaderboard, ``bench compare`` and ``bench check`` read these rows; a user's own runs go to
the runs directory and are shown beside them. Only ``bench leaderboard --publish`` (the
maintainers' regeneration) rewrites this directory.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.hashing import sha256_bytes, sha256_file
from bench.execution.records import (
    RunRecord,
    _digest,
    find_records,
    is_leaderboard_record,
    migrate,
    read_record,
)
from bench.execution.store import SampleLog
from bench.execution.layout import RunsLayout

FORMAT = 1
MANIFEST = "manifest.json"
ENV = "BENCH_BASELINE_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "baseline"


class BaselineError(BenchError):
    pass


@dataclass
class BaselineRun:
    """One committed run: its record and per-sample scores (id -> metric -> values)."""

    record: RunRecord
    samples: dict[str, dict[str, Any]]
    file: str  # the baseline file it came from

    @property
    def key(self) -> tuple[str, str, str, str]:
        r = self.record
        return (r["task"]["name"], r["dataset"]["name"], r["dataset"]["split"],
                r["method"]["name"])


def baseline_dir() -> Path:
    """Where the committed baseline lives (``BENCH_BASELINE_DIR`` overrides it, for tests)."""
    return Path(os.environ.get(ENV) or DEFAULT_DIR)


def _line(record: RunRecord, samples: dict[str, Any]) -> str:
    return json.dumps({"record": record, "samples": samples}, sort_keys=True,
                      separators=(",", ":"), allow_nan=True)


def _gzip(text: str) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the same records give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())
    return buf.getvalue()


def export(runs_dir: str | Path, out_dir: str | Path | None = None, source: str = "") -> Path:
    """Write every record under ``runs_dir`` (and its per-sample scores) as the baseline.

    Returns the manifest path. Files of tasks no longer present are removed.
    """
    out = Path(out_dir) if out_dir is not None else baseline_dir()
    by_task: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for path in find_records(Path(runs_dir)):
        rec = read_record(path)
        if not is_leaderboard_record(rec):
            continue  # smoke (--limit), failure, check and verify records are not results
        entries = SampleLog(RunsLayout.samples(path)).read()
        samples = {i: e.get("scores", {}) for i, e in sorted(entries.items())}
        key = (rec["task"]["name"], rec["dataset"]["name"], rec["dataset"]["split"],
               rec["method"]["name"])
        by_task.setdefault(key[0], []).append((key, _line(rec, samples)))
    if not by_task:
        raise BaselineError(f"no run records under {runs_dir}/records to export")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for task, lines in sorted(by_task.items()):
        name = f"{task}.jsonl.gz"
        data = _gzip("".join(line + "\n" for _, line in sorted(lines)))
        tmp = out / f".{name}.tmp{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, out / name)
        files[name] = {"sha256": sha256_bytes(data), "bytes": len(data), "records": len(lines)}
    for stale in out.glob("*.jsonl.gz"):
        if stale.name not in files:
            stale.unlink()
    manifest = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "source": source, "files": files}
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def read_manifest(directory: str | Path | None = None) -> dict[str, Any] | None:
    """The manifest, or None when there is no baseline (e.g. an installed wheel)."""
    path = Path(directory if directory is not None else baseline_dir()) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BaselineError(f"{path}: baseline format {manifest.get('format')!r}, this bench reads "
                            f"format {FORMAT}")
    return manifest


_cache: dict[tuple[str, str], list[BaselineRun]] = {}


def load(directory: str | Path | None = None) -> list[BaselineRun]:
    """Every committed run, after checking each file's sha256 and each record's own checksum."""
    root = Path(directory if directory is not None else baseline_dir())
    manifest = read_manifest(root)
    if manifest is None:
        return []
    out: list[BaselineRun] = []
    for name, meta in sorted(manifest["files"].items()):
        path = root / name
        if not path.exists():
            raise BaselineError(f"{path} is listed in {root / MANIFEST} but missing; restore it "
                                f"(git checkout -- {root})")
        digest = sha256_file(path)
        if digest != meta["sha256"]:
            raise BaselineError(f"{path}: sha256 {digest[:16]}... does not match the manifest "
                                f"({meta['sha256'][:16]}...); the committed baseline was modified "
                                f"or corrupted, restore it (git checkout -- {root})")
        cache_key = (str(path.resolve()), digest)
        if cache_key not in _cache:
            _cache[cache_key] = list(_read_file(path))
        out.extend(_cache[cache_key])
    return out


def _read_file(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            try:
                body = json.loads(raw)
                record = body["record"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise BaselineError(f"{path} line {n}: not a baseline entry") from None
            if record.get("sha256") != _digest(record):
                raise BaselineError(f"{path} line {n}: the record's checksum does not verify")
            yield BaselineRun(migrate(record), body.get("samples", {}), str(path))


def find(task: str | None = None, dataset: str | None = None, split: str | None = None,
         method: str | None = None, directory: str | Path | None = None) -> list[BaselineRun]:
    """Committed runs matching the given names (None matches anything)."""
    want = (task, dataset, split, method)
    return [r for r in load(directory)
            if all(w is None or w == k for w, k in zip(want, r.key))]
