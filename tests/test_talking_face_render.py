"""The procedural face renderer: determinism, identities, and mouths that follow the phones."""

from __future__ import annotations

import numpy as np
import pytest

from bench.datasets.talking_face.build import IDENTITY_SPLITS, stable_seed
from bench.datasets.talking_face.cache import array_sha256
from bench.datasets.talking_face.render import (
    VISEMES, Identity, make_identity, motion_params, mouth_track, render_clip, render_frame,
    static_layer, viseme,
)
from bench.datasets.talking_face.render.clip import blink_track, pose_track
from bench.datasets.talking_face.render.visemes import BILABIALS, SILENCES, VOWELS, frame_labels

PHONES = [("SIL", 0.0, 0.3), ("HH", 0.3, 0.38), ("AH0", 0.38, 0.5), ("L", 0.5, 0.58),
          ("OW1", 0.58, 0.8), ("SP", 0.8, 0.9), ("M", 0.9, 1.02), ("AA1", 1.02, 1.2),
          ("P", 1.2, 1.3), ("IY1", 1.3, 1.45), ("B", 1.45, 1.55), ("UW1", 1.55, 1.7),
          ("F", 1.7, 1.8), ("AE1", 1.8, 1.95), ("SIL", 1.95, 2.4)]
N = 60
ARPABET = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
           "UH UW V W Y Z ZH").split()
CAVITY = np.array([60, 20, 25])


def _identities(n: int = sum(IDENTITY_SPLITS.values())) -> list[Identity]:
    return [make_identity(f"face{k:02d}", stable_seed(f"identity:face{k:02d}:0")) for k in range(n)]


def _cavity_pixels(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Dark mouth-cavity pixels in the lower half of each face box: a pixel-level mouth opening."""
    out = []
    for f, (x0, y0, x1, y1) in zip(frames, boxes):
        reg = f[(y0 + y1) // 2:y1, x0:x1].astype(int)
        out.append(int((np.abs(reg - CAVITY).sum(-1) < 40).sum()))
    return np.array(out)


def test_rendering_is_deterministic_and_matches_its_checksum():
    ident = make_identity("face00", 123)
    params = motion_params(5, N)
    a, ba = render_clip(ident, PHONES, N, params)
    b, bb = render_clip(ident, PHONES, N, params)
    assert a.shape == (N, 128, 128, 3) and a.dtype == np.uint8
    assert ba.shape == (N, 4) and ba.dtype == np.int32
    assert np.array_equal(a, b) and np.array_equal(ba, bb)
    assert array_sha256(a) == array_sha256(b)
    # a different clip seed moves the head differently
    c, _ = render_clip(ident, PHONES, N, motion_params(6, N))
    assert not np.array_equal(a, c)


def test_identity_round_trips_through_json_params():
    ident = make_identity("face03", 99)
    again = Identity.from_dict(ident.to_dict())
    assert again == ident


def test_identities_are_distinct():
    idents = _identities()
    assert len(idents) >= 24
    neutral = np.array(VISEMES["SIL"])
    frames = np.stack([render_frame(i, static_layer(i), neutral, 0.0, 0, 0, 0)[0]
                       for i in idents]).astype(np.float32)
    diffs = [np.abs(frames[i] - frames[j]).mean()
             for i in range(len(frames)) for j in range(i + 1, len(frames))]
    assert min(diffs) > 8.0, min(diffs)
    # the faces themselves (not just backgrounds) differ: compare the skin/hair/eye parameters
    keys = {(i.skin, i.hair, i.hair_style, i.eye_colour, round(i.face_w, 1)) for i in idents}
    assert len(keys) == len(idents)


def test_viseme_table_covers_arpabet_and_rejects_unknown_phones():
    for p in ARPABET:
        assert len(viseme(p + "1" if p in VOWELS else p)) == 5
    for p in BILABIALS:
        assert viseme(p)[0] == 0.0  # lips closed
    assert viseme("AA")[0] > viseme("IY")[0] > viseme("M")[0]
    assert viseme("UW")[2] > 0.9 and viseme("UW")[1] < viseme("IY")[1]  # rounded is narrow
    with pytest.raises(ValueError, match="QQ"):
        viseme("QQ")


def test_mouth_track_opens_on_vowels_and_closes_on_bilabials():
    track = mouth_track(PHONES, N)
    labels = frame_labels(PHONES, N)
    assert track.shape == (N, 5)
    opening = track[:, 0]
    vowel = [o for o, lab in zip(opening, labels) if lab in VOWELS]
    closed = [o for o, lab in zip(opening, labels) if lab in BILABIALS | SILENCES]
    assert np.mean(vowel) > 0.4 > 0.1 > np.mean(closed)
    # the middle of a 120 ms bilabial is (nearly) closed even after coarticulation smoothing
    assert opening[int(0.96 * 25)] < 0.1
    # coarticulation: a 40 ms vowel between alveolars does not reach its target, and its
    # neighbours open in anticipation / carry-over
    short = [("T", 0.0, 0.12), ("AA1", 0.12, 0.16), ("T", 0.16, 0.4)]
    raw = mouth_track(short, 10, sigma_s=0.0)[:, 0]
    smooth = mouth_track(short, 10)[:, 0]
    assert raw[3] == pytest.approx(1.0) and smooth[3] < 0.9
    assert smooth[2] > raw[2] + 0.02 and smooth[4] > raw[4] + 0.02


def test_rendered_mouth_opening_follows_speech_for_every_identity():
    labels = frame_labels(PHONES, N)
    is_vowel = np.array([lab in VOWELS for lab in labels])
    is_closed = np.array([lab in BILABIALS | SILENCES for lab in labels])
    for k, ident in enumerate(_identities()):
        frames, boxes = render_clip(ident, PHONES, N, motion_params(k, N))
        cav = _cavity_pixels(frames, boxes)
        assert cav[is_vowel].mean() > cav[is_closed].mean() + 5, (ident.id, cav)


def test_head_motion_and_blinks_are_small_and_present():
    params = motion_params(11, 250)
    pose = pose_track(params, 250)
    assert np.abs(pose[:, :2]).max() < 3.0 and np.abs(pose[:, 2]).max() < 5.0
    assert pose.std(0).min() > 0.05
    blinks = blink_track(params, 250)
    assert blinks.max() == 1.0 and (blinks > 0).mean() < 0.3
    ident = make_identity("face01", 5)
    _, boxes = render_clip(ident, PHONES, N, motion_params(11, N))
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 128).all()
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert np.ptp(centre, 0).max() > 0.5  # the box follows the moving head
    assert np.abs(centre - [ident.cx, ident.cy + 4]).max() < 12


def test_bilabials_close_and_vowels_open_on_the_speech_corpus():
    from bench.datasets.speech import load_corpus
    from bench.datasets.talking_face.render.visemes import base_label

    corpus = load_corpus(verify=False)
    closed, opened = [], []
    for utt in corpus.utterances:
        track = mouth_track(utt.phones, int(utt.duration * 25))
        for p in utt.phones:
            a, b = int(p.start * 25), max(int(p.start * 25) + 1, int(np.ceil(p.end * 25)))
            lab = base_label(p.label)
            if lab in BILABIALS:
                closed.append(track[a:b, 0].min())
            elif lab in VOWELS and p.end - p.start > 0.08:
                opened.append(track[a:b, 0].max())
    assert len(closed) > 20 and len(opened) > 20
    assert np.mean(np.array(closed) < 0.1) > 0.9  # TTS bilabials are often under 80 ms
    assert np.median(opened) > 0.4
