"""Example metric plugin (docs/adding-a-metric.md): the Brier score of P(voiced).

Register it by listing this module under ``[project.entry-points.bench]`` of your package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import bench
from bench.interfaces import SampleError
from bench.specs import MetricSpec


class BrierScore:
    """Mean squared difference between P(voiced) and the 0/1 label; lower is better."""

    def fingerprint(self) -> Mapping[str, Any]:
        # everything that changes the number; it is stored with every result and keys the cache
        return {"metric": "brier", "positive_class": "voiced", "version": 1}

    def per_sample(self, sample: Any, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        p = float(prediction["proba"])
        if not 0.0 <= p <= 1.0:
            raise SampleError(f"{sample.id}: P(voiced) = {p} is not a probability")
        return {"y": int(sample.label), "p": p}

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        return float(np.mean([(v["p"] - v["y"]) ** 2 for v in values]))


@bench.hookimpl
def bench_register_metrics(register) -> None:  # type: ignore[no-untyped-def]
    """The Brier score for the consonant-voicing task."""
    register(MetricSpec(name="brier", task="consonant-voicing", direction="lower",
                        factory=f"{__name__}:BrierScore",
                        description="Brier score of P(voiced) (lower is better)"))
