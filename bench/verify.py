"""Check claimed numbers against fresh runs: ``bench verify CLAIMS.toml`` and ``bench check``.

A claim holds when the claimed value lies inside the run's 95% CI widened by the claim's
tolerance; it cannot be checked when the metric is unavailable or failed. A committed number
(``bench check``) holds when the recomputed value differs from it by no more than the tolerance
its method declares (exact unless declared; docs/reproducibility.md).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from bench.errors import BenchError, did_you_mean

CLAIM_KEYS = {"task", "dataset", "split", "method", "metric", "value", "tolerance", "source"}


@dataclass(frozen=True)
class Claim:
    task: str
    dataset: str
    split: str
    method: str
    metric: str
    value: float
    tolerance: float = 0.0
    source: str = ""
    committed: bool = False  # a committed number: judged by difference, not by the run's CI
    reason: str = ""  # why the tolerance is above zero


@dataclass
class Verdict:
    claim: Claim
    status: str  # holds | does not hold | cannot be checked
    measured: float | None
    ci: tuple[float, float] | None
    message: str = ""


NAME_KEYS = ("task", "dataset", "split", "method", "metric")


def _claim_problems(raw: Any) -> list[str]:
    """Everything wrong with one [[claim]] table."""
    if not isinstance(raw, dict):
        return ["is not a table"]
    problems = []
    for key in sorted(set(raw) - CLAIM_KEYS):
        hint = did_you_mean(key, CLAIM_KEYS)
        problems.append(f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    missing = [k for k in (*NAME_KEYS, "value") if k not in raw]
    if missing:
        problems.append(f"lacks {', '.join(missing)}")
    for key in (*NAME_KEYS, "source"):
        if key in raw and (not isinstance(raw[key], str) or (key != "source" and not raw[key])):
            problems.append(f"{key} must be a non-empty string, got {raw[key]!r}")
    for key in ("value", "tolerance"):
        v = raw.get(key)
        if key in raw and (isinstance(v, bool) or not isinstance(v, (int, float))
                           or not math.isfinite(v)):
            problems.append(f"{key} must be a number (e.g. 0.96, not \"96%\"), got {v!r}")
        elif key == "tolerance" and key in raw and v < 0:
            problems.append(f"tolerance must be >= 0, got {v!r}")
    return problems


def load_claims(path: str | Path) -> list[Claim]:
    """Every claim of the file, checked completely: all problems reported at once, each with the
    file and the claim's number, before anything runs."""
    from bench.config import read_toml

    path = Path(path)
    data = read_toml(path, "claims file")
    unknown_tables = sorted(set(data) - {"claim"})
    if unknown_tables:
        raise BenchError(f"claims file {path}: unknown top-level key(s) {unknown_tables}; "
                         "claims are [[claim]] tables")
    raws = data.get("claim", [])
    if not isinstance(raws, list) or not raws:
        raise BenchError(f"claims file {path}: no [[claim]] tables")
    errors = [f"claims file {path}: claim {i}: {p}"
              for i, raw in enumerate(raws, 1) for p in _claim_problems(raw)]
    if errors:
        raise BenchError("\n".join(errors))
    return [Claim(**{**raw, "value": float(raw["value"]),
                     "tolerance": float(raw.get("tolerance", 0.0))}) for raw in raws]


def check_claims(claims: list[Claim], regs: Any, path: str | Path) -> None:
    """Every name in every claim is registered and belongs together; all problems at once."""
    errors = []
    for i, c in enumerate(claims, 1):
        where = f"claims file {path}: claim {i}"
        for kind, name in (("tasks", c.task), ("methods", c.method), ("datasets", c.dataset),
                           ("metrics", c.metric)):
            try:
                getattr(regs, kind).get(name)
            except BenchError as exc:
                errors.append(f"{where}: {exc}")
        if errors and errors[-1].startswith(where):
            continue
        for kind, name in (("method", c.method), ("dataset", c.dataset), ("metric", c.metric)):
            task = getattr(regs, kind + "s").get(name).task
            if task != c.task:
                errors.append(f"{where}: {kind} {name!r} belongs to task {task!r}, not {c.task!r}")
        splits = regs.datasets.get(c.dataset).splits
        if c.split not in splits:
            errors.append(f"{where}: dataset {c.dataset!r} has no split {c.split!r}; "
                          f"splits: {', '.join(splits)}")
    if errors:
        raise BenchError("\n".join(errors))


def judge(claim: Claim, metric: dict[str, Any]) -> Verdict:
    value, ci = metric.get("value"), metric.get("ci")
    if value is None:
        return Verdict(claim, "cannot be checked", None, None,
                       metric.get("message") or metric.get("status", ""))
    if claim.committed:
        return _judge_committed(claim, float(value), ci)
    low, high = (ci if ci else (value, value))
    holds = low - claim.tolerance <= claim.value <= high + claim.tolerance
    msg = f"claimed {claim.value:.4g}, measured {value:.4g} [{low:.4g}, {high:.4g}]"
    if claim.tolerance:
        msg += f" ± tolerance {claim.tolerance:g}"
    return Verdict(claim, "holds" if holds else "does not hold", value,
                   (low, high), msg)


def _judge_committed(claim: Claim, value: float, ci: Any) -> Verdict:
    difference = value - claim.value
    holds = abs(difference) <= claim.tolerance
    bound = f"{claim.tolerance:.3g} ({claim.reason})" if claim.tolerance else "0 (exact)"
    msg = (f"committed {claim.value:.10g}, measured {value:.10g}, "
           f"difference {difference:+.3g}, bound {bound}")
    return Verdict(claim, "holds" if holds else "does not hold", value,
                   tuple(ci) if ci else None, msg)


def exit_code(verdicts: list[Verdict]) -> int:
    """0: all hold; 1: some do not hold; 3: none fails but some cannot be checked."""
    statuses = {v.status for v in verdicts}
    if "does not hold" in statuses:
        return 1
    return 3 if "cannot be checked" in statuses else 0


def baseline_claims(leaderboards_dir: str | Path, methods: Mapping[str, Any]) -> list[Claim]:
    """Claims read from the committed leaderboard CSVs, for the given (reference) methods.

    ``methods`` maps a method name to its MethodSpec, whose declared tolerance bounds how far
    a fresh run may land from each committed value (exact when it declares none).
    """
    claims = []
    for path in sorted(Path(leaderboards_dir).glob("*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["method"] not in methods or not row["value"]:
                    continue
                value = float(row["value"])
                tolerance = methods[row["method"]].tolerance_for(row["metric"])
                claims.append(Claim(row["task"], row["dataset"], row["split"], row["method"],
                                    row["metric"], value, tolerance.bound(value),
                                    source=str(path), committed=True, reason=tolerance.reason))
    return claims
