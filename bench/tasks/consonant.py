"""Consonant-voicing: fit on the training split, then P(voiced) per test segment."""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import numpy as np

from bench.execution import progress
from bench.interfaces import Dataset, ExplainsDrops, SampleError, Split, TrainSplitMapper

log = logging.getLogger(__name__)


def training_split_name(dataset: Dataset, split: Split) -> str:
    """The split a method is fitted on for ``split`` (datasets may map e.g. holdout -> train)."""
    return dataset.train_split_for(split.name) if isinstance(dataset, TrainSplitMapper) else "train"


def _no_prediction(method: Any, index: int) -> SampleError:
    reasons = method.last_drop_reasons_ if isinstance(method, ExplainsDrops) else None
    why = reasons[index] if reasons is not None and index < len(reasons) else None
    return SampleError(f"the method gave no prediction ({why})" if why
                       else "the method gave no prediction (NaN probabilities)")


class ConsonantRunner:
    batch_size = 16  # results are appended per batch, so a crash loses at most one batch
    shard_size = 64  # samples per task on a cluster: a few seconds of TopCap features each

    def prepare(self, method: Any, dataset: Dataset, split: Split, seed: int) -> Mapping[str, Any]:
        t0 = time.perf_counter()
        train = dataset.split(training_split_name(dataset, split))
        segments, skipped = [], []
        with progress.bar(len(train.ids), f"load {train.name}") as bar:
            for sample_id in train.ids:
                try:
                    segments.append(train.get(sample_id))
                except SampleError as exc:
                    skipped.append({"id": sample_id, "message": str(exc)})
                bar.update()
        if not segments:
            raise SampleError(f"training split {train.name!r} has no readable segments")
        if skipped:
            log.warning("%d training segments could not be read; fitting on %d",
                        len(skipped), len(segments))
        labels = np.array([s.label for s in segments], dtype=int)
        with progress.stage(f"fit on {len(segments)} {train.name} segments"):
            method.fit(segments, labels)
        return {"train_split": train.name, "n_train": len(segments),
                "train_skipped": skipped, "fit_seconds": time.perf_counter() - t0}

    def predict(self, method: Any, sample: Any) -> Mapping[str, Any]:
        out = self.predict_batch(method, [sample])[0]
        if isinstance(out, Exception):
            raise out
        return out

    def predict_batch(self, method: Any, samples: list[Any]) -> list[Any]:
        """P(voiced) per sample, or a SampleError for rows the method left NaN."""
        proba = np.asarray(method.predict_proba(samples), dtype=float)
        if proba.shape != (len(samples), 2):
            raise SampleError(f"predict_proba returned shape {proba.shape}, "
                              f"expected ({len(samples)}, 2)")
        return [_no_prediction(method, i) if np.isnan(row).any() else _row(row)
                for i, row in enumerate(proba)]

    def check(self, sample: Any, prediction: Mapping[str, Any]) -> None:
        p = prediction["proba"]
        if not 0.0 <= p <= 1.0:
            raise SampleError(f"P(voiced) = {p} is outside [0, 1]")


def _row(row: np.ndarray) -> Mapping[str, Any] | SampleError:
    """P(voiced) of one predict_proba row; both columns must be probabilities summing to 1
    (within float32 rounding), so an unnormalised or out-of-range column is never scored."""
    if not ((row >= 0.0) & (row <= 1.0)).all() or abs(float(row.sum()) - 1.0) > 1e-4:
        return SampleError(f"predict_proba row {row.tolist()} is not a probability pair "
                           "(each in [0, 1], summing to 1)")
    return {"proba": float(row[1])}
