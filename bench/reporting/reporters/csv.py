"""CSV leaderboard: one row per (table, method, metric)."""

from __future__ import annotations

import csv
import io

from bench.reporting.leaderboard import Table

FIELDS = ["task", "dataset", "split", "method", "reference", "metric", "direction", "value",
          "ci_low", "ci_high", "n_scored", "n_total", "status", "group", "best", "reproduce", "producer",
          "origin"]


def render(tables: list[Table]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for t in tables:
        for r in t.rows:
            for m, d in t.metrics:
                c = r.cells.get(m)
                if c is None:
                    continue
                w.writerow({
                    "task": t.task, "dataset": t.dataset, "split": t.split, "method": r.method,
                    "reference": r.reference, "metric": m, "direction": d,
                    "value": "" if c.value is None else repr(c.value),
                    "ci_low": repr(c.ci[0]) if c.ci else "", "ci_high": repr(c.ci[1]) if c.ci else "",
                    "n_scored": c.n_scored, "n_total": c.n_total, "status": c.status,
                    "group": r.groups.get(m, ""), "best": r.label in t.best(m),
                    "reproduce": r.reproduce, "producer": r.producer, "origin": r.origin,
                })
    return buf.getvalue()
