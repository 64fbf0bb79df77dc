"""G4G reconstruction: modules, losses, training, checkpoints and the method contract."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from reference_models.g4g.alignment import AVAligner, diagonal_alignment_loss, lower_half_stack
from reference_models.g4g.configs import G4GConfig, get_config
from reference_models.g4g.data import TalkingFaceArrays, VideoArrays
from reference_models.g4g.fusion import FaceFusion
from reference_models.g4g.generator import FaceEncoder, G4GGenerator, mask_lower_half
from reference_models.g4g.geometry import (
    crop_faces,
    lower_half_mask,
    paste_faces,
    pingpong_indices,
    region_masks,
)
from reference_models.g4g.layers import AdaAT, adain
from reference_models.g4g.losses import RandomFeaturePerceptual, multiscale_loss
from reference_models.g4g.model import G4GModel, load_weights, save_weights
from reference_models.g4g.train import Trainer
from reference_models.wav2lip.audio import mel_window, melspectrogram

torch.set_num_threads(1)

# a tiny config so that tests train in seconds
TINY = get_config("embedded", width=4, align_width=4, embed_dim=16, face_size=48,
                  frame_size=64, fusion_width=4, n_adain_blocks=1, align_steps=4, gen_steps=3,
                  align_batch_clips=3, align_windows_per_clip=2, gen_batch=2, val_every=2,
                  val_batches=1, ckpt_every=2)


def make_video(name: str, n_frames: int = 30, size: int = 64, seed: int = 0) -> VideoArrays:
    """A face-like video whose lower box half brightens with the audio envelope."""
    rng = np.random.default_rng(seed)
    frames = np.full((n_frames, size, size, 3), 40, np.uint8)
    frames[:] += rng.integers(0, 30, (1, size, size, 3), dtype=np.uint8)
    box = np.array([size * 0.2, size * 0.15, size * 0.8, size * 0.85], np.float32)
    sr = 16000
    n = int(n_frames / 25 * sr)
    env = (np.sin(np.arange(n) / sr * 2 * np.pi * rng.uniform(1, 3)) > 0).astype(np.float32)
    audio = (0.3 * env * np.sin(np.arange(n) / sr * 2 * np.pi * 220)).astype(np.float32)
    for t in range(n_frames):
        level = env[int(t / 25 * sr)]
        y0, y1 = int(size * 0.6), int(size * 0.75)
        frames[t, y0:y1, int(size * 0.35):int(size * 0.65)] = 200 if level else 60
    return VideoArrays(name, frames, np.tile(box, (n_frames, 1)), audio)


# -- configs --------------------------------------------------------------------------------

def test_configs_round_trip_and_reject_bad_values():
    for name in ("embedded", "paper"):
        cfg = get_config(name)
        assert G4GConfig.from_dict(cfg.to_dict()) == cfg
    assert get_config("embedded").face_size == 96 and get_config("embedded").frame_size == 128
    with pytest.raises(ValueError, match="align_loss"):
        get_config("embedded", align_loss="triplet")
    with pytest.raises(ValueError, match="unknown G4G config keys"):
        G4GConfig.from_dict({"widht": 3})
    with pytest.raises(ValueError, match="unknown G4G config"):
        get_config("huge")


# -- layers ---------------------------------------------------------------------------------

def test_adain_takes_the_reference_statistics():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8, 8) * 3 + 1
    y = torch.randn(2, 5, 6, 6) * 0.5 - 2
    out = adain(x, y)
    assert out.shape == x.shape
    torch.testing.assert_close(out.mean(dim=(2, 3)), y.mean(dim=(2, 3)), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(dim=(2, 3), unbiased=False),
                               y.std(dim=(2, 3), unbiased=False), atol=1e-3, rtol=1e-3)
    # the normalised pattern of x is kept
    zx = (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)
    zo = (out - out.mean(dim=(2, 3), keepdim=True)) / out.std(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(zx, zo, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError):
        adain(x, torch.randn(2, 4, 8, 8))


def _neutral(at: AdaAT) -> None:
    for head in (at.scale, at.rotation, at.translation):
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)


def test_adaat_neutral_parameters_are_identity_and_translation_shifts():
    torch.manual_seed(0)
    at = AdaAT(code_dim=6, channels=3)
    _neutral(at)
    feat = torch.randn(2, 3, 7, 9)
    p = torch.randn(2, 6)
    s, theta, t = at.params(p)
    assert torch.allclose(s, torch.ones_like(s)) and theta.abs().max() == 0 and t.abs().max() == 0
    torch.testing.assert_close(at(feat, p), feat, atol=1e-5, rtol=0)
    # a translation of one grid step in x on channel 1 only moves that channel by one pixel
    step = 2.0 / (9 - 1)
    with torch.no_grad():
        at.translation.bias[2] = math.atanh(step)  # channel 1, x component
    out = at(feat, p)
    torch.testing.assert_close(out[:, 1, :, :-1], feat[:, 1, :, 1:], atol=1e-4, rtol=0)
    assert out[:, 1, :, -1].abs().max() < 1e-4  # zero padding enters from the right
    torch.testing.assert_close(out[:, [0, 2]], feat[:, [0, 2]], atol=1e-5, rtol=0)


# -- the diagonal-matrix alignment loss -----------------------------------------------------

@pytest.mark.parametrize("kind", ["infonce", "dense_bce"])
def test_alignment_loss_low_when_aligned_high_when_shuffled(kind):
    b = 6
    emb = torch.eye(b, 8)  # orthonormal, non-negative
    aligned = diagonal_alignment_loss(emb, emb.clone(), kind, 0.07).item()
    shuffled = diagonal_alignment_loss(emb, emb[torch.roll(torch.arange(b), 1)], kind).item()
    assert aligned < 1e-3
    assert shuffled > 5.0
    with pytest.raises(ValueError):
        diagonal_alignment_loss(emb[:1], emb[:1], kind)
    with pytest.raises(ValueError):
        diagonal_alignment_loss(emb, emb[:, :4], kind)


def test_infonce_matches_the_formula_and_its_gradient_aligns_pairs():
    torch.manual_seed(1)
    a = torch.randn(5, 4, requires_grad=True)
    v = torch.randn(5, 4, requires_grad=True)
    tau = 0.2
    loss = diagonal_alignment_loss(a, v, "infonce", tau)
    an = a.detach() / a.detach().norm(dim=1, keepdim=True)
    vn = v.detach() / v.detach().norm(dim=1, keepdim=True)
    s = (an @ vn.T).numpy() / tau
    rows = s.diagonal() - np.log(np.exp(s).sum(axis=1))
    cols = s.diagonal() - np.log(np.exp(s).sum(axis=0))
    assert loss.item() == pytest.approx(-(rows.mean() + cols.mean()) / 2, rel=1e-5)
    loss.backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0 and v.grad.abs().sum() > 0
    # gradient descent on the embeddings lowers the loss and raises the diagonal similarity
    opt = torch.optim.SGD([a, v], lr=0.5)
    for _ in range(50):
        opt.zero_grad()
        diagonal_alignment_loss(a, v, "infonce", tau).backward()
        opt.step()
    assert diagonal_alignment_loss(a, v, "infonce", tau).item() < loss.item() / 2


def test_dense_bce_matches_the_formula():
    torch.manual_seed(2)
    a, v = torch.rand(4, 6), torch.rand(4, 6)  # non-negative: cosines in [0, 1]
    cos = torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(v, dim=1).T
    eye = torch.eye(4)
    expect = -(eye * cos.log() + (1 - eye) * (1 - cos).log()).mean()
    got = diagonal_alignment_loss(a, v, "dense_bce")
    assert got.item() == pytest.approx(expect.item(), rel=1e-5)


# -- shapes of every module -----------------------------------------------------------------

def test_module_shapes_embedded_config():
    cfg = get_config("embedded")
    torch.manual_seed(0)
    al = AVAligner(cfg).eval()
    mel = torch.randn(3, 1, 80, 16)
    faces = torch.rand(3, 5, 3, 96, 96)
    low = lower_half_stack(faces)
    assert low.shape == (3, 15, 48, 96)
    ea, ev = al.embed_audio(mel), al.embed_visual(low)
    assert ea.shape == ev.shape == (3, cfg.embed_dim)
    torch.testing.assert_close(ea.norm(dim=1), torch.ones(3))
    enc = FaceEncoder(3, cfg.width)
    shapes = [tuple(f.shape) for f in enc(torch.rand(2, 3, 96, 96))]
    w = cfg.width
    assert shapes == [(2, w, 96, 96), (2, 2 * w, 48, 48), (2, 4 * w, 24, 24), (2, 8 * w, 12, 12)]
    gen = G4GGenerator(cfg).eval()
    out = gen(mask_lower_half(faces[:, 0]), faces[:, 1], ea)
    assert out.shape == (3, 3, 96, 96) and 0 <= out.min() and out.max() <= 1
    fusion = FaceFusion(cfg.fusion_width).eval()
    boxes = torch.tensor([[16.0, 10.0, 112.0, 118.0]]).repeat(3, 1)
    fused = fusion(out, torch.rand(3, 3, 128, 128), boxes)
    assert fused.shape == (3, 3, 128, 128)
    # odd frame sizes are padded internally and cropped back
    assert fusion(out, torch.rand(3, 3, 90, 70), boxes * 0.5).shape == (3, 3, 90, 70)


def test_generator_is_size_agnostic_for_the_paper_face_size():
    cfg = get_config("paper", width=2, align_width=2, embed_dim=8, n_adain_blocks=1)
    gen = G4GGenerator(cfg).eval()
    x = torch.rand(1, 3, 256, 256)
    assert gen(x, x, torch.randn(1, 8)).shape == (1, 3, 256, 256)


# -- geometry and fusion --------------------------------------------------------------------

def test_crop_and_paste_are_inverse_inside_the_box():
    torch.manual_seed(0)
    frame = torch.rand(1, 3, 64, 64)
    box = torch.tensor([[8.0, 8.0, 56.0, 56.0]])
    crop = crop_faces(frame, box, 48)  # 48 px box -> 48 px crop: a pure shift
    torch.testing.assert_close(crop, frame[:, :, 8:56, 8:56], atol=1e-5, rtol=0)
    pasted, cover = paste_faces(crop, box, 64, 64)
    torch.testing.assert_close(pasted[:, :, 9:55, 9:55], frame[:, :, 9:55, 9:55], atol=1e-5,
                               rtol=0)
    assert cover[0, 0, 0, 0] == 0 and cover[0, 0, 32, 32] == pytest.approx(1.0)
    m = lower_half_mask(box, 64, 64)
    assert m[0, 0, 40, 30] == 1 and m[0, 0, 20, 30] == 0 and m[0, 0, 40, 60] == 0


def test_region_masks_nest():
    masks = region_masks(96)
    assert set(masks) == {"face", "lower", "mouth"}
    assert masks["mouth"][0, 0, 72, 48] > 0.9 and masks["mouth"][0, 0, 20, 48] == 0
    assert masks["lower"][0, 0, 20, 48] < 0.01 and masks["lower"][0, 0, 80, 48] > 0.9
    assert (masks["mouth"].sum() < masks["lower"].sum() < masks["face"].sum())


def test_pingpong_indices():
    assert pingpong_indices(4, 10).tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]
    assert pingpong_indices(1, 3).tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        pingpong_indices(0, 3)


def test_fusion_never_lets_the_original_mouth_through():
    torch.manual_seed(0)
    fusion = FaceFusion(4).eval()
    for p in fusion.parameters():  # a trained-looking, non-zero network
        torch.nn.init.normal_(p, std=0.3)
    faces = torch.rand(2, 3, 48, 48)
    frames = torch.rand(2, 3, 64, 64)
    boxes = torch.tensor([[8.0, 8.0, 56.0, 56.0], [4.0, 6.0, 50.0, 60.0]])
    out = fusion(faces, frames, boxes)
    altered = frames + lower_half_mask(boxes, 64, 64) * (torch.rand_like(frames) - frames)
    torch.testing.assert_close(fusion(faces, altered, boxes), out)
    # and the paste variant keeps the frame outside the box
    paste = FaceFusion(4, kind="paste")(faces, frames, boxes)
    torch.testing.assert_close(paste[:, :, :4, :], frames[:, :, :4, :])


def test_multiscale_loss_zero_on_match_and_mouth_weighted():
    torch.manual_seed(0)
    perc = RandomFeaturePerceptual()
    img = torch.rand(1, 3, 48, 48)
    weight = 1.0 + 4.0 * region_masks(48)["mouth"]
    assert multiscale_loss(img, img, weight, perc)["total"].item() == pytest.approx(0.0, abs=1e-7)
    mouth_err, top_err = img.clone(), img.clone()
    mouth_err[..., 32:40, 18:30] += 0.3
    top_err[..., 4:12, 18:30] += 0.3
    lm = multiscale_loss(mouth_err, img, weight, perc)
    lt = multiscale_loss(top_err, img, weight, perc)
    assert lm["l1"] > 2 * lt["l1"] and lm["perceptual"] > lt["perceptual"]


# -- data -----------------------------------------------------------------------------------

def test_arrays_dataset_batches_and_bad_inputs():
    vids = [make_video(f"v{i}", seed=i) for i in range(3)]
    data = TalkingFaceArrays(vids, TINY)
    rng = np.random.default_rng(0)
    mel, low = data.sync_batch(rng, 3, 2)
    assert mel.shape == (6, 1, 80, 16) and low.shape == (6, 15, 24, 48)
    batch = data.gen_batch(rng, 2)
    assert batch["faces"].shape == (2, 5, 3, 48, 48) and batch["frames"].shape == (2, 5, 3, 64, 64)
    assert batch["frame_mels"].shape == (2, 5, 1, 80, 16)
    # the sync window of frame k is Wav2Lip's mel window of frame k
    full = melspectrogram(vids[0].audio * (0.95 / np.abs(vids[0].audio).max()))
    np.testing.assert_allclose(data._sync_mel(0, 7).numpy(), mel_window(full, 7), atol=1e-5)
    bad = make_video("bad")
    with pytest.raises(ValueError, match="bad: frames must be uint8"):
        TalkingFaceArrays([VideoArrays("bad", bad.frames.astype(np.float32), bad.boxes,
                                       bad.audio)], TINY)
    with pytest.raises(ValueError, match="boxes"):
        TalkingFaceArrays([VideoArrays("bad", bad.frames, bad.boxes[:5], bad.audio)], TINY)
    with pytest.raises(ValueError, match="outside"):
        TalkingFaceArrays([VideoArrays("bad", bad.frames, bad.boxes + 500, bad.audio)], TINY)


# -- training -------------------------------------------------------------------------------

def test_few_steps_lower_both_losses_on_a_fixed_batch():
    torch.manual_seed(0)
    data = TalkingFaceArrays([make_video(f"v{i}", seed=i) for i in range(3)], TINY)
    rng = np.random.default_rng(0)
    model = G4GModel(TINY)
    mel, low = data.sync_batch(rng, 3, 2)
    opt = torch.optim.Adam(model.aligner.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        loss = model.aligner.loss(mel, low)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.aligner.loss(mel, low).item() < 0.7 * first
    model.aligner.requires_grad_(False).eval()
    batch = data.gen_batch(rng, 2)
    perc = RandomFeaturePerceptual()
    opt = torch.optim.Adam(list(model.generator.parameters()) + list(model.fusion.parameters()),
                           lr=3e-3)
    losses = []
    for _ in range(12):
        out = model.generator_losses(batch, perc)
        losses.append(out["total"].item())
        opt.zero_grad()
        out["total"].backward()
        opt.step()
    assert set(out) == {"total", "l1", "perceptual", "sync", "fusion"}
    assert min(losses[-3:]) < 0.8 * losses[0]


def _tiny_sets():
    train = [make_video(f"t{i}", seed=i) for i in range(3)]
    val = [make_video(f"v{i}", seed=10 + i) for i in range(2)]
    return TalkingFaceArrays(train, TINY), TalkingFaceArrays(val, TINY)


def _crash_at_third_generator_batch(monkeypatch, cfg, tr, va, out):
    """Run training into ``out`` and interrupt it when the third training batch of stage 2 is
    drawn (after the checkpoint at generator step 2)."""
    calls = {"n": 0}
    real = TalkingFaceArrays.gen_batch

    def crash(self, rng, n):
        if self is tr:
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
        return real(self, rng, n)

    monkeypatch.setattr(TalkingFaceArrays, "gen_batch", crash)
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, tr, va, out, progress=False).run()
    monkeypatch.setattr(TalkingFaceArrays, "gen_batch", real)


def test_training_resumes_to_the_same_weights(tmp_path, monkeypatch):
    tr, va = _tiny_sets()
    full = Trainer(TINY, tr, va, tmp_path / "full", progress=False).run()
    assert (tmp_path / "full" / "loss_curves.png").stat().st_size > 0
    assert "stage 2 done" in (tmp_path / "full" / "train.log").read_text()

    # crash in stage 2 after the checkpoint written at generator step 2
    _crash_at_third_generator_batch(monkeypatch, TINY, tr, va, tmp_path / "crash")
    resumed = Trainer(TINY, tr, va, tmp_path / "crash", progress=False).run()
    assert "at stage 2 step 2" in (tmp_path / "crash" / "train.log").read_text()
    a, _ = load_weights(full)
    b, _ = load_weights(resumed)
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        torch.testing.assert_close(x, y, msg=k)
    # a longer generator schedule goes on from the end of the finished one
    longer = Trainer(replace(TINY, gen_steps=4), tr, va, tmp_path / "full", progress=False)
    longer.run()
    assert "at stage 2 step 3" in (tmp_path / "full" / "train.log").read_text()
    assert longer.step == 4 and longer.history["gen_val"][-1]["step"] == 4
    with pytest.raises(ValueError, match="another config"):
        Trainer(replace(TINY, seed=5), tr, va, tmp_path / "full", progress=False).run()


def test_adversarial_term_trains_the_critic_and_resumes_exactly(tmp_path, monkeypatch):
    tr, va = _tiny_sets()
    cfg = replace(TINY, w_gan=0.1, gan_start=1, disc_width=4)
    full = Trainer(cfg, tr, va, tmp_path / "full", progress=False)
    d0 = {k: v.clone() for k, v in full.disc.state_dict().items()}
    full.run()
    rows = full.history["gen_train"] + full.history["gen_val"]
    assert any("mouth_sharpness" in r for r in full.history["gen_val"]) and rows
    assert any(not torch.equal(d0[k], v) for k, v in full.disc.state_dict().items())
    # the critic is training-only: not in the inference weights
    assert not any("disc" in k for k in torch.load(tmp_path / "full" / "g4g_embedded.pt",
                                                   weights_only=True))
    _crash_at_third_generator_batch(monkeypatch, cfg, tr, va, tmp_path / "crash")
    resumed = Trainer(cfg, tr, va, tmp_path / "crash", progress=False)
    resumed.run()
    for k, v in full.disc.state_dict().items():
        torch.testing.assert_close(resumed.disc.state_dict()[k], v, msg=k)
    a, _ = load_weights(tmp_path / "full" / "g4g_embedded.pt")
    b, _ = load_weights(tmp_path / "crash" / "g4g_embedded.pt")
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        torch.testing.assert_close(x, y, msg=k)


def test_moving_average_is_what_is_validated_snapshotted_and_resumed(tmp_path, monkeypatch):
    tr, va = _tiny_sets()
    cfg = replace(TINY, ema_decay=0.5)
    raw = Trainer(TINY, tr, va, tmp_path / "raw", progress=False)
    raw.run()
    avg = Trainer(cfg, tr, va, tmp_path / "avg", progress=False, snapshots=True)
    seen = []  # the raw generator + fusion weights after each step
    update = avg.ema.update_parameters

    def record(parts):
        seen.append({k: v.detach().clone() for k, v in parts.state_dict().items()})
        update(parts)

    monkeypatch.setattr(avg.ema, "update_parameters", record)
    avg.run()
    assert len(seen) == TINY.gen_steps
    # the average changes what is kept, not how the raw weights train
    last = [torch.load(tmp_path / r / "last.pt", weights_only=True)["model"] for r in ("raw", "avg")]
    for k, v in last[0].items():
        torch.testing.assert_close(last[1][k], v, msg=k)
    # the step-2 snapshot holds the average of steps 1 and 2, not the raw step-2 weights
    snap, meta = load_weights(tmp_path / "avg" / "snapshots" / "gen_000002.pt")
    assert meta["ema_decay"] == 0.5
    state = {**{f"generator.{k}": v for k, v in snap.generator.state_dict().items()},
             **{f"fusion.{k}": v for k, v in snap.fusion.state_dict().items()}}
    moved = False
    for k, v in state.items():
        if not v.is_floating_point():
            continue
        expected = (0.5 * seen[0][k] + 0.5 * seen[1][k]).half().float()
        torch.testing.assert_close(v, expected, msg=k)
        moved |= not torch.equal(v, seen[1][k].half().float())
    assert moved
    # a crash after the step-2 checkpoint resumes with the same average
    _crash_at_third_generator_batch(monkeypatch, cfg, tr, va, tmp_path / "crash")
    resumed = Trainer(cfg, tr, va, tmp_path / "crash", progress=False)
    resumed.run()
    for k, v in avg.ema.state_dict().items():
        torch.testing.assert_close(resumed.ema.state_dict()[k], v, msg=k)
    with pytest.raises(ValueError, match="ema_decay"):
        replace(TINY, ema_decay=1.0)


def test_warm_start_takes_the_selected_aligner_and_optionally_the_generator(tmp_path):
    tr, va = _tiny_sets()
    Trainer(TINY, tr, va, tmp_path / "src", progress=False).run()
    src = torch.load(tmp_path / "src" / "last.pt", weights_only=True)["best"]
    # a wider generator with a cosine schedule, stage 1 taken from the source run
    wide = replace(TINY, width=6, gen_cosine=True)
    t = Trainer(wide, tr, va, tmp_path / "wide", progress=False)
    t.warm_start(tmp_path / "src" / "last.pt")
    assert (t.stage, t.step) == (2, 0)
    for k, v in src["align"].items():
        torch.testing.assert_close(t.model.aligner.state_dict()[k], v, msg=k)
    lrs = []
    real = t._gen_lr
    t._gen_lr = lambda: lrs.append(real()) or lrs[-1]  # type: ignore[method-assign]
    t.run()
    assert lrs[0] == pytest.approx(wide.gen_lr) and lrs[-1] < lrs[0]
    src_history = torch.load(tmp_path / "src" / "last.pt", weights_only=True)["history"]
    assert t.history["align_val"] == src_history["align_val"] and t.history["gen_val"]
    assert "warm start from" in (tmp_path / "wide" / "train.log").read_text()
    # the generator too: same config only; another width is refused naming the file
    same = Trainer(TINY, tr, va, tmp_path / "same", progress=False)
    same.warm_start(tmp_path / "src" / "last.pt", generator=True)
    for k, v in src["generator"].items():
        torch.testing.assert_close(same.model.generator.state_dict()[k], v, msg=k)
    with pytest.raises(ValueError, match="src.*does not match"):
        Trainer(wide, tr, va, tmp_path / "bad", progress=False).warm_start(
            tmp_path / "src" / "last.pt", generator=True)


def test_warm_start_from_a_weights_file(tmp_path):
    """A shipped weights file (float16) starts stage 2 like a run's last.pt."""
    tr, va = _tiny_sets()
    torch.manual_seed(5)
    src = G4GModel(TINY)
    save_weights(tmp_path / "w.pt", src, {"gen_step": 300})
    t = Trainer(TINY, tr, va, tmp_path / "ft", progress=False)
    t.warm_start(tmp_path / "w.pt", generator=True)
    shipped, _ = load_weights(tmp_path / "w.pt")
    for name in ("aligner", "generator", "fusion"):
        for k, v in getattr(shipped, name).state_dict().items():
            torch.testing.assert_close(getattr(t.model, name).state_dict()[k], v, msg=k)
    assert (t.stage, t.step) == (2, 0)
    t.run()
    assert t.history["gen_val"] and "generator of step 300" in (tmp_path / "ft" / "train.log").read_text()


