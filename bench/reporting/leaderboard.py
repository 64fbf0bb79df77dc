"""Leaderboard tables, built only from verified run records.

Not pandas: a row carries its CI, coverage, significance groups, rank interval and provenance,
which the reporters render cell by cell; a DataFrame would hold the same objects and add a
conversion step. For analysis, ``bench.results.load(runs_dir)`` returns the records as a tidy
DataFrame.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lazy import resolve
from bench.execution.records import find_records, is_leaderboard_record, read_record
from bench.status import Direction, Status, direction_of


@dataclass
class Cell:
    value: float | None
    ci: tuple[float, float] | None
    n_scored: int
    n_total: int
    status: str
    message: str = ""

    @property
    def partial(self) -> bool:
        return self.status == Status.PARTIAL


@dataclass
class Row:
    method: str
    version: str
    reference: bool
    cells: dict[str, Cell]
    reproduce: str
    record: str
    n_total: int
    producer: str = ""  # the distribution and version that made the record
    groups: dict[str, str] = field(default_factory=dict)  # metric -> significance group letters
    ranks: dict[str, tuple[int, int]] = field(default_factory=dict)  # metric -> 95% rank interval
    origin: str = "run"  # "committed" (the shipped baseline) or "run" (the user's runs directory)
    samples: dict[str, dict[str, Any]] | None = None  # per-sample scores, when not in a file

    duplicate: bool = False  # a committed row of the same method is in the table too

    @property
    def label(self) -> str:
        """The row's unique name in its table: the method, and for a user's re-run of a committed
        method ``method (your run)``."""
        return self.method + (" (your run)" if self.duplicate else "")

    def sample_scores(self) -> dict[str, dict[str, Any]]:
        """Per-sample scores (id -> metric -> values): shipped with a committed row, else read
        from the ``.samples.jsonl`` beside the record."""
        if self.samples is None:
            from bench.reporting.significance import load_sample_scores

            self.samples = load_sample_scores(self.record)
        return self.samples


@dataclass
class Table:
    task: str
    dataset: str
    split: str
    metrics: list[tuple[str, str]]  # (name, direction)
    rows: list[Row]
    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)  # files beside the rendered tables

    @property
    def title(self) -> str:
        return f"{self.task} — {self.dataset} / {self.split}"

    def best(self, metric: str) -> set[str]:
        """Row labels with the best full-coverage value of ``metric`` (ties included).

        A partial row is not comparable, so it is never marked best.
        """
        direction = dict(self.metrics)[metric]
        vals: dict[str, float] = {
            r.label: v for r in self.rows if metric in r.cells
            and (v := r.cells[metric].value) is not None and not r.cells[metric].partial}
        if not vals:
            return set()
        target = direction_of(direction).best(vals.values())
        return {m for m, v in vals.items() if v == target}


def _cell(m: dict[str, Any]) -> Cell:
    ci = m.get("ci")
    return Cell(value=m.get("value"), ci=(ci[0], ci[1]) if ci else None,
                n_scored=m.get("n_scored", 0), n_total=m.get("n_total", 0),
                status=m.get("status", "ok"), message=m.get("message", ""))


def build_tables(runs_dir: str | Path | None, committed: list[Any] | None = None,
                 runs_origin: str = "run") -> list[Table]:
    """One table per (task, dataset, split) from the committed runs and the records under
    ``runs_dir`` (either may be absent). Rows from ``runs_dir`` are marked as the user's, except
    when publishing them (``runs_origin="committed"``)."""
    groups: dict[tuple[str, str, str], list[tuple[str, Any, str, Any]]] = defaultdict(list)
    for run in committed or []:
        rec = run.record
        key = (rec["task"]["name"], rec["dataset"]["name"], rec["dataset"]["split"])
        groups[key].append((run.file, rec, "committed", run.samples))
    for path in find_records(Path(runs_dir)) if runs_dir is not None else []:
        rec = read_record(path)
        if not is_leaderboard_record(rec):
            continue  # smoke (--limit), failure, check and verify records never feed a table
        key = (rec["task"]["name"], rec["dataset"]["name"], rec["dataset"]["split"])
        groups[key].append((str(path), rec, runs_origin, None))
    tables = []
    for (task, dataset, split), recs in sorted(groups.items()):
        metrics: dict[str, Direction] = {}
        fingerprints: dict[str, dict[str, Any]] = {}
        rows = []
        for where, rec, origin, samples in recs:
            order = rec.get("metric_order") or list(rec["metrics"])
            for name in order:
                m = rec["metrics"][name]
                metrics.setdefault(name, direction_of(m.get("direction")))
                if m.get("fingerprint"):
                    fingerprints.setdefault(name, m["fingerprint"])
            identity = rec.get("identity", {})
            label = rec["method"]["name"] + (f"~{identity['variant']}"
                                             if identity.get("variant") else "")
            producer = " ".join(x for x in (identity.get("distribution"),
                                            identity.get("version")) if x)
            rows.append(Row(method=label, version=rec["method"]["version"], producer=producer,
                            reference=bool(rec["method"].get("reference")),
                            cells={n: _cell(m) for n, m in rec["metrics"].items()},
                            reproduce=rec.get("reproduce", ""), record=where,
                            n_total=rec["dataset"]["n_samples"], origin=origin, samples=samples))
        committed_methods = {r.method for r in rows if r.origin == "committed"}
        for r in rows:
            r.duplicate = r.origin == "run" and r.method in committed_methods
        table = Table(task, dataset, split, list(metrics.items()), rows, fingerprints)
        _sort_rows(table)
        tables.append(table)
    return tables


def _sort_rows(table: Table) -> None:
    if not table.metrics:
        return
    main, direction = table.metrics[0]
    sign = -1 if direction_of(direction).higher_is_better else 1

    def key(row: Row) -> tuple[int, float, str]:
        v = row.cells.get(main)
        if v is None or v.value is None:
            return (1, 0.0, row.label)
        return (0, sign * v.value, row.label)

    table.rows.sort(key=key)


def write_leaderboards(tables: list[Table], out_dir: str | Path, reporters: list[Any]) -> list[Path]:
    """Render every task's tables with every reporter into ``out_dir/<task>.<ext>``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_task: dict[str, list[Table]] = defaultdict(list)
    for t in tables:
        by_task[t.task].append(t)
    written = []
    for task, task_tables in sorted(by_task.items()):
        for rep in reporters:
            path = out / f"{task}.{rep.extension}"
            path.write_text(resolve(rep.render)(task_tables))
            written.append(path)
    return written
