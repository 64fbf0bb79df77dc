"""Talking-face baselines that bracket the learned methods (no training, no weights): the
identity frames replayed, and a mouth that opens with the audio's loudness. Like every
reference model, this package never imports ``bench``."""

from reference_models.talking_face_baselines.baselines import (
    AudioEnergyMouth,
    StaticReference,
    frame_rms,
    openness,
    reference_order,
)

__all__ = ["AudioEnergyMouth", "StaticReference", "frame_rms", "openness", "reference_order"]
