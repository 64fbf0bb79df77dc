"""Content hashes: canonical JSON and file bytes."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "items"):
        return dict(obj.items())
    raise TypeError(f"cannot hash object of type {type(obj).__name__}")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal content gives equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_default, allow_nan=True)


def hash_json(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


_file_hashes: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes; remembered per (path, size, mtime) so re-checks are cheap.

    Files of at least ``PERSIST_MIN_BYTES`` are also remembered across processes
    (:class:`_KnownHashes`), so a warm run does not re-read every artifact and weights file.
    """
    st = os.stat(path)
    real = os.path.realpath(path)
    key = (real, st.st_size, st.st_mtime_ns)
    if key not in _file_hashes:
        known = _known() if st.st_size >= PERSIST_MIN_BYTES else None
        stamp = _stamp(real, st)
        digest = known.get(stamp) if known is not None else None
        if digest is None:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while block := f.read(chunk):
                    h.update(block)
            digest = h.hexdigest()
            if known is not None:
                known.add(stamp, digest, st)
        _file_hashes[key] = digest
    return _file_hashes[key]


PERSIST_MIN_BYTES = 64 * 1024  # smaller files hash faster than a look-up pays for
RACY_S = 2.0  # a file changed this recently may change again within the same timestamp tick


def _stamp(real: str, st: os.stat_result) -> str:
    # ctime changes on every write and cannot be set back by a user (unlike mtime)
    return f"{real}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}|{st.st_dev}"


class _KnownHashes:
    """Digests of files by their full stat stamp, kept in ``<cache root>/file-sha256.jsonl``.

    As git's index: a file whose size, mtime, ctime or inode changed is read again, and a
    digest is only kept for a file last changed more than ``RACY_S`` before it was read (a
    write within the same clock tick would not show in the stamp). A line that does not parse
    is ignored; the file is started afresh when it grows past ``MAX_LINES``.
    """

    MAX_LINES = 20_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digests: dict[str, str] = {}
        self.lines = 0
        try:
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    self.lines += 1
                    try:
                        stamp, digest = json.loads(raw)
                    except (ValueError, TypeError):
                        continue
                    if isinstance(stamp, str) and isinstance(digest, str) and len(digest) == 64:
                        self.digests[stamp] = digest
        except OSError:
            pass

    def get(self, stamp: str) -> str | None:
        return self.digests.get(stamp)

    def add(self, stamp: str, digest: str, st: os.stat_result) -> None:
        if time.time() - max(st.st_mtime, st.st_ctime) < RACY_S:
            return
        self.digests[stamp] = digest
        mode = "a"
        if self.lines >= self.MAX_LINES:
            mode, self.lines = "w", 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, mode, encoding="utf-8") as f:  # one short appended line
                f.write(json.dumps([stamp, digest]) + "\n")
            self.lines += 1
        except OSError:  # a read-only cache only costs speed
            pass


_known_hashes: dict[str, _KnownHashes] = {}


def _known() -> _KnownHashes | None:
    """The cross-process digests of the current cache root (``BENCH_CACHE_DIR``); none when
    ``BENCH_HASH_MEMO=0``."""
    if os.environ.get("BENCH_HASH_MEMO", "1") == "0":
        return None
    from bench.feature_cache import cache_root

    path = cache_root() / "file-sha256.jsonl"
    if str(path) not in _known_hashes:
        _known_hashes[str(path)] = _KnownHashes(path)
    return _known_hashes[str(path)]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
