"""The ``bench weights`` operations as plain functions returning rows or messages.

Each takes the registered specs as a mapping ``name -> WeightsSpec`` (or any iterable of specs);
the CLI prints what they return.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bench.errors import UnknownNameError
from bench.specs import WeightsSpec
from bench.weights import registry

Specs = Mapping[str, WeightsSpec] | Iterable[WeightsSpec]


def _as_mapping(specs: Specs) -> dict[str, WeightsSpec]:
    if isinstance(specs, Mapping):
        return dict(specs)
    return {s.name: s for s in specs}


def _lookup(specs: Specs, name: str) -> WeightsSpec:
    table = _as_mapping(specs)
    if name not in table:
        raise UnknownNameError("weights", name, table)
    return table[name]


def _verified(st: registry.WeightsStatus) -> str:
    if not st.present:
        return "absent"
    if registry.unverified(st.path) is not None:
        return "UNVERIFIED"
    return {True: "ok", False: "BAD", None: "unchecked"}[st.sha256_ok]


def list_rows(specs: Specs) -> list[dict[str, Any]]:
    """One row per registered file: name, state, path, checksum, license, URL."""
    rows = []
    for name, spec in sorted(_as_mapping(specs).items()):
        st = registry.status(spec)
        rows.append(
            {
                "name": name,
                "state": _verified(st),
                "path": str(st.path),
                "sha256": spec.sha256 or (f"prefix {registry.expected_prefix(spec)}"
                                          if registry.expected_prefix(spec) else "unknown"),
                "size": spec.size,
                "shipped": bool(spec.shipped_path),
                "license": spec.license,
                "url": spec.url,
            }
        )
    return rows


def fetch_command(specs: Specs, name: str, force: bool = False) -> str:
    """Download one file into place; returns a one-line report."""
    spec = _lookup(specs, name)
    path = registry.fetch(spec, force=force)
    return f"{name}: {path} ({registry.status(spec).message})"


def import_command(specs: Specs, name: str, file: str | os.PathLike[str],
                   force: bool = False) -> str:
    """Copy a user's file into place after checking it; returns a one-line report."""
    spec = _lookup(specs, name)
    path = registry.import_file(spec, file, force=force)
    note = registry.unverified(path)
    if note is not None:
        return f"{name}: imported {file} -> {path} UNVERIFIED ({note['reason']})"
    return f"{name}: imported {file} -> {path}"


def verify_command(specs: Specs, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Check the named files (all when ``names`` is empty), including their key sets."""
    table = _as_mapping(specs)
    chosen = [_lookup(table, n) for n in names] if names else [table[n] for n in sorted(table)]
    rows = []
    for spec in chosen:
        ok, message = True, registry.status(spec).message
        try:
            registry.verify(spec, download=False)  # verifying never installs anything
            if spec.loader is not None:
                registry.load_state_dict(spec)
                message += ", key set ok"
        except registry.WeightsUnavailable as exc:
            ok, message = False, str(exc)
        rows.append({"name": spec.name, "ok": ok, "message": message})
    return rows


def format_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Plain aligned text table of ``rows`` for terminals."""
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