def test_warm_start_discriminator_takes_the_critic_of_another_run(tmp_path):
    tr, va = _tiny_sets()
    adv = replace(TINY, w_gan=1.0, gan_start=0)
    Trainer(adv, tr, va, tmp_path / "src", progress=False).run()
    critic = torch.load(tmp_path / "src" / "last.pt", weights_only=True)["disc"]
    t = Trainer(adv, tr, va, tmp_path / "ft", progress=False)
    t.warm_start(tmp_path / "src" / "last.pt", generator=True)
    fresh = {k: v.clone() for k, v in t.disc.state_dict().items()}
    t.warm_start_discriminator(tmp_path / "src" / "last.pt")
    assert any(not torch.equal(fresh[k], v) for k, v in critic.items())
    for k, v in critic.items():
        torch.testing.assert_close(t.disc.state_dict()[k], v, msg=k)
    # kept by the checkpoint it writes, so a resumed run goes on with it
    resumed = torch.load(tmp_path / "ft" / "last.pt", weights_only=True)["disc"]
    for k, v in critic.items():
        torch.testing.assert_close(resumed[k], v, msg=k)
    t.run()
    assert "discriminator from" in (tmp_path / "ft" / "train.log").read_text()
    # a weights file carries no critic; another critic width is refused; both name the file
    save_weights(tmp_path / "w.pt", G4GModel(TINY), {"gen_step": 1})
    with pytest.raises(ValueError, match="w.pt.*no discriminator"):
        t.warm_start_discriminator(tmp_path / "w.pt")
    other = Trainer(replace(adv, disc_width=8), tr, va, tmp_path / "other", progress=False)
    with pytest.raises(ValueError, match="last.pt.*does not match"):
        other.warm_start_discriminator(tmp_path / "src" / "last.pt")


