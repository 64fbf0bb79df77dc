"""The runs directory's layout: the one place that knows where each file of a run lives.

::

    <runs>/records/<task>/<dataset>/<split>/<method>[~variant][.limitN].json   run records
        ... .samples.jsonl                        per-sample scores beside each record
        ... .failed.json                          a failed re-run beside the good record it kept
    <runs>/<check|verify>/records/...             records of `bench check` and `bench verify`
    <runs>/locks/<task>/<dataset>/<split>/<stem>.lock   one lock per unit identity
    <runs>/cache/predictions/<key>/predictions.jsonl, meta.json
    <runs>/cache/scores/<key>.jsonl
    <runs>/cache/artifacts/                       content-addressed arrays
    <runs>/leaderboards/                          tables built from this directory's records

The committed ``leaderboards/`` of the repository (``PUBLISHED_LEADERBOARDS``) is written only
by ``--publish``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PUBLISHED_LEADERBOARDS = "leaderboards"
RUN = "run"  # the purpose of an ordinary run; check and verify records go to their own place


@dataclass(frozen=True)
class RunsLayout:
    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    # records
    def records(self, purpose: str = RUN) -> Path:
        return (self.root if purpose == RUN else self.root / purpose) / "records"

    def record(self, task: str, dataset: str, split: str, stem: str,
               purpose: str = RUN) -> Path:
        return self.records(purpose) / task / dataset / split / f"{stem}.json"

    def named_record(self, name: str) -> Path:
        """``task/dataset/split/method`` as written by ``bench compare``."""
        return self.records() / f"{name}.json"

    def find_records(self) -> list[Path]:
        """Every run record (not check or verify ones), sorted."""
        return sorted(self.root.glob("records/**/*.json"))

    @staticmethod
    def samples(record: str | Path) -> Path:
        """The per-sample scores beside a record."""
        return Path(record).with_suffix(".samples.jsonl")

    @staticmethod
    def failure(record: Path) -> Path:
        """Where a failed re-run is recorded beside the good record it kept."""
        return record.with_name(f"{record.stem}.failed.json")

    @staticmethod
    def beside(record: Path, tag: str) -> Path:
        """Another producer's record of the same unit, beside the one it must not replace."""
        return record.with_name(f"{record.stem}~{tag}.json")

    # locks and caches
    def lock(self, task: str, dataset: str, split: str, stem: str) -> Path:
        return self.root / "locks" / task / dataset / split / f"{stem}.lock"

    @property
    def artifacts(self) -> Path:
        return self.root / "cache" / "artifacts"

    def predictions(self, key: str) -> Path:
        """The directory of one prediction log (``predictions.jsonl`` and ``meta.json``)."""
        return self.root / "cache" / "predictions" / key

    def prediction_log(self, key: str) -> Path:
        return self.predictions(key) / "predictions.jsonl"

    def prediction_meta(self, key: str) -> Path:
        return self.predictions(key) / "meta.json"

    def score_log(self, key: str) -> Path:
        return self.root / "cache" / "scores" / f"{key}.jsonl"

    @property
    def leaderboards(self) -> Path:
        return self.root / "leaderboards"
