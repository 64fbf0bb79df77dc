"""Method interfaces, one typing Protocol per task: what a *method* implements for its task.

A task's ``TaskSpec.protocol`` names one of these (a plugin's task may name its own), and
``bench validate-plugin`` checks methods against it. What plugins implement for the harness
itself (datasets, task runners, metrics, optional capabilities) is in :mod:`bench.interfaces`.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from bench.samples import Clip, Segment


@runtime_checkable
class ConsonantVoicingMethod(Protocol):
    """scikit-learn style classifier of consonant segments.

    ``predict_proba`` returns an (n, 2) float array; column 1 is P(voiced).
    """

    def fit(self, segments: Sequence[Segment], labels: np.ndarray) -> "ConsonantVoicingMethod": ...

    def predict_proba(self, segments: Sequence[Segment]) -> np.ndarray: ...


@runtime_checkable
class TalkingFaceMethod(Protocol):
    """Generates lip-synced frames for a clip.

    ``generate`` returns uint8 RGB frames of shape (clip.n_output_frames, H, W, 3), H and W those
    of ``clip.frames``.
    """

    def generate(self, clip: Clip) -> np.ndarray: ...
