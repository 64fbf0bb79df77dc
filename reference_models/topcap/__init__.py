"""TopCap (arXiv:2311.15210): topological features of consonant segments and their classifiers."""

from reference_models.topcap.classifier import TopCapClassifier, build_classifier
from reference_models.topcap.features import (
    VARIANTS,
    TopCapFeatures,
    delay,
    embedding,
    most_persistent,
    persistence,
    pitch_period,
    segment_feature,
    trim,
)
from reference_models.topcap.learners import LEARNERS

__all__ = [
    "LEARNERS",
    "VARIANTS",
    "TopCapClassifier",
    "TopCapFeatures",
    "build_classifier",
    "delay",
    "embedding",
    "most_persistent",
    "persistence",
    "pitch_period",
    "segment_feature",
    "trim",
]
