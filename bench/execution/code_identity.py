"""What code made a method's predictions: a hash of the source of the plugin that registered it.

Cached predictions are keyed by the method's name, version, config and weights, not by this
hash: the version is the author's statement that outputs changed, and keying on source would
throw away hours of predictions for a comment, a refactor or an edit to another method of the
same plugin, while still missing code the hash cannot see (dependencies, compiled extensions).
Instead the hash is stored with the cache and in the record, and a run that reuses predictions
made by different source under the same version warns loudly and says so in its record
(``method.code.stale_cache``), so stale results are never silent.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

HARNESS = "bench"  # the harness's own changes are covered by HARNESS_CACHE_VERSION


@lru_cache(maxsize=1)
def _owners() -> dict[str, list[str]]:
    """Top-level package -> distributions; scans every installed distribution, so once."""
    return dict(packages_distributions())


def _top_packages(module: str) -> tuple[str, ...]:
    """The method's top-level package, and the others its distribution installs (so the
    built-in methods' ``plugins`` come with ``reference_models``), minus the harness."""
    top = module.split(".")[0]
    owners = _owners()
    dists = set(owners.get(top, []))
    tops = {top} | {t for t, ds in owners.items() if dists & set(ds)}
    tops.discard(HARNESS)
    return tuple(sorted(tops or {top}))


def _files(package: str) -> list[tuple[str, Path]]:
    spec = importlib.util.find_spec(package)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        out = []
        for root in spec.submodule_search_locations:
            out += [(f"{package}/{p.relative_to(root)}", p) for p in sorted(Path(root).rglob("*.py"))]
        return out
    return [(package, Path(spec.origin))] if spec.origin and spec.origin.endswith(".py") else []


@lru_cache(maxsize=None)
def _hash(packages: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for package in packages:
        for rel, path in _files(package):
            h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def source_identity(factory: Any) -> dict[str, Any]:
    """``{"sha256", "packages"}`` for the method whose factory is ``"module:attr"`` or a callable."""
    module = factory.partition(":")[0] if isinstance(factory, str) else \
        getattr(factory, "__module__", "") or ""
    if not module:
        return {"sha256": "", "packages": []}
    packages = _top_packages(module)
    return {"sha256": _hash(packages), "packages": list(packages)}
