"""Mouth opening over time: the pixel estimator and the figure beside talking-face leaderboards."""

from __future__ import annotations

import numpy as np
import pytest

from bench.datasets.talking_face.build import stable_seed
from bench.datasets.talking_face.render import make_identity, motion_params, mouth_track, render_clip
from bench.reporting.mouth_plot import mouth_opening

PHONES = [("SIL", 0.0, 0.3), ("HH", 0.3, 0.38), ("AH0", 0.38, 0.5), ("L", 0.5, 0.58),
          ("OW1", 0.58, 0.8), ("SP", 0.8, 0.9), ("M", 0.9, 1.02), ("AA1", 1.02, 1.2),
          ("P", 1.2, 1.3), ("IY1", 1.3, 1.45), ("B", 1.45, 1.55), ("UW1", 1.55, 1.7),
          ("F", 1.7, 1.8), ("AE1", 1.8, 1.95), ("SIL", 1.95, 2.4)]
N = 60


def test_estimate_follows_the_renderers_mouth_parameter():
    ident = make_identity("face02", stable_seed("identity:face02:0"))
    frames, boxes = render_clip(ident, PHONES, N, motion_params(3, N))
    truth = mouth_track(PHONES, N)[:, 0]
    est = mouth_opening(frames, boxes)
    assert est.shape == (N,)
    assert np.corrcoef(est, truth)[0, 1] > 0.8
    # a still face (the first frame repeated) has a flat estimate
    still = mouth_opening(np.repeat(frames[:1], N, 0), np.repeat(boxes[:1], N, 0))
    assert np.ptp(still) == 0.0


def test_estimate_grows_with_a_dark_opening_and_rejects_bad_input():
    frames = np.full((3, 64, 64, 3), 200, np.uint8)
    for i, rows in enumerate((0, 3, 7)):
        frames[i, 42:42 + rows, 24:40] = 30
    est = mouth_opening(frames, np.tile([8, 8, 56, 56], (3, 1)))
    assert est[0] == 0.0 and est[0] < est[1] < est[2]
    with pytest.raises(ValueError, match="face boxes"):
        mouth_opening(frames, np.tile([8, 8, 56, 56], (2, 1)))
    with pytest.raises(ValueError, match="frames must be"):
        mouth_opening(frames[..., 0], np.tile([8, 8, 56, 56], (3, 1)))
