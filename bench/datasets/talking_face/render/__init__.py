"""Procedural talking-face renderer: deterministic numpy + OpenCV drawing, no downloads."""

from .clip import blink_track, motion_params, pose_track, render_clip
from .face import SIZE, render_frame, static_layer
from .identity import Identity, make_identity
from .visemes import VISEMES, base_label, mouth_track, viseme

__all__ = ["Identity", "SIZE", "VISEMES", "base_label", "blink_track", "make_identity",
           "motion_params", "mouth_track", "pose_track", "render_clip", "render_frame",
           "static_layer", "viseme"]