# -- checkpoints ----------------------------------------------------------------------------

def test_weights_round_trip_and_bad_files(tmp_path):
    torch.manual_seed(0)
    model = G4GModel(TINY).eval()
    x = torch.rand(2, 3, 48, 48)
    mel = torch.randn(2, 1, 80, 16)
    save_weights(tmp_path / "full.pt", model, {"note": "x"}, half=False)
    save_weights(tmp_path / "half.pt", model)
    loaded, meta = load_weights(tmp_path / "full.pt")
    assert meta == {"note": "x"} and loaded.cfg == TINY
    with torch.no_grad():
        ref = model.faces(mask_lower_half(x), x, mel)
        torch.testing.assert_close(loaded.faces(mask_lower_half(x), x, mel), ref)
        half, _ = load_weights(tmp_path / "half.pt")
        torch.testing.assert_close(half.faces(mask_lower_half(x), x, mel), ref, atol=2e-2, rtol=0)
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "full.pt").stat().st_size
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        load_weights(tmp_path / "junk.pt")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt: not a G4G weights file"):
        load_weights(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_weights(tmp_path / "missing.pt")


# -- the bench method -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_method(tmp_path_factory):
    from plugins.g4g import G4GMethod

    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("g4g") / "tiny.pt"
    save_weights(path, G4GModel(TINY))
    return G4GMethod(checkpoint=path, batch_size=8)


def _clip(n_frames=12, seconds=0.6, sr=16000, fps=25.0, boxes=None, size=64, cid="c1"):
    from bench.samples import Clip

    v = make_video(cid, n_frames=n_frames, size=size)
    audio = np.resize(v.audio, int(seconds * sr)).astype(np.float32)
    return Clip(id=cid, frames=v.frames, face_boxes=v.boxes if boxes is None else boxes,
                audio=audio, sample_rate=sr, fps=fps)


def test_generate_contract_and_determinism(tiny_method):
    from bench.protocols import TalkingFaceMethod

    assert isinstance(tiny_method, TalkingFaceMethod)
    clip = _clip(n_frames=12, seconds=0.6)  # 15 output frames from 12 identity frames
    out = tiny_method.generate(clip)
    assert out.shape == (clip.n_output_frames, 64, 64, 3) == (15, 64, 64, 3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, tiny_method.generate(clip))
    # outside the face box the frames are the (ping-pong looped) identity frames
    idx = pingpong_indices(12, 15)
    np.testing.assert_array_equal(out[:, :4], clip.frames[idx][:, :4])
    # 44.1 kHz audio is resampled: same number of frames for the same duration
    clip44 = _clip(n_frames=12, seconds=0.6, sr=44100)
    assert tiny_method.generate(clip44).shape == out.shape


def test_generate_rejects_bad_clips_with_clear_errors(tiny_method):
    from bench.interfaces import SampleError

    with pytest.raises(SampleError, match="clip 'c1'.*30 fps"):
        tiny_method.generate(_clip(fps=30.0))
    with pytest.raises(SampleError, match="shorter than one video frame"):
        tiny_method.generate(_clip(seconds=0.01))
    nan_boxes = make_video("x", 12).boxes.copy()
    nan_boxes[3, 0] = np.nan
    with pytest.raises(SampleError, match="clip 'c1'.*NaN"):
        tiny_method.generate(_clip(boxes=nan_boxes))
    with pytest.raises(SampleError, match="outside"):
        tiny_method.generate(_clip(boxes=make_video("x", 12).boxes + 1000))
    with pytest.raises(SampleError, match="11 face boxes for 12 frames"):
        tiny_method.generate(_clip(boxes=make_video("x", 12).boxes[:11]))


def test_method_config_must_match_the_checkpoint(tiny_method, tmp_path):
    from plugins.g4g import G4GMethod

    with pytest.raises(ValueError, match="align_loss"):
        G4GMethod(checkpoint=tiny_method.checkpoint, align_loss="dense_bce")
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        G4GMethod(checkpoint=tmp_path / "nowhere.pt")


def test_plugin_registers_method_and_weights():
    import pluggy

    import bench.hookspecs
    import plugins.g4g as plugin

    pm = pluggy.PluginManager(bench.hookspecs.PROJECT)
    pm.add_hookspecs(bench.hookspecs)
    pm.register(plugin)
    methods, weights = [], []
    pm.hook.bench_register_methods(register=methods.append)
    pm.hook.bench_register_weights(register=weights.append)
    (spec,) = methods
    assert spec.name == "g4g" and spec.task == "talking-face" and spec.reference
    assert spec.paper == "arXiv:2402.18122" and spec.config["reconstruction"] is True
    assert spec.weights == ("g4g-embedded",) and weights[0].name == "g4g-embedded"
    assert spec.factory == "plugins.g4g:G4GMethod"
    assert spec.trainer == weights[0].trainer == "plugins.g4g:train_command"


def test_shipped_checkpoint_matches_registry_and_generates():
    import plugins.g4g as plugin

    path = plugin.CHECKPOINT_DIR / plugin.EMBEDDED_CHECKPOINT
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == plugin.EMBEDDED_SHA256
    assert len(data) == plugin.EMBEDDED_SIZE
    method = plugin.G4GMethod(**plugin.METHOD_CONFIG)  # the registered config, as the harness
    # the committed recipe, but for how often the run validated and wrote snapshots (every 50
    # steps, so that its step-100 snapshot exists; stage 1 keeps 150, checkpoint README)
    shipped, embedded = method.inference.cfg, get_config("embedded")
    assert (shipped.val_every, shipped.ckpt_every) == (50, 50)
    assert replace(shipped, val_every=embedded.val_every,
                   ckpt_every=embedded.ckpt_every) == embedded
    clip = _clip(n_frames=8, seconds=0.4, size=128)
    out = method.generate(clip)
    assert out.shape == (10, 128, 128, 3) and out.dtype == np.uint8


def test_checkpoint_readme_quotes_the_pinned_file():
    # the README is how a reader checks the file by hand; it went stale once
    import plugins.g4g as plugin

    text = (plugin.CHECKPOINT_DIR / "README.md").read_text(encoding="utf-8")
    head = " ".join(text.split("\n## ")[0].split())
    assert f"sha256 `{plugin.EMBEDDED_SHA256}`" in head
    assert f"{plugin.EMBEDDED_SIZE:,} bytes" in head


def test_registered_method_passes_the_harness_validator():
    import plugins.g4g as plugin
    from bench.protocols import TalkingFaceMethod
    from bench.devtools.validate import validate_method

    methods = []
    plugin.bench_register_methods(register=methods.append)
    checks = validate_method(methods[0], TalkingFaceMethod, seed=0)
    assert len(checks) == 6  # interface, task runner, 3 output contracts, determinism
    assert all(c.ok for c in checks), [(c.name, c.detail) for c in checks if not c.ok]


def test_batched_inference_equals_frame_by_frame(tiny_method):
    from reference_models.g4g.inference import G4GInference

    clip = _clip(n_frames=12, seconds=0.8)
    one = G4GInference(tiny_method.inference.model, batch_size=1)
    args = (clip.frames, clip.face_boxes, clip.audio, clip.n_output_frames)
    per_frame = one.generate(*args)
    for batch in (7, 32):
        batched = G4GInference(tiny_method.inference.model, batch_size=batch).generate(*args)
        np.testing.assert_array_equal(batched, per_frame)


def test_mouth_psnr_pools_the_lower_face_halves():
    from reference_models.g4g.evaluation import mouth_psnr

    target = np.zeros((2, 8, 8, 3), np.uint8)
    out = target.copy()
    out[:, 4:8, 2:6] = 5  # the lower halves of the boxes below, off by 5 everywhere
    boxes = np.array([[2, 0, 6, 8], [2, 0, 6, 8]], np.float32)
    assert mouth_psnr(out, target, boxes) == pytest.approx(10 * np.log10(255.0**2 / 25))
    out[:, :4] = 255  # the upper halves are not the method's
    assert mouth_psnr(out, target, boxes) == pytest.approx(10 * np.log10(255.0**2 / 25))


def test_command_line_parses_overrides_and_dispatches(capsys):
    from reference_models.g4g.cli import build_parser, config_overrides, main

    args = build_parser("g4g", "ckpt.pt").parse_args(
        ["train", "--out", "o", "--gen-steps", "3", "--set", "w_mouth=8", "--set", "fusion=unet",
         "--set", 'mask_scales=["face"]', "--init-from", "a/last.pt", "--init-generator"])
    assert config_overrides(args) == {"gen_steps": 3, "w_mouth": 8, "fusion": "unet",
                                      "mask_scales": ("face",)}
    assert str(args.init_from) == "a/last.pt" and args.init_generator
    with pytest.raises(SystemExit):
        main(["train", "--out", "o", "--set", "w_mouth"], load_split=None, evaluate=None)
    assert "--set needs KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # refused before any data is loaded
        main(["train", "--out", "o", "--init-discriminator", "b/last.pt"], load_split=None,
             evaluate=None)
    assert "--init-discriminator needs --init-from" in capsys.readouterr().err
    calls = []
    main(["eval", "--max-clips", "2"], load_split=None,
         evaluate=lambda *a: calls.append(a) or {"clips": 2})
    assert calls == [("g4g_embedded.pt", "val", 2, None)]
    assert '"clips": 2' in capsys.readouterr().out


def test_plugin_module_keeps_its_training_command(capsys):
    import plugins.g4g as plugin

    with pytest.raises(SystemExit):
        plugin.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "python -m plugins.g4g train" in out and "--init-from" in out


def test_reference_path_prefers_runs_and_respects_the_exclusion():
    from reference_models.g4g.inference import _best_path

    score = np.array([[0.0, 1.0, 0.9, 0.0],
                      [0.0, 0.0, 0.0, 0.95],
                      [0.0, 1.0, 0.0, 0.0]])
    assert _best_path(score, 0.0).tolist() == [1, 3, 1]  # the per-frame argmax
    # a bonus for continuing with the next frame: the run 2 -> 3 (0.9 + 0.95 + 0.2) then 1
    # beats 1 -> 3 -> 1 (2.95); with a small bonus it does not
    assert _best_path(score, 0.2).tolist() == [2, 3, 1]
    assert _best_path(score, 0.05).tolist() == [1, 3, 1]


def test_aligner_references_never_pick_frames_near_the_target(tiny_method):
    from reference_models.g4g.inference import aligner_references

    model = tiny_method.inference.model
    cfg = model.cfg
    faces = torch.randint(0, 255, (30, 3, cfg.face_size, cfg.face_size), dtype=torch.uint8)
    mels = torch.randn(30, 1, cfg.n_mels, cfg.mel_steps)
    src = np.arange(30)
    for cont in (0.0, 0.3):
        ref = aligner_references(model, faces, mels, src, exclude=8, continuity=cont)
        assert ref.shape == (30,) and (np.abs(ref - src) >= 8).all()


def test_export_sets_inference_keys_only(tmp_path):
    from reference_models.g4g.model import export_weights

    torch.manual_seed(0)
    save_weights(tmp_path / "w.pt", G4GModel(TINY), {"gen_step": 3})
    out = export_weights(tmp_path / "w.pt", tmp_path / "e.pt", reference_select="aligner",
                         reference_continuity=0.15, steady_boxes=True)
    model, meta = load_weights(out)
    assert model.cfg.reference_select == "aligner" and model.cfg.reference_continuity == 0.15
    assert model.cfg.steady_boxes
    assert meta["gen_step"] == 3 and meta["exported_from"] == "w.pt"
    a, _ = load_weights(tmp_path / "w.pt")
    for (k, x), (_, y) in zip(a.state_dict().items(), model.state_dict().items()):
        torch.testing.assert_close(x, y, msg=k)
    with pytest.raises(ValueError, match="only inference keys.*width"):
        export_weights(tmp_path / "w.pt", tmp_path / "x.pt", width=16)
    with pytest.raises(ValueError, match="reference_select"):
        export_weights(tmp_path / "w.pt", tmp_path / "x.pt", reference_select="nearest")


def test_steady_boxes_make_outputs_independent_of_the_box_bottom(tmp_path):
    """With steady boxes, where a clip's boxes end (below their tallest) does not reach the
    generator: two tracks that differ only there give identical frames."""
    from reference_models.g4g.inference import G4GInference

    torch.manual_seed(4)
    inf = G4GInference(G4GModel(replace(TINY, steady_boxes=True)), batch_size=8)
    clip = _clip(n_frames=12, seconds=0.48)
    jaw = clip.face_boxes.astype(np.float32).copy()
    jaw[::3, 3] -= 3.0  # every third frame's box ends 3 px higher (the jaw closed)
    a = inf.generate(clip.frames, jaw, clip.audio, 12)
    b = inf.generate(clip.frames, clip.face_boxes, clip.audio, 12)
    np.testing.assert_array_equal(a, b)
    plain = G4GInference(G4GModel(replace(TINY, steady_boxes=False)), batch_size=8)
    plain.model.load_state_dict(inf.model.state_dict())
    assert not np.array_equal(plain.generate(clip.frames, jaw, clip.audio, 12),
                              plain.generate(clip.frames, clip.face_boxes, clip.audio, 12))


def test_diagonal_mean_averages_the_pairs_along_each_diagonal():
    from reference_models.g4g.inference import _diagonal_mean

    c = torch.arange(20.0).reshape(4, 5)
    m = _diagonal_mean(c, 1)
    assert m[1, 1] == (c[0, 0] + c[1, 1] + c[2, 2]) / 3
    assert m[0, 0] == (c[0, 0] + c[1, 1]) / 2  # (-1, -1) is outside
    assert m[0, 4] == c[0, 4] and m[3, 0] == c[3, 0]  # corners have no neighbours inside
    torch.testing.assert_close(_diagonal_mean(c, 0), c)


def test_training_references_chosen_by_the_aligner(tmp_path):
    tr, va = _tiny_sets()
    cfg = replace(TINY, train_reference="aligner", reference_exclude=6, ref_out_of_mouth=False)
    t = Trainer(cfg, tr, va, tmp_path / "a", progress=False)
    t.run()
    assert tr.ref_choice is not None and len(tr.ref_choice) == len(tr)
    for v, choice in enumerate(tr.ref_choice):
        n = len(tr.faces[v])
        assert choice.shape == (n,) and (np.abs(choice - np.arange(n)) >= 6).all()
    batch = tr.gen_batch(np.random.default_rng(0), 2)
    vid = int(np.random.default_rng(0).choice(len(tr), size=2, replace=False)[0])
    refs = {tuple(tr.faces[vid][j].flatten()[:8].tolist()) for j in tr.ref_choice[vid]}
    assert tuple((batch["refs"][0, 0] * 255).round().to(torch.uint8).flatten()[:8].tolist()) \
        in refs
    with pytest.raises(ValueError, match="train_reference"):
        replace(TINY, train_reference="nearest")


def test_mixed_training_references_come_from_another_clip_of_the_same_face(tmp_path):
    from dataclasses import replace as dc_replace

    videos = [make_video(f"t{i}", seed=i) for i in range(3)]
    videos = [dc_replace(videos[0], identity="a"), dc_replace(videos[1], identity="a"),
              dc_replace(videos[2], identity="b")]
    tr = TalkingFaceArrays(videos, TINY)
    va = TalkingFaceArrays([make_video(f"v{i}", seed=10 + i) for i in range(2)], TINY)
    cfg = replace(TINY, train_reference="aligner-mixed", reference_exclude=6,
                  ref_out_of_mouth=False)
    Trainer(cfg, tr, va, tmp_path / "m", progress=False).run()
    assert tr.cross_choice is not None
    (u0, c0), (u1, c1) = tr.cross_choice[0], tr.cross_choice[1]
    assert (u0, u1) == (1, 0) and tr.cross_choice[2] is None  # "b" has no other clip
    assert c0.shape == (len(tr.faces[0]),) and c0.max() < len(tr.faces[1])
    assert c1.shape == (len(tr.faces[1]),) and c1.max() < len(tr.faces[0])
    assert va.cross_choice == [None, None]  # unknown identities: each video a face of its own
    # about half the windows of video 0 take their references from video 1
    own = {tr.faces[0][j].numpy().tobytes() for j in range(len(tr.faces[0]))}
    other = {tr.faces[1][j].numpy().tobytes() for j in c0}
    rng, seen = np.random.default_rng(0), {"own": 0, "other": 0}
    for _ in range(60):
        batch = tr.gen_batch(rng, 1)
        first = (batch["refs"][0, 0] * 255).round().to(torch.uint8).numpy().tobytes()
        if (batch["faces"][0, 0] * 255).round().to(torch.uint8).numpy().tobytes() in own:
            seen["other" if first in other else "own"] += 1
    assert seen["other"] > 0 and seen["own"] > 0
