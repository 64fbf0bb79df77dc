"""Check claimed numbers against fresh runs: ``bench verify CLAIMS.toml`` and ``bench check``.

A claim says which of two questions it asks:

- ``tolerance = t``: does the measured value lie within t of the claimed one,
  ``|measured - value| <= t``? (The CI plays no part.)
- ``within = "ci"``: does the claimed value lie inside the measured 95% CI?

It cannot be checked when the metric is unavailable or failed. Every verdict says how many
samples the measured value covers (k of N scored).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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


def load_claims(path: str | Path) -> list[Claim]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BenchError(f"claims file {path}: {exc}") from None
    claims = []
    for i, raw in enumerate(data.get("claim", []), 1):
        unknown = set(raw) - CLAIM_KEYS
        if unknown:
            raise BenchError(f"claims file {path}: claim {i} has unknown keys {sorted(unknown)}")
        missing = {"task", "dataset", "split", "method", "metric", "value"} - set(raw)
        if missing:
            raise BenchError(f"claims file {path}: claim {i} lacks {sorted(missing)}")
        has_tol, within = "tolerance" in raw, raw.get("within")
        if within not in (None, "ci"):
            raise BenchError(f"claims file {path}: claim {i}: within = {within!r}; the only form "
                             'is within = "ci"')
        if has_tol == (within == "ci"):
            raise BenchError(f"claims file {path}: claim {i}: give either tolerance = T "
                             '(holds when |measured - value| <= T) or within = "ci" (holds when '
                             "the value lies in the measured 95% CI), not both or neither")
        if has_tol and not (isinstance(raw["tolerance"], (int, float)) and raw["tolerance"] >= 0):
            raise BenchError(f"claims file {path}: claim {i}: tolerance must be a number >= 0")
        claims.append(Claim(**raw))
    if not claims:
        raise BenchError(f"claims file {path}: no [[claim]] tables")
    return claims


def coverage(metric: dict[str, Any]) -> str:
    return f"{metric.get('n_scored', 0)} of {metric.get('n_total', 0)} scored"


def judge(claim: Claim, metric: dict[str, Any]) -> Verdict:
    value, ci = metric.get("value"), metric.get("ci")
    if value is None:
        why = metric.get("message") or metric.get("status", "")
        return Verdict(claim, "cannot be checked", None, None, f"{why} ({coverage(metric)})")
    low, high = (ci if ci else (value, value))
    msg = f"claimed {claim.value:.4g}, measured {value:.4g} [{low:.4g}, {high:.4g}] on " \
          f"{coverage(metric)}: "
    if claim.form == "tolerance":
        diff = abs(value - claim.value)
        holds = diff <= claim.tolerance + 1e-12  # float noise in the claimed decimal
        msg += f"|measured - claimed| = {diff:.4g} {'<=' if holds else '>'} tolerance " \
               f"{claim.tolerance:g}"
    else:
        holds = low <= claim.value <= high
        msg += f"claimed value {'inside' if holds else 'outside'} the measured 95% CI"
    return Verdict(claim, "holds" if holds else "does not hold", value, (low, high), msg)


def exit_code(verdicts: list[Verdict]) -> int:
    """0: all hold; 1: some do not hold; 3: none fails but some cannot be checked."""
    statuses = {v.status for v in verdicts}
    if "does not hold" in statuses:
        return 1
    return 3 if "cannot be checked" in statuses else 0


def committed_claims(runs: list[Any], methods: set[str]) -> list[Claim]:
    """Claims from the committed baseline's records, for the given (reference) methods.

    The committed CI is the tolerance band: a fresh value must lie within the CI's larger
    half-width of the committed value.
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
            low, high = m.get("ci") or (value, value)
            claims.append(Claim(rec["task"]["name"], rec["dataset"]["name"],
                                rec["dataset"]["split"], rec["method"]["name"], metric, value,
                                max(value - low, high - value), source=run.file))
    return claims


def baseline_claims(leaderboards_dir: str | Path, methods: set[str]) -> list[Claim]:
    """Claims read from the committed leaderboard CSVs, for the given (reference) methods.

    The committed CI is the tolerance band: a fresh run must land inside it.
    """
    claims = []
    for path in sorted(Path(leaderboards_dir).glob("*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["method"] not in methods or not row["value"]:
                    continue
                low = float(row["ci_low"]) if row["ci_low"] else float(row["value"])
                high = float(row["ci_high"]) if row["ci_high"] else float(row["value"])
                value = float(row["value"])
                claims.append(Claim(row["task"], row["dataset"], row["split"], row["method"],
                                    row["metric"], value, max(value - low, high - value),
                                    source=str(path)))
    return claims
