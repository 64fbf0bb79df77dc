"""Crash-safe per-sample result files and content-addressed array artifacts.

Each JSONL line carries a sha256 of its own payload. A torn last line (a process killed
mid-write) or a line whose checksum or artifact does not verify is dropped on reading and the
sample is computed again; nothing unverified is ever used.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from bench.hashing import canonical_json, sha256_bytes, sha256_file

log = logging.getLogger(__name__)


def split_arrays(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Separate numpy arrays (stored as artifacts) from JSON-able values."""
    plain: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for k, v in data.items():
        if isinstance(v, np.ndarray):
            arrays[k] = v
        elif isinstance(v, np.generic):
            plain[k] = v.item()
        else:
            plain[k] = v
    return plain, arrays


class ArtifactStore:
    """npz files named by the sha256 of their bytes."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def put(self, arrays: Mapping[str, np.ndarray]) -> str:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        data = buf.getvalue()
        digest = sha256_bytes(data)
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return digest

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.npz"

    def verify(self, digest: str) -> bool:
        path = self.path(digest)
        return path.exists() and sha256_file(path) == digest

    def get(self, digest: str) -> dict[str, np.ndarray]:
        with np.load(self.path(digest), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}


class SampleLog:
    """An append-only JSONL file of per-sample entries keyed by ``id``."""

    def __init__(self, path: Path, artifacts: ArtifactStore | None = None):
        self.path = Path(path)
        self.artifacts = artifacts

    @staticmethod
    def _line(entry: Mapping[str, Any]) -> str:
        body = dict(entry)
        body["sha256"] = sha256_bytes(canonical_json(body).encode())
        return json.dumps(body, sort_keys=True, allow_nan=True) + "\n"

    def append(self, entry: Mapping[str, Any]) -> None:
        line = self._line(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write call per line, flushed and synced, so a crash leaves at most a torn tail.
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def extend(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append several entries with one write and one sync (a torn tail loses only lines
        that fail their checksum, which are recomputed)."""
        if not entries:
            return
        lines = "".join(self._line(e) for e in entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())

    def _valid(self, raw: str) -> dict[str, Any] | None:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return None
        if not isinstance(body, dict) or "id" not in body:
            return None
        digest = body.pop("sha256", None)
        if digest != sha256_bytes(canonical_json(body).encode()):
            return None
        art = body.get("artifact")
        if art and (self.artifacts is None or not self.artifacts.verify(art)):
            return None
        return body

    def read(self) -> dict[str, dict[str, Any]]:
        """Verified entries by id (the last valid entry of an id wins); bad lines are reported."""
        out: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return out
        bad = 0
        with open(self.path, encoding="utf-8") as f:
            for raw in f:
                if not raw.strip():
                    continue
                body = self._valid(raw)
                if body is None:
                    bad += 1
                    continue
                out[body["id"]] = body
        if bad:
            log.warning("%s: ignored %d corrupt or unverifiable line(s); they are recomputed",
                        self.path, bad)
        return out

    def rewrite(self, entries: Iterator[Mapping[str, Any]] | list[Mapping[str, Any]]) -> None:
        """Replace the file with exactly ``entries`` (drops corrupt lines and duplicates).

        Written to a temporary file of a unique name, synced, then renamed over the old one:
        a reader or a crash sees the old file or the new one, never a mix.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for e in entries:
                    f.write(self._line({k: v for k, v in e.items() if k != "sha256"}))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def load_arrays(self, entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
        art = entry.get("artifact")
        if not art or self.artifacts is None:
            return {}
        return self.artifacts.get(art)
