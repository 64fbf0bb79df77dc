"""Face tracks and crops (syncnet_python run_pipeline rules), Haar and S3FD detectors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from bench.video.facetrack import HaarDetector, Track, crop_track, face_tracks, iou, link_tracks
from bench.metrics.s3fd import S3FD, S3FDNet, decode, load_s3fd, prior_boxes
from bench.metrics.syncnet import WeightsError, WeightsUnavailable

torch.set_num_threads(1)


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def _moving_box_dets(n, start=(10.0, 20.0), size=120.0, step=1.0, missing=()):
    dets = []
    for i in range(n):
        if i in missing:
            dets.append(np.zeros((0, 5)))
            continue
        x0, y0 = start[0] + step * i, start[1]
        dets.append(np.array([[x0, y0, x0 + size, y0 + size, 0.99]]))
    return dets


def test_one_track_with_gap_filled_linearly():
    dets = _moving_box_dets(40, missing={10, 11, 12})
    tracks = link_tracks(dets, min_track=20, min_face_size=100)
    assert len(tracks) == 1
    t = tracks[0]
    np.testing.assert_array_equal(t.frames, np.arange(40))
    np.testing.assert_allclose(t.boxes[11], [21.0, 20.0, 141.0, 140.0])  # interpolated


def test_gap_longer_than_num_failed_det_splits_track():
    dets = _moving_box_dets(80, step=0.0, missing=set(range(30, 57)))  # 27 missing frames
    tracks = link_tracks(dets, min_track=20, num_failed_det=25, min_face_size=100)
    assert [(int(t.frames[0]), int(t.frames[-1])) for t in tracks] == [(0, 29), (57, 79)]


def test_short_and_small_tracks_are_dropped():
    assert link_tracks(_moving_box_dets(100), min_track=100) == []  # needs > min_track detections
    assert len(link_tracks(_moving_box_dets(101), min_track=100)) == 1
    assert link_tracks(_moving_box_dets(120, size=90), min_track=100, min_face_size=100) == []


def test_two_faces_two_tracks():
    a = _moving_box_dets(30, start=(0, 0))
    b = _moving_box_dets(30, start=(300, 0))
    dets = [np.concatenate([x, y]) for x, y in zip(a, b)]
    tracks = link_tracks(dets, min_track=10)
    assert len(tracks) == 2
    assert sorted(int(t.boxes[0, 0]) for t in tracks) == [0, 300]


def test_bad_detection_shape_is_reported():
    with pytest.raises(ValueError, match="frame 1"):
        link_tracks([np.zeros((0, 5)), np.zeros((2, 2))])


def test_crop_matches_reference_rule_and_grey_padding():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (15, 200, 300, 3), dtype=np.uint8)
    box = np.array([100.0, 0.0, 160.0, 50.0])  # h=50, w=60 -> s = 30, at the top edge
    track = Track(np.arange(15), np.tile(box, (15, 1)))
    crops = crop_track(frames, track)
    assert crops.shape == (15, 224, 224, 3)
    s, pad = 30.0, int(30.0 * 1.8)
    img = np.pad(frames[7], ((pad, pad), (pad, pad), (0, 0)), constant_values=110)
    cy, cx = 25.0 + pad, 130.0 + pad
    want = img[int(cy - s):int(cy + 1.8 * s), int(cx - 1.4 * s):int(cx + 1.4 * s)]
    assert want.shape[:2] == (84, 84)  # a 2.8·s square
    np.testing.assert_array_equal(crops[7], cv2.resize(want, (224, 224)))
    # the crop starts 5 px above the frame (cy - s = -5): its top rows are padding grey
    assert (crops[7][:10] == 110).all() and not (crops[7][20:] == 110).all()


def _astronaut_video(n=30):
    from skimage import data

    img = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (256, 256))
    return np.stack([np.roll(img, i, axis=1) for i in range(n)])


def test_haar_detector_tracks_a_real_face():
    frames = _astronaut_video(12)
    out = face_tracks(frames, HaarDetector(), min_track=8, min_face_size=25)
    assert len(out) == 1
    track, crops = out[0]
    assert crops.shape == (12, 224, 224, 3) and crops.dtype == np.uint8
    # the astronaut's face is around x 85-125, y 20-70 in the 256×256 image
    x0, y0, x1, y1 = track.boxes[0]
    assert 60 < (x0 + x1) / 2 < 150 and 15 < (y0 + y1) / 2 < 85


def test_no_face_gives_no_track():
    frames = np.full((30, 240, 320, 3), 90, np.uint8)
    assert face_tracks(frames, HaarDetector(), min_track=5) == []


# ---------------------------------------------------------------- S3FD
def official_s3fd_keys() -> dict[str, tuple[int, ...]]:
    """Keys and shapes of sfd_face.pth, written out from the reference network definition."""
    keys: dict[str, tuple[int, ...]] = {}
    convs = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
             14: (256, 256), 17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512),
             26: (512, 512), 28: (512, 512)}
    for i, (o, c) in convs.items():
        keys[f"vgg.{i}.weight"], keys[f"vgg.{i}.bias"] = (o, c, 3, 3), (o,)
    keys["vgg.31.weight"], keys["vgg.31.bias"] = (1024, 512, 3, 3), (1024,)
    keys["vgg.33.weight"], keys["vgg.33.bias"] = (1024, 1024, 1, 1), (1024,)
    keys["L2Norm3_3.weight"], keys["L2Norm4_3.weight"], keys["L2Norm5_3.weight"] = (256,), (512,), (512,)
    for i, (o, c, k) in enumerate([(256, 1024, 1), (512, 256, 3), (128, 512, 1), (256, 128, 3)]):
        keys[f"extras.{i}.weight"], keys[f"extras.{i}.bias"] = (o, c, k, k), (o,)
    for i, c in enumerate((256, 512, 512, 1024, 512, 256)):
        keys[f"loc.{i}.weight"], keys[f"loc.{i}.bias"] = (4, c, 3, 3), (4,)
        n = 4 if i == 0 else 2
        keys[f"conf.{i}.weight"], keys[f"conf.{i}.bias"] = (n, c, 3, 3), (n,)
    return keys


def test_s3fd_state_dict_matches_official_keys(tmp_path):
    want = official_s3fd_keys()
    got = {k: tuple(v.shape) for k, v in S3FDNet().state_dict().items()}
    assert got == want
    g = torch.Generator().manual_seed(0)
    path = tmp_path / "sfd_face.pth"
    torch.save({k: torch.randn(s, generator=g) * 0.01 for k, s in want.items()}, path)
    det = load_s3fd(path, conf_th=0.0)
    boxes = det(np.random.default_rng(0).integers(0, 256, (128, 160, 3), dtype=np.uint8))
    assert boxes.ndim == 2 and boxes.shape[1] == 5
    assert (boxes[:, 4] > 0).all() and (boxes[:, 4] <= 1).all()


def test_s3fd_bad_weights(tmp_path):
    with pytest.raises(WeightsUnavailable, match="bench weights fetch s3fd"):
        load_s3fd(tmp_path / "missing.pth")
    path = tmp_path / "wrong.pth"
    torch.save({"vgg.0.weight": torch.zeros(64, 3, 3, 3)}, path)
    with pytest.raises(WeightsError, match="wrong.pth"):
        load_s3fd(path)


def test_prior_boxes_and_decode():
    priors = prior_boxes((64, 64), [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1), (1, 1)])
    assert priors.shape == (256 + 64 + 16 + 4 + 1 + 1, 4)
    np.testing.assert_allclose(priors[0].numpy(), [2 / 64, 2 / 64, 16 / 64, 16 / 64])
    np.testing.assert_allclose(priors[17].numpy(), [6 / 64, 6 / 64, 16 / 64, 16 / 64])  # row 1, col 1
    boxes = decode(torch.zeros(1, 4), torch.tensor([[0.5, 0.5, 0.2, 0.4]]))
    np.testing.assert_allclose(boxes.numpy(), [[0.4, 0.3, 0.6, 0.7]], atol=1e-7)
    moved = decode(torch.tensor([[1.0, 0.0, 0.0, np.log(2) / 0.2]]), torch.tensor([[0.5, 0.5, 0.2, 0.4]]))
    np.testing.assert_allclose(moved.numpy(), [[0.42, 0.1, 0.62, 0.9]], atol=1e-6)


def test_s3fd_detector_keeps_confident_boxes_and_suppresses_overlaps():
    class FakeNet(torch.nn.Module):
        """Two strongly overlapping confident priors and one weak one."""

        def forward(self, x):
            h, w = x.shape[2:]
            shapes = [(-(-h // s), -(-w // s)) for s in (4, 8, 16, 32, 64, 128)]
            p = sum(a * b for a, b in shapes)
            loc = torch.zeros(1, p, 4)
            score = torch.zeros(1, p)
            score[0, 0], score[0, 1], score[0, 40] = 0.99, 0.95, 0.5
            return loc, score, shapes

    det = S3FD(FakeNet(), scale=0.25, conf_th=0.9)
    boxes = det(np.zeros((256, 256, 3), np.uint8))
    assert len(boxes) == 1 and boxes[0, 4] == pytest.approx(0.99)
    # prior 0 at the 64×64 scaled image: centre (2,2), side 16 -> original pixels ×4
    np.testing.assert_allclose(boxes[0, :4], [-24, -24, 40, 40], atol=1e-4)
