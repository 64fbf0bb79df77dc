"""The TopCap authors' released feature tables as a consonant-voicing dataset.

Two formats, told apart by their first line:

- v1: ``birthtime,lifetime,ticket`` with that header; one row per segment;
- v2 (ALLSSTAR HT1): ``birth,lifetime,label,n_points`` with no header.

In both, the label is 1 for voiced and 2 for voiceless (here 1 and 0). Every row is checked
before anything runs; a table with bad rows is refused with the line number and problem of each.
Splits follow the paper's protocol: a stratified 70/30 hold-out (``paper-train`` /
``paper-holdout``, seed 42) with 5-fold CV on the training part for tuning (the TopCap learners'
own grid search). The methods get each row's (birth, lifetime) as ``sample.feature``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets.base import LazySplit
from bench.datasets.consonants.embedded import PAPER_SEED, PAPER_SPLITS, paper_protocol
from bench.errors import BenchError

NAME = "topcap-features"
ENV = "BENCH_TOPCAP_FEATURES"
V1_HEADER = ("birthtime", "lifetime", "ticket")
V2_COLUMNS = ("birth", "lifetime", "label", "n_points")
LABELS = {1: 1, 2: 0}  # the authors' 1 = voiced, 2 = voiceless -> bench's 1 = voiced
MAX_SHOWN = 20


class FeatureTableError(BenchError):
    pass


@dataclass(frozen=True)
class FeatureRow:
    """One segment of a feature table: its precomputed TopCap feature and voicing label."""

    id: str
    feature: np.ndarray  # (birth, lifetime)
    label: int  # 1 voiced, 0 voiceless
    line: int
    n_points: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def detect_format(first: list[str]) -> tuple[str, bool]:
    """(format, has_header) from the first row's fields."""
    names = tuple(f.strip().lower() for f in first)
    if names == V1_HEADER:
        return "v1", True
    if names == V2_COLUMNS:
        return "v2", True
    if all(_number(f) is not None for f in first):
        if len(first) == 4:
            return "v2", False
        if len(first) == 3:
            return "v1", False
    raise FeatureTableError(
        f"unknown feature-table format: first line {','.join(first)!r}; expected the v1 header "
        f"{','.join(V1_HEADER)!r} or v2 rows {','.join(V2_COLUMNS)!r} without a header")


def _check_row(fields: list[str], fmt: str) -> tuple[tuple[float, float, int, int | None] | None,
                                                        str]:
    """The row's values, or None and what is wrong with it."""
    width = 3 if fmt == "v1" else 4
    if len(fields) != width:
        return None, f"{len(fields)} fields, expected {width}"
    birth, life = _number(fields[0]), _number(fields[1])
    if birth is None:
        return None, f"birth {fields[0]!r} is not a finite number"
    if life is None:
        return None, f"lifetime {fields[1]!r} is not a finite number"
    if life < 0:
        return None, f"lifetime {life} is negative"
    raw = _number(fields[2])
    if raw is None or raw not in LABELS:
        return None, f"label {fields[2]!r} is not 1 (voiced) or 2 (voiceless)"
    n_points = None
    if fmt == "v2":
        n = _number(fields[3])
        if n is None or n != int(n) or n < 1:
            return None, f"n_points {fields[3]!r} is not a positive integer"
        n_points = int(n)
    return (birth, life, LABELS[int(raw)], n_points), ""


def read_feature_table(path: str | os.PathLike[str]) -> tuple[str, list[FeatureRow]]:
    """(format, rows) of a v1 or v2 table; every bad row is reported at once, with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeatureTableError(f"feature table {path}: cannot read it ({exc})") from None
    lines = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), 1)
             if row and any(f.strip() for f in row)]
    if not lines:
        raise FeatureTableError(f"feature table {path} is empty")
    try:
        fmt, header = detect_format(lines[0][1])
    except FeatureTableError as exc:
        raise FeatureTableError(f"feature table {path}: {exc}") from None
    rows: list[FeatureRow] = []
    problems: list[str] = []
    for n, fields in lines[1:] if header else lines:
        values, problem = _check_row([f.strip() for f in fields], fmt)
        if values is None:
            problems.append(f"line {n}: {problem}")
            continue
        birth, life, label, n_points = values
        rows.append(FeatureRow(id=f"row{n:06d}", feature=np.array([birth, life]), label=label,
                               line=n, n_points=n_points))
    if problems:
        shown = "; ".join(problems[:MAX_SHOWN])
        more = f" (and {len(problems) - MAX_SHOWN} more)" if len(problems) > MAX_SHOWN else ""
        raise FeatureTableError(f"feature table {path} ({fmt}): {len(problems)} bad row(s): "
                                f"{shown}{more}")
    counts = np.bincount([r.label for r in rows], minlength=2)
    if len(rows) < 10 or counts.min() < 5:
        raise FeatureTableError(f"feature table {path}: {counts[1]} voiced and {counts[0]} "
                                "voiceless rows; the 70/30 protocol with 5-fold CV needs at least "
                                "5 of each and 10 rows")
    return fmt, rows


def _row_hash(row: FeatureRow) -> str:
    payload = f"{row.feature[0]!r},{row.feature[1]!r},{row.label},{row.n_points}"
    return hashlib.sha256(payload.encode()).hexdigest()


class FeatureTableDataset:
    """A released TopCap feature table with the paper's hold-out splits."""

    name = NAME
    split_names = (*PAPER_SPLITS, "all")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.format, self.rows = read_feature_table(self.path)
        self.version = f"1-{self.format}"
        self._by_id = {r.id: r for r in self.rows}
        proto = paper_protocol(self.rows, [r.label for r in self.rows], seed=PAPER_SEED)
        self._ids = {"paper-train": [self.rows[i].id for i in proto.train],
                     "paper-holdout": [self.rows[i].id for i in proto.holdout],
                     "all": [r.id for r in self.rows]}
        self.protocol = proto

    def train_split_for(self, name: str) -> str:
        """The hold-out is scored after fitting (and 5-fold tuning) on the 70 % part."""
        if name not in self._ids:
            raise KeyError(f"{NAME} has no split {name!r}; known: {list(self._ids)}")
        return "paper-train"

    def sample(self, row_id: str) -> FeatureRow:
        return self._by_id[row_id]

    def split(self, name: str) -> LazySplit:
        if name not in self._ids:
            raise KeyError(f"{NAME} has no split {name!r}; known: {list(self._ids)}")
        ids = self._ids[name]
        return LazySplit(name=name, ids=ids,
                         content_hashes={i: _row_hash(self._by_id[i]) for i in ids},
                         loaders={i: partial(self.sample, i) for i in ids},
                         meta={"dataset": NAME, "format": self.format, "file": str(self.path)})


def load_feature_table(path: str | os.PathLike[str] | None = None) -> FeatureTableDataset:
    """The table at ``path`` (option ``path=`` or ``$BENCH_TOPCAP_FEATURES``)."""
    path = path or os.environ.get(ENV)
    if not path:
        raise FeatureTableError(f"dataset {NAME} needs the table's path: --dataset-option "
                                f"{NAME}.path=FILE (or {ENV}=FILE)")
    if not Path(path).is_file():
        raise FeatureTableError(f"feature table {path} does not exist")
    return FeatureTableDataset(path)
