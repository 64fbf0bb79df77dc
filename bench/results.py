"""Run records and per-sample scores as tidy pandas DataFrames, for notebooks and scripts.

>>> from bench import results
>>> df = results.load("runs")                       # one row per unit and metric
>>> per_sample = results.load("runs", level="sample")  # one row per sample, metric and field
>>> df.pivot_table(index="method", columns="metric", values="value")

Only records that verify are read (see :func:`bench.execution.records.read_record`); a record that does
not is an error naming its file, as everywhere else.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import BenchError
from bench.execution.records import RunRecord, find_records, read_record
from bench.execution.layout import RunsLayout

__all__ = ["RECORD_COLUMNS", "SAMPLE_COLUMNS", "load"]

# kind: full | smoke (--limit) | failure (beside a kept good record); variant: "" for the
# method's registered config, else the hash its record name carries (see docs/reliability.md)
UNIT_COLUMNS = ["task", "dataset", "split", "method", "method_version", "reference", "kind",
                "variant"]
RECORD_COLUMNS = UNIT_COLUMNS + ["metric", "value", "ci_low", "ci_high", "direction", "status",
                                 "n_scored", "n_total", "created", "record"]
SAMPLE_COLUMNS = UNIT_COLUMNS + ["sample", "metric", "field", "value", "record"]


def _unit(record: RunRecord) -> dict[str, Any]:
    method = record.get("method", {})
    dataset = record.get("dataset", {})
    return {"task": record.get("task", {}).get("name"), "dataset": dataset.get("name"),
            "split": dataset.get("split"), "method": method.get("name"),
            "method_version": method.get("version"), "reference": bool(method.get("reference")),
            "kind": record.get("kind", "full"),
            "variant": record.get("identity", {}).get("variant", "")}


def _record_rows(record: RunRecord, path: Path) -> list[dict[str, Any]]:
    unit = _unit(record)
    rows = []
    for name in record.get("metric_order") or list(record.get("metrics", {})):
        m = record["metrics"].get(name)
        if m is None:
            continue
        ci = m.get("ci") or (None, None)
        rows.append({**unit, "metric": name, "value": m.get("value"), "ci_low": ci[0],
                     "ci_high": ci[1], "direction": m.get("direction"),
                     "status": m.get("status"), "n_scored": m.get("n_scored"),
                     "n_total": m.get("n_total"), "created": record.get("created"),
                     "record": str(path)})
    return rows


def _sample_rows(record: RunRecord, path: Path) -> list[dict[str, Any]]:
    samples = RunsLayout.samples(path)
    if not samples.is_file():
        raise BenchError(f"{samples}: per-sample scores missing for record {path}")
    unit = _unit(record)
    rows = []
    for n, line in enumerate(samples.read_text().splitlines(), 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchError(f"{samples}:{n}: not JSON ({exc})") from None
        for metric, fields in entry.get("scores", {}).items():
            for field, value in fields.items():
                # numbers only: notes and other text stay in the per-sample file
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    rows.append({**unit, "sample": entry["id"], "metric": metric,
                                 "field": field, "value": float(value), "record": str(path)})
    return rows


def load(runs_dir: str | Path = "runs", level: str = "record") -> pd.DataFrame:
    """Every verified record under ``runs_dir`` as a tidy DataFrame.

    ``level="record"``: one row per unit and metric (value, CI, coverage).
    ``level="sample"``: one row per sample, metric and numeric field of its per-sample score
    (e.g. ``p`` and ``y`` for classification, ``lse_c`` / ``lse_d`` / ``offset`` for LSE).
    """
    if level not in ("record", "sample"):
        raise BenchError(f"level must be 'record' or 'sample', got {level!r}")
    root = Path(runs_dir)
    if not root.is_dir():
        raise BenchError(f"runs directory {root} does not exist")
    build = _record_rows if level == "record" else _sample_rows
    rows: list[dict[str, Any]] = []
    for path in find_records(root):
        rows.extend(build(read_record(path), path))
    columns = RECORD_COLUMNS if level == "record" else SAMPLE_COLUMNS
    return pd.DataFrame(rows, columns=columns)
