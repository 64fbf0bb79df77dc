"""A persistent key -> JSON mapping for per-sample features shared across methods and runs.

Each entry is one small JSON file carrying the sha256 of its own content; an entry that does not
verify is treated as missing (and recomputed by the caller), never used.
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Callable, Iterator

from bench.hashing import canonical_json, sha256_bytes


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache directory: the argument, else ``$BENCH_CACHE_DIR``, else ``~/.cache/bench``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("BENCH_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "bench"


class JsonDiskCache(MutableMapping):
    """``cache[key] = value`` persisted under ``<cache root>/<name>/``.

    ``encode`` turns a value into JSON-able data and ``decode`` back; keys are hashed into file
    names, so any string works.
    """

    def __init__(self, name: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any],
                 root: str | Path | None = None):
        self.dir = cache_root(root) / name
        self.encode, self.decode = encode, decode
        self._memory: dict[str, Any] = {}

    def _path(self, key: str) -> Path:
        digest = sha256_bytes(key.encode())
        return self.dir / digest[:2] / f"{digest}.json"

    def __getitem__(self, key: str) -> Any:
        if key in self._memory:
            return self._memory[key]
        path = self._path(key)
        try:
            body = json.loads(path.read_text())
            check = body.pop("sha256")
        except (OSError, ValueError, KeyError):
            raise KeyError(key) from None
        if check != sha256_bytes(canonical_json(body).encode()) or body.get("key") != key:
            raise KeyError(key)
        value = self.decode(body["value"])
        self._memory[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
            return True
        except KeyError:
            return False

    def __setitem__(self, key: str, value: Any) -> None:
        self._memory[key] = value
        body = {"key": key, "value": self.encode(value)}
        body["sha256"] = sha256_bytes(canonical_json(body).encode())
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, path)

    def __delitem__(self, key: str) -> None:
        self._memory.pop(key, None)
        self._path(key).unlink(missing_ok=True)

    def __iter__(self) -> Iterator[str]:
        return iter(self._memory)

    def __len__(self) -> int:
        return len(self._memory)
