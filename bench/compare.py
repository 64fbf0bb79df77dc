"""Compare two run records metric by metric with paired tests over their shared samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.records import read_record
from bench.significance import ALPHA, load_sample_scores, paired_pvalue


@dataclass
class MetricDiff:
    metric: str
    direction: str
    a: float | None
    b: float | None
    n_shared: int
    p_value: float | None
    verdict: str  # better | worse | same | n/a


def compare_records(path_a: Path, path_b: Path, aggregates: dict[str, Any],
                    resamples: int = 1000, alpha: float = ALPHA) -> list[MetricDiff]:
    """How B differs from A on each shared metric; 'worse' means significantly worse."""
    ra, rb = read_record(path_a), read_record(path_b)
    if (ra["task"]["name"], ra["dataset"]["name"]) != (rb["task"]["name"], rb["dataset"]["name"]):
        raise BenchError(f"{path_a} and {path_b} are on different tasks or datasets")
    sa, sb = load_sample_scores(path_a), load_sample_scores(path_b)
    out = []
    for metric in [m for m in ra["metrics"] if m in rb["metrics"]]:
        ma, mb = ra["metrics"][metric], rb["metrics"][metric]
        va, vb = ma.get("value"), mb.get("value")
        direction = ma.get("direction", "higher")
        shared = [i for i in sorted(set(sa) & set(sb)) if metric in sa[i] and metric in sb[i]]
        p = None
        verdict = "n/a"
        if va is not None and vb is not None and metric in aggregates and len(shared) >= 2:
            p = paired_pvalue(metric, [sb[i][metric] for i in shared],
                              [sa[i][metric] for i in shared], aggregates[metric], resamples)
            better = (vb > va) if direction == "higher" else (vb < va)
            verdict = "same" if p >= alpha else ("better" if better else "worse")
        out.append(MetricDiff(metric, direction, va, vb, len(shared), p, verdict))
    return out
