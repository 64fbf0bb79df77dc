"""The bootstrap capabilities of a metric whose value is the plain mean of one per-sample number
(LSE, SSIM, PSNR): ``ColumnAggregate`` and ``DrawAggregate`` (bench.interfaces)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


class MeanOfSamples:
    """Mixin: the metric's ``key`` names the per-sample number its ``aggregate`` averages."""

    key: str

    def columns(self, values: Sequence[Mapping[str, Any]]) -> Mapping[str, np.ndarray]:
        return {self.key: np.array([v[self.key] for v in values], dtype=float)}

    def aggregate_columns(self, columns: Mapping[str, np.ndarray]) -> float:
        return float(np.mean(columns[self.key]))

    def aggregate_draws(self, columns: Mapping[str, np.ndarray], draws: np.ndarray) -> np.ndarray:
        """``aggregate_columns`` of every row of sample indices ``draws`` at once (a row's mean
        is summed as the one-dimensional mean sums it: the same floats)."""
        return np.mean(np.asarray(columns[self.key], dtype=float)[draws], axis=1)
