"""Compare two runs metric by metric with paired tests over the samples both scored.

A run is named by a record file, a run id ``TASK/DATASET/SPLIT/METHOD`` or a method name; ids and
names are looked up in the runs directory first and then in the committed baseline
(``committed:NAME`` looks only there). Both sides are reported on all their samples and on the
paired samples; the test and the verdict use the paired samples only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from bench.reporting import baseline
from bench.errors import BenchError
from bench.execution.records import RunRecord, find_records, is_leaderboard_record, read_record
from bench.reporting.significance import ALPHA, PairedTest, load_sample_scores
from bench.status import direction_of
from bench.execution.layout import RunsLayout

COMMITTED = "committed:"


@dataclass
class Side:
    """One run to compare: its record, per-sample scores and where it came from."""

    record: RunRecord
    samples: dict[str, dict[str, Any]]
    origin: str  # committed | run | file
    where: str

    @property
    def table(self) -> tuple[str, str, str]:
        r = self.record
        return (r["task"]["name"], r["dataset"]["name"], r["dataset"]["split"])

    @property
    def method(self) -> str:
        return self.record["method"]["name"]

    def describe(self) -> str:
        what = {"committed": "committed baseline", "run": "your run", "file": "record file"}
        return f"{self.method} ({what[self.origin]}: {self.where})"


@dataclass
class MetricDiff:
    metric: str
    direction: str
    a: float | None  # each side's value on all the samples it scored
    b: float | None
    n_shared: int  # samples both sides scored for this metric
    a_paired: float | None  # each side's value on the shared samples only
    b_paired: float | None
    p_value: float | None
    verdict: str  # better | worse | same | n/a


def _file_side(path: Path, origin: str) -> Side:
    return Side(read_record(path), load_sample_scores(path), origin, str(path))


def _committed(run: baseline.BaselineRun) -> Side:
    return Side(run.record, run.samples, "committed", run.file)


def resolve(ref: str, runs_dir: str | Path, known_methods: Mapping[str, Any] = {}) -> list[Side]:
    """Every run ``ref`` names (one per task/dataset/split for a method name)."""
    committed_only = ref.startswith(COMMITTED)
    name = ref[len(COMMITTED):] if committed_only else ref
    path = Path(name)
    if name.endswith(".json"):
        if committed_only:
            raise BenchError(f"{ref}: {COMMITTED} takes a method name or a run id, not a file")
        if not path.is_file():
            raise BenchError(f"no record file {path}")
        return [_file_side(path, "file")]
    runs = Path(runs_dir)
    parts = name.split("/")
    if len(parts) == 4:
        record = RunsLayout(runs).named_record(name)
        if not committed_only and record.is_file():
            return [_file_side(record, "run")]
        found = [_committed(r) for r in baseline.find(*parts)]
        if not found:
            where = "the committed baseline" if committed_only else \
                f"{record} or the committed baseline"
            raise BenchError(f"no run record for {name} in {where} (runs directory: --runs-dir "
                             "or BENCH_RUNS_DIR, default runs/)")
        return found
    if len(parts) != 1 or not name:
        raise BenchError(f"{ref!r}: expected a method name, TASK/DATASET/SPLIT/METHOD or a "
                         "record file (.json)")
    sides: dict[tuple[str, str, str], Side] = {}
    if not committed_only:
        for p in find_records(runs):
            rec = read_record(p)
            if rec["method"]["name"] != name or not is_leaderboard_record(rec):
                continue
            side = Side(rec, load_sample_scores(p), "run", str(p))
            if p.stem == name or side.table not in sides:  # the default config first
                sides[side.table] = side
    for run in baseline.find(method=name):
        side = _committed(run)
        sides.setdefault(side.table, side)
    if not sides:
        if known_methods and name not in known_methods:
            from bench.errors import UnknownNameError

            raise UnknownNameError("method", name, known_methods)
        where = "the committed baseline" if committed_only else f"{runs}/records or the committed baseline"
        raise BenchError(f"no runs of method {name!r} in {where}; run it first "
                         f"(bench run --method {name})")
    return [sides[k] for k in sorted(sides)]


def pair(a_sides: list[Side], b_sides: list[Side], task: str | None = None,
         dataset: str | None = None, split: str | None = None) -> list[tuple[Side, Side]]:
    """Sides of A and B on the same task/dataset/split (optionally only the given ones)."""
    want = (task, dataset, split)

    def keep(s: Side) -> bool:
        return all(w is None or w == k for w, k in zip(want, s.table))

    b_by = {s.table: s for s in b_sides if keep(s)}
    pairs = [(a, b_by[a.table]) for a in a_sides if keep(a) and a.table in b_by]
    if not pairs:
        fa = ", ".join("/".join(s.table) for s in a_sides) or "none"
        fb = ", ".join("/".join(s.table) for s in b_sides) or "none"
        raise BenchError(f"the two sides share no task/dataset/split (A: {fa}; B: {fb})")
    return pairs


def require_samples(side: Side) -> None:
    """Paired tests need per-sample scores: a side without them is an error, not 'n/a'."""
    if side.samples:
        return
    if side.origin == "committed":
        where = f"the committed baseline ({side.where}) has none for {side.method}"
    else:
        where = f"{RunsLayout.samples(side.where)} is missing or empty"
    raise BenchError(f"cannot compare {side.method} on {'/'.join(side.table)}: no per-sample "
                     f"scores ({where}); re-run it with bench run to write them")


def compare_sides(a: Side, b: Side, tests: Mapping[str, PairedTest],
                  resamples: int = 1000, alpha: float = ALPHA) -> list[MetricDiff]:
    """How B differs from A on each metric both have; 'worse' means significantly worse."""
    require_samples(a)
    require_samples(b)
    ra, rb, sa, sb = a.record, b.record, a.samples, b.samples
    out = []
    for metric in [m for m in ra["metrics"] if m in rb["metrics"]]:
        ma, mb = ra["metrics"][metric], rb["metrics"][metric]
        va, vb = ma.get("value"), mb.get("value")
        direction = direction_of(ma.get("direction"))
        shared = [i for i in sorted(set(sa) & set(sb)) if metric in sa[i] and metric in sb[i]]
        p = pa = pb = None
        verdict = "n/a"
        test = tests.get(metric)
        if va is not None and vb is not None and test is not None and len(shared) >= 2:
            xa = [sa[i][metric] for i in shared]
            xb = [sb[i][metric] for i in shared]
            pa, pb = float(test.aggregate(xa)), float(test.aggregate(xb))
            p = test.pvalue(xb, xa, resamples)
            better = direction_of(direction).better(pb, pa)
            verdict = "same" if p >= alpha else ("better" if better else "worse")
        out.append(MetricDiff(metric, direction, va, vb, len(shared), pa, pb, p, verdict))
    if not any(d.n_shared for d in out):
        raise BenchError(f"{a.method} and {b.method} on {'/'.join(a.table)} have no scored "
                         "sample in common; nothing to compare")
    return out


def format_p(p: float | None) -> str:
    """p-values as people read them: '< 1e-4' rather than 0 or 3.2e-17."""
    if p is None:
        return "-"
    return "< 1e-4" if p < 1e-4 else f"{p:.3g}"


def _tag(side: Side) -> str:
    if side.origin == "file":
        return Path(side.where).parts[0]
    return "committed" if side.origin == "committed" else "your run"


def labels(a: Side, b: Side) -> tuple[str, str]:
    """Column names: the method names, with where each came from when they are the same."""
    if a.method != b.method:
        return a.method, b.method
    la, lb = f"{a.method} [{_tag(a)}]", f"{b.method} [{_tag(b)}]"
    return (la, lb) if la != lb else (f"{a.method} [A]", f"{b.method} [B]")


def format_comparison(a: Side, b: Side, diffs: list[MetricDiff]) -> str:
    from bench.weights.commands import format_rows

    la, lb = labels(a, b)

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4g}"

    rows = []
    for d in diffs:
        ca, cb = a.record["metrics"][d.metric], b.record["metrics"][d.metric]
        rows.append({
            "metric": d.metric,
            la: f"{num(d.a)} ({ca.get('n_scored', 0)}/{ca.get('n_total', 0)})",
            lb: f"{num(d.b)} ({cb.get('n_scored', 0)}/{cb.get('n_total', 0)})",
            "paired n": str(d.n_shared),
            f"{la} paired": num(d.a_paired),
            f"{lb} paired": num(d.b_paired),
            "p": format_p(d.p_value),
            f"{lb} vs {la}": d.verdict,
        })
    head = [" / ".join(a.table), f"  A = {a.describe()}", f"  B = {b.describe()}",
            "  all: value (scored/total) on each side's own samples; paired: both on the samples "
            "both scored, which the test uses"]
    return "\n".join(head) + "\n" + "\n".join("  " + line for line in format_rows(rows).splitlines())
