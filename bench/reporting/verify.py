"""Check claimed numbers against fresh runs: ``bench verify CLAIMS.toml`` and ``bench check``.

A claim says which of two questions it asks:

- ``tolerance = t``: does the measured value lie within t of the claimed one,
  ``|measured - value| <= t``? (The CI plays no part.)
- ``within = "ci"`` (also what a claim without a tolerance asks): does the claimed value lie
  inside the measured 95% CI?

It cannot be checked when the metric is unavailable or failed. Every verdict says how many
samples the measured value covers (k of N scored).

A committed number (``bench check``) holds when the recomputed value differs from it by no more
than the tolerance its method spec declares (exact unless declared; docs/reproducibility.md).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from bench.errors import BenchError, did_you_mean

CLAIM_KEYS = {"task", "dataset", "split", "method", "metric", "value", "tolerance", "within",
              "source"}


@dataclass(frozen=True)
class Claim:
    task: str
    dataset: str
    split: str
    method: str
    metric: str
    value: float
    tolerance: float | None = None  # the |measured - value| <= tolerance form
    source: str = ""
    within: str = ""  # "ci": the value-in-measured-CI form (the default without a tolerance)
    committed: bool = False  # a committed number: |measured - value| <= its declared bound
    reason: str = ""  # why that bound is above zero

    @property
    def form(self) -> str:
        return "tolerance" if self.tolerance is not None else "ci"


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
        elif key == "tolerance" and isinstance(v, (int, float)) and v < 0:
            problems.append(f"tolerance must be >= 0, got {v!r}")
    within = raw.get("within")
    if within not in (None, "ci"):
        problems.append(f'within = {within!r}; the only form is within = "ci"')
    elif "tolerance" in raw and within == "ci":
        problems.append('give either tolerance = T (holds when |measured - value| <= T) or '
                        'within = "ci" (holds when the value lies in the measured 95% CI), '
                        "not both")
    return problems


def load_claims(path: str | Path) -> list[Claim]:
    """Every claim of the file, checked completely: all problems reported at once, each with the
    file and the claim's number, before anything runs."""
    from bench.execution.config import read_toml

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
                     "tolerance": float(raw["tolerance"]) if "tolerance" in raw else None})
            for raw in raws]


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


def coverage(metric: dict[str, Any]) -> str:
    return f"{metric.get('n_scored', 0)} of {metric.get('n_total', 0)} scored"


def judge(claim: Claim, metric: dict[str, Any]) -> Verdict:
    value, ci = metric.get("value"), metric.get("ci")
    if value is None:
        why = metric.get("message") or metric.get("status", "")
        return Verdict(claim, "cannot be checked", None, None, f"{why} ({coverage(metric)})")
    if claim.committed:
        return _judge_committed(claim, float(value), ci, coverage(metric))
    low, high = (ci if ci else (value, value))
    msg = f"claimed {claim.value:.4g}, measured {value:.4g} [{low:.4g}, {high:.4g}] on " \
          f"{coverage(metric)}: "
    if claim.tolerance is not None:
        diff = abs(value - claim.value)
        holds = diff <= (claim.tolerance or 0.0) + 1e-12  # float noise in the claimed decimal
        msg += f"|measured - claimed| = {diff:.4g} {'<=' if holds else '>'} tolerance " \
               f"{claim.tolerance:g}"
    else:
        holds = low <= claim.value <= high
        msg += f"claimed value {'inside' if holds else 'outside'} the measured 95% CI"
    return Verdict(claim, "holds" if holds else "does not hold", value, (low, high), msg)


def _judge_committed(claim: Claim, value: float, ci: Any, covered: str) -> Verdict:
    difference = value - claim.value
    bound = claim.tolerance or 0.0
    holds = abs(difference) <= bound
    why = f"{bound:.3g} ({claim.reason})" if bound else "0 (exact)"
    msg = (f"committed {claim.value:.10g}, measured {value:.10g} on {covered}, "
           f"difference {difference:+.3g}, bound {why}")
    return Verdict(claim, "holds" if holds else "does not hold", value,
                   tuple(ci) if ci else None, msg)


def _committed(task: str, dataset: str, split: str, method: Any, metric: str, value: float,
               source: str) -> Claim:
    """A committed value with the tolerance its method spec declares for ``metric`` on this
    machine's CPU."""
    from bench.execution.provenance import cpu_vendor

    tolerance = method.tolerance_for(metric).on(cpu_vendor())
    return Claim(task, dataset, split, method.name, metric, value, tolerance.bound(value),
                 source=source, committed=True, reason=tolerance.reason)


def exit_code(verdicts: list[Verdict]) -> int:
    """0: all hold; 1: some do not hold; 3: none fails but some cannot be checked."""
    statuses = {v.status for v in verdicts}
    if "does not hold" in statuses:
        return 1
    return 3 if "cannot be checked" in statuses else 0


def committed_claims(runs: list[Any], methods: Mapping[str, Any]) -> list[Claim]:
    """Claims from the committed baseline's records, for the given (reference) methods.

    ``methods`` maps a name to its MethodSpec, whose declared tolerance bounds how far a fresh
    value may lie from each committed one (exact when it declares none).
    """
    claims = []
    for run in runs:
        rec = run.record
        if rec["method"]["name"] not in methods:
            continue
        for metric, m in rec["metrics"].items():
            value = m.get("value")
            if value is None:
                continue
            claims.append(_committed(rec["task"]["name"], rec["dataset"]["name"],
                                     rec["dataset"]["split"], methods[rec["method"]["name"]],
                                     metric, value, run.file))
    return claims


def baseline_claims(leaderboards_dir: str | Path, methods: Mapping[str, Any]) -> list[Claim]:
    """Claims read from the committed leaderboard CSVs, for the given (reference) methods, each
    with the tolerance its MethodSpec declares (see ``committed_claims``)."""
    claims = []
    for path in sorted(Path(leaderboards_dir).glob("*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["method"] not in methods or not row["value"]:
                    continue
                claims.append(_committed(row["task"], row["dataset"], row["split"],
                                         methods[row["method"]], row["metric"],
                                         float(row["value"]), str(path)))
    return claims
