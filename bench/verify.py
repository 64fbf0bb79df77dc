"""Check claimed numbers against fresh runs: ``bench verify CLAIMS.toml`` and ``bench check``.

A claim holds when the claimed value lies inside the run's 95% CI widened by the claim's
tolerance; it cannot be checked when the metric is unavailable or failed.
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
        claims.append(Claim(**raw))
    if not claims:
        raise BenchError(f"claims file {path}: no [[claim]] tables")
    return claims


def judge(claim: Claim, metric: dict[str, Any]) -> Verdict:
    value, ci = metric.get("value"), metric.get("ci")
    if value is None:
        return Verdict(claim, "cannot be checked", None, None,
                       metric.get("message") or metric.get("status", ""))
    low, high = (ci if ci else (value, value))
    holds = low - claim.tolerance <= claim.value <= high + claim.tolerance
    msg = f"claimed {claim.value:.4g}, measured {value:.4g} [{low:.4g}, {high:.4g}]"
    if claim.tolerance:
        msg += f" ± tolerance {claim.tolerance:g}"
    return Verdict(claim, "holds" if holds else "does not hold", value,
                   (low, high), msg)


def exit_code(verdicts: list[Verdict]) -> int:
    """0: all hold; 1: some do not hold; 3: none fails but some cannot be checked."""
    statuses = {v.status for v in verdicts}
    if "does not hold" in statuses:
        return 1
    return 3 if "cannot be checked" in statuses else 0


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
