"""Wav2Lip networks, official checkpoint compatibility, training smoke runs and inference contract."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json

import cv2
import numpy as np
import pytest
import torch

from reference_models.wav2lip.audio import melspectrogram
from reference_models.wav2lip.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from reference_models.wav2lip.data import FaceVideo, WindowSampler
from reference_models.wav2lip.inference import crop_faces, lip_sync, ping_pong, reference_indices
from reference_models.wav2lip.models import (
    SyncNetColor,
    Wav2Lip,
    Wav2LipDiscQual,
    copy_audio_encoder,
    lower_half_window,
)
from reference_models.wav2lip.train import TrainConfig, train_expert, train_generator

torch.set_num_threads(1)
W = 0.0625  # tiny width keeps these tests fast


# --- the published layouts, written out layer by layer (cin, cout, kernel) --------------------

def _res(c, n):
    return [(c, c, 3)] * n


SYNC_FACE = [(15, 32, 7), (32, 64, 5), *_res(64, 2), (64, 128, 3), *_res(128, 3), (128, 256, 3),
             *_res(256, 2), (256, 512, 3), *_res(512, 2), (512, 512, 3), (512, 512, 3), (512, 512, 1)]
SYNC_AUDIO = [(1, 32, 3), *_res(32, 2), (32, 64, 3), *_res(64, 2), (64, 128, 3), *_res(128, 2),
              (128, 256, 3), *_res(256, 2), (256, 512, 3), (512, 512, 1)]
GEN_AUDIO = [(1, 32, 3), *_res(32, 2), (32, 64, 3), *_res(64, 2), (64, 128, 3), *_res(128, 2),
             (128, 256, 3), *_res(256, 1), (256, 512, 3), (512, 512, 1)]
GEN_ENCODER = [[(6, 16, 7)], [(16, 32, 3), *_res(32, 2)], [(32, 64, 3), *_res(64, 3)],
               [(64, 128, 3), *_res(128, 2)], [(128, 256, 3), *_res(256, 2)],
               [(256, 512, 3), *_res(512, 1)], [(512, 512, 3), (512, 512, 1)]]
# first layer of each decoder block is a transposed conv except block 0
GEN_DECODER = [[(512, 512, 1)], [(1024, 512, 3), *_res(512, 1)], [(1024, 512, 3), *_res(512, 2)],
               [(768, 384, 3), *_res(384, 2)], [(512, 256, 3), *_res(256, 2)],
               [(320, 128, 3), *_res(128, 2)], [(160, 64, 3), *_res(64, 2)]]
DISC = [[(3, 32, 7)], [(32, 64, 5), (64, 64, 5)], [(64, 128, 5), (128, 128, 5)],
        [(128, 256, 5), (256, 256, 5)], [(256, 512, 3), (512, 512, 3)], [(512, 512, 3), (512, 512, 3)],
        [(512, 512, 3), (512, 512, 1)]]


def _conv_keys(prefix, cin, cout, k, norm=True, transpose=False):
    shape = (cin, cout, k, k) if transpose else (cout, cin, k, k)
    keys = {f"{prefix}.conv_block.0.weight": shape, f"{prefix}.conv_block.0.bias": (cout,)}
    if norm:
        for name in ("weight", "bias", "running_mean", "running_var"):
            keys[f"{prefix}.conv_block.1.{name}"] = (cout,)
        keys[f"{prefix}.conv_block.1.num_batches_tracked"] = ()
    return keys


def official_keys(kind: str) -> dict[str, tuple]:
    """Key -> shape of the published checkpoints, built from the tables above."""
    keys: dict[str, tuple] = {}
    if kind == "syncnet":
        for i, (a, b, k) in enumerate(SYNC_FACE):
            keys.update(_conv_keys(f"face_encoder.{i}", a, b, k))
        for i, (a, b, k) in enumerate(SYNC_AUDIO):
            keys.update(_conv_keys(f"audio_encoder.{i}", a, b, k))
    elif kind == "wav2lip":
        for i, block in enumerate(GEN_ENCODER):
            for j, (a, b, k) in enumerate(block):
                keys.update(_conv_keys(f"face_encoder_blocks.{i}.{j}", a, b, k))
        for i, (a, b, k) in enumerate(GEN_AUDIO):
            keys.update(_conv_keys(f"audio_encoder.{i}", a, b, k))
        for i, block in enumerate(GEN_DECODER):
            for j, (a, b, k) in enumerate(block):
                keys.update(_conv_keys(f"face_decoder_blocks.{i}.{j}", a, b, k, transpose=(i > 0 and j == 0)))
        keys.update(_conv_keys("output_block.0", 80, 32, 3))
        keys.update({"output_block.1.weight": (3, 32, 1, 1), "output_block.1.bias": (3,)})
    else:
        for i, block in enumerate(DISC):
            for j, (a, b, k) in enumerate(block):
                keys.update(_conv_keys(f"face_encoder_blocks.{i}.{j}", a, b, k, norm=False))
        keys.update({"binary_pred.0.weight": (1, 512, 1, 1), "binary_pred.0.bias": (1,)})
    return keys


def _official_file(path, kind, prefix="module.", seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in official_keys(kind).items():
        if key.endswith("num_batches_tracked"):
            state[prefix + key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[prefix + key] = torch.rand(shape, generator=g) + 0.5
        else:
            state[prefix + key] = torch.randn(shape, generator=g) * 0.02
    # The official files also hold optimizer state and counters.
    optimizer = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2)}},
                 "param_groups": [{"lr": 1e-4, "betas": (0.5, 0.999), "params": [0]}]}
    torch.save({"state_dict": state, "optimizer": optimizer, "global_step": 3, "global_epoch": 1}, path)
    return state


@pytest.mark.parametrize("kind", ["wav2lip", "syncnet", "disc"])
def test_official_checkpoint_layout_loads_strictly(tmp_path, kind):
    path = tmp_path / f"{kind}.pth"
    state = _official_file(path, kind)
    model = load_checkpoint(path, kind)
    own = model.state_dict()
    assert set(own) == set(official_keys(kind))
    for key, value in state.items():
        assert torch.equal(own[key[len("module."):]], value.float() if value.is_floating_point() else value)
    with torch.no_grad():  # the full-width networks run on one sample
        if kind == "wav2lip":
            assert model(torch.rand(1, 1, 80, 16), torch.rand(1, 6, 96, 96)).shape == (1, 3, 96, 96)
        elif kind == "syncnet":
            a, v = model(torch.rand(1, 1, 80, 16), torch.rand(1, 15, 48, 96))
            assert a.shape == v.shape == (1, 512)
        else:
            assert model(torch.rand(1, 3, 1, 96, 96)).shape == (1, 1)


def test_wrong_keys_name_file_and_keys(tmp_path):
    path = tmp_path / "broken.pth"
    state = _official_file(path, "syncnet", prefix="")
    state.pop("audio_encoder.0.conv_block.0.weight")
    state["extra.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, "syncnet")
    msg = str(err.value)
    assert "broken.pth" in msg and "audio_encoder.0.conv_block.0.weight" in msg and "extra.weight" in msg


def test_wrong_kind_and_width_rejected(tmp_path):
    path = tmp_path / "gen.pth"
    _official_file(path, "wav2lip")
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_checkpoint(path, "wav2lip", width=0.5)
    with pytest.raises(CheckpointError, match="missing keys"):
        load_checkpoint(path, "syncnet")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pth", "wav2lip")


def test_unsafe_pickle_refused(tmp_path):
    path = tmp_path / "pickled.pth"

    # arbitrary pickled objects (here an argparse.Namespace) are refused by weights_only loading
    torch.save({"state_dict": {}, "args": argparse.Namespace(lr=1e-4)}, path)
    with pytest.raises(CheckpointError, match="pickled.pth"):
        load_checkpoint(path, "wav2lip")


def test_module_shapes():
    width = W  # full width: see test_official_checkpoint_layout_loads_strictly
    torch.manual_seed(0)
    sync = SyncNetColor(width).eval()
    a, v = sync(torch.rand(2, 1, 80, 16), torch.rand(2, 15, 48, 96))
    emb = round(512 * width)
    assert a.shape == v.shape == (2, emb)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(2))
    gen = Wav2Lip(width).eval()
    with torch.no_grad():
        seq = gen(torch.rand(1, 2, 1, 80, 16), torch.rand(1, 6, 2, 96, 96))
        single = gen(torch.rand(2, 1, 80, 16), torch.rand(2, 6, 96, 96))
    assert seq.shape == (1, 3, 2, 96, 96) and single.shape == (2, 3, 96, 96)
    assert seq.min() >= 0 and seq.max() <= 1
    disc = Wav2LipDiscQual(width).eval()
    p = disc(torch.rand(2, 3, 2, 96, 96))
    assert p.shape == (4, 1) and bool(((p > 0) & (p < 1)).all())
    assert lower_half_window(torch.rand(2, 3, 5, 96, 96)).shape == (2, 15, 48, 96)


def test_sequence_folding_matches_per_frame():
    torch.manual_seed(1)
    gen = Wav2Lip(W).eval()
    mel, faces = torch.rand(2, 5, 1, 80, 16), torch.rand(2, 6, 5, 96, 96)
    with torch.no_grad():
        seq = gen(mel, faces)
        frame3 = gen(mel[:, 3], faces[:, :, 3])
    torch.testing.assert_close(seq[:, :, 3], frame3)


@functools.lru_cache(maxsize=2)
def _videos(n=3, frames=30, seed=0):
    """Synthetic videos whose mouth brightness follows the audio loudness (learnable sync)."""
    rng = np.random.default_rng(seed)
    out = []
    for v in range(n):
        env = rng.random(frames)
        t = np.arange(int(16000 * frames / 25)) / 16000
        loud = np.repeat(env, 640)[: len(t)]
        wav = (0.5 * loud * np.sin(2 * np.pi * (200 + 50 * v) * t)).astype(np.float32)
        faces = np.full((frames, 96, 96, 3), 90 + 30 * v, np.uint8)
        faces[:, 60:80, 30:66] = (env[:, None, None, None] * 255).astype(np.uint8)
        out.append(FaceVideo(faces, melspectrogram(wav), name=f"v{v}"))
    return out


def test_sampler_batches_and_offsets():
    sampler = WindowSampler(_videos())
    rng = np.random.default_rng(0)
    b = sampler.sync_batch(rng, 6)
    assert b["faces"].shape == (6, 15, 48, 96) and b["mel"].shape == (6, 1, 80, 16)
    assert set(np.unique(b["label"])) <= {0.0, 1.0}
    g = sampler.generator_batch(rng, 2)
    assert g["inputs"].shape == (2, 6, 5, 96, 96) and g["frame_mels"].shape == (2, 5, 1, 80, 16)
    assert np.all(g["inputs"][:, :3, :, 48:] == 0)  # target lower half masked
    assert np.all(g["inputs"][:, :3, :, :48] == g["target"][:, :, :, :48])
    # frame k of the window pairs with the mel window of frame k-1, the sync mel with frame 0
    np.testing.assert_array_equal(g["frame_mels"][:, 1], g["mel"])
    with pytest.raises(ValueError, match="long enough"):
        WindowSampler([FaceVideo(np.zeros((6, 96, 96, 3), np.uint8), np.zeros((80, 30), np.float32))])


def test_offset_batch_pairs_each_window_with_its_shifted_audio():
    from reference_models.wav2lip.data import _mel_at

    videos = _videos()
    sampler = WindowSampler(videos)
    b = sampler.offset_batch(np.random.default_rng(0), 5, max_shift=3)
    assert b["faces"].shape == (5, 15, 48, 96) and b["mels"].shape == (5, 7, 1, 80, 16)
    # find each window's video and start from its faces, then check the 7 audio windows
    for faces, mels in zip(b["faces"], b["mels"]):
        hits = [(v, t) for v in videos for t in range(len(v.faces) - 4)
                if np.array_equal(faces[:3], v.faces[t, 48:].transpose(2, 0, 1) / np.float32(255))]
        assert hits
        video, t = hits[0]
        assert 3 <= t
        for k in range(-3, 4):
            np.testing.assert_array_equal(mels[k + 3, 0], _mel_at(video, t + k))
    with pytest.raises(ValueError, match="offsets of \\+-40"):
        sampler.offset_batch(np.random.default_rng(0), 2, max_shift=40)


def test_offset_objective_learns_and_resumes_exactly(tmp_path):
    from reference_models.wav2lip.train import LogitScale, _tensors, offset_loss

    torch.manual_seed(0)
    sampler = WindowSampler(_videos())
    b = _tensors(sampler.offset_batch(np.random.default_rng(0), 4, max_shift=2))
    expert, scale = SyncNetColor(W), LogitScale()
    opt = torch.optim.Adam([*expert.parameters(), *scale.parameters()], lr=1e-3)
    losses = []
    for _ in range(20):
        loss, stats = offset_loss(expert, b["mels"], b["faces"], scale)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4]) and 0 <= stats["offset_acc"] <= 1
    cfg = TrainConfig(width=W, steps=4, batch=3, eval_every=2, eval_batches=1, seed=1,
                      expert_loss="offsets", max_shift=2)
    train_expert(sampler, sampler, tmp_path / "straight", cfg, progress=False)
    cfg.steps = 2
    train_expert(sampler, sampler, tmp_path / "resumed", cfg, progress=False)
    cfg.steps = 4
    train_expert(sampler, sampler, tmp_path / "resumed", cfg, progress=False)
    a = torch.load(tmp_path / "straight" / "expert_last.pt", weights_only=True)["modules"]
    r = torch.load(tmp_path / "resumed" / "expert_last.pt", weights_only=True)["modules"]
    assert set(a) == {"model", "scale"}
    assert all(torch.equal(a[m][k], r[m][k]) for m in a for k in a[m])
    rows = [json.loads(x) for x in (tmp_path / "resumed" / "expert_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and "val_offset_acc" in rows[1]
    # CPU time carries over the resume: it never goes back, and step 3 continues step 2's count
    cpu = [r["cpu_s"] for r in rows]
    assert cpu == sorted(cpu) and cpu[-1] > 0
    assert json.loads(torch.load(tmp_path / "resumed" / "expert_last.pt",
                                 weights_only=True)["extra"])["cpu_s"] == cpu[-1]
    with pytest.raises(ValueError, match="expert_loss"):
        train_expert(sampler, sampler, tmp_path / "bad", TrainConfig(width=W, expert_loss="nce"),
                     progress=False)


def test_losses_decrease_on_a_fixed_tiny_batch():
    from reference_models.wav2lip.train import _generator_losses, _tensors, sync_loss

    torch.manual_seed(0)
    sampler = WindowSampler(_videos())
    b = _tensors(sampler.sync_batch(np.random.default_rng(0), 4))
    expert = SyncNetColor(W)
    opt = torch.optim.Adam(expert.parameters(), lr=1e-3)
    losses = []
    for _ in range(16):
        loss = sync_loss(expert, b["mel"], b["faces"], b["label"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4])
    g = _tensors(sampler.generator_batch(np.random.default_rng(1), 1))
    gen = Wav2Lip(W)
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    l1 = []
    for _ in range(10):
        _, parts = _generator_losses(gen, expert.eval(), g, None)
        loss = 0.99 * parts["l1"] + 0.01 * parts["sync"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        l1.append(parts["l1"].item())
    assert np.mean(l1[-3:]) < 0.9 * np.mean(l1[:3])


def test_training_loop_logs_plots_and_resumes(tmp_path):
    sampler = WindowSampler(_videos())
    cfg = TrainConfig(width=W, steps=6, batch=2, eval_every=3, eval_batches=1, seed=0)
    res = train_expert(sampler, sampler, tmp_path, cfg, progress=False)
    rows = [json.loads(x) for x in (tmp_path / "expert_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 7)) and "val_loss" in rows[2]
    assert res["best_val_loss"] == min(r["val_loss"] for r in rows if "val_loss" in r)
    assert (tmp_path / "expert_loss.png").stat().st_size > 1000
    # resume: asking for more steps continues from step 6 without duplicate log lines
    cfg.steps = 8
    train_expert(sampler, sampler, tmp_path, cfg, progress=False)
    steps = [json.loads(x)["step"] for x in (tmp_path / "expert_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))
    gcfg = TrainConfig(width=W, steps=4, batch=1, eval_every=2, eval_batches=1, gan=True)
    gres = train_generator(sampler, sampler, tmp_path / "expert.pt", tmp_path, gcfg, progress=False)
    grows = [json.loads(x) for x in (tmp_path / "wav2lip_log.jsonl").read_text().splitlines()]
    assert len(grows) == 4 and "train_disc" in grows[0] and "val_sync" in grows[1]
    assert load_checkpoint(gres["checkpoint"], "wav2lip").width == W
    assert (tmp_path / "wav2lip_loss.png").exists()


def test_generator_starts_from_given_weights_with_the_sync_term_on(tmp_path):
    sampler = WindowSampler(_videos())
    train_expert(sampler, sampler, tmp_path, TrainConfig(width=W, steps=1, batch=2, eval_batches=1),
                 progress=False)
    torch.manual_seed(7)
    start = Wav2Lip(W)
    save_checkpoint(tmp_path / "l1.pt", start, "wav2lip")
    cfg = TrainConfig(width=W, steps=3, batch=1, lr=0.0, eval_every=1, eval_batches=1,
                      sync_wt=0.2, sync_threshold=float("inf"))
    train_generator(sampler, sampler, tmp_path / "expert.pt", tmp_path / "g", cfg,
                    progress=False, init=tmp_path / "l1.pt")
    rows = [json.loads(x) for x in (tmp_path / "g" / "wav2lip_log.jsonl").read_text().splitlines()]
    # off for the first step (no val measurement yet), on from the first evaluation
    assert [r["sync_wt"] for r in rows] == [0.0, 0.2, 0.2]
    last = torch.load(tmp_path / "g" / "wav2lip_last.pt", weights_only=True)["modules"]["gen"]
    # lr 0: the parameters are the given ones (batch-norm statistics move in train mode)
    assert all(torch.equal(last[k], v) for k, v in start.named_parameters())


def test_generator_audio_encoder_starts_from_the_experts(tmp_path):
    sampler = WindowSampler(_videos())
    train_expert(sampler, sampler, tmp_path, TrainConfig(width=W, steps=1, batch=2, eval_batches=1),
                 progress=False)
    expert = load_checkpoint(tmp_path / "expert.pt", "syncnet")
    gen = Wav2Lip(W)
    copy_audio_encoder(expert, gen)
    src, dst = list(expert.audio_encoder), list(gen.audio_encoder)
    # layer by layer, except the expert's second residual block at 256 channels (index 11)
    pairs = list(zip(dst, src[:11] + src[12:]))
    assert len(pairs) == len(dst) == len(src) - 1
    for d, s in pairs:
        assert all(torch.equal(a, b) for a, b in zip(d.state_dict().values(),
                                                     s.state_dict().values()))
    with pytest.raises(ValueError, match="width"):
        copy_audio_encoder(expert, Wav2Lip(2 * W))
    # in training, with lr 0 the generator's audio weights stay the expert's
    cfg = TrainConfig(width=W, steps=1, batch=1, lr=0.0, eval_every=1, eval_batches=1,
                      audio_from_expert=True)
    train_generator(sampler, sampler, tmp_path / "expert.pt", tmp_path / "g", cfg, progress=False)
    last = torch.load(tmp_path / "g" / "wav2lip_last.pt", weights_only=True)["modules"]["gen"]
    ref = gen.state_dict()
    conv_weights = [k for k in ref if k.startswith("audio_encoder.") and k.endswith("0.weight")]
    assert conv_weights and all(torch.equal(last[k], ref[k]) for k in conv_weights)


def test_training_is_seeded(tmp_path):
    sampler = WindowSampler(_videos())
    cfg = TrainConfig(width=W, steps=3, batch=2, eval_every=3, eval_batches=1, seed=5)
    train_expert(sampler, sampler, tmp_path / "a", cfg, progress=False)
    train_expert(sampler, sampler, tmp_path / "b", cfg, progress=False)
    a = load_checkpoint(tmp_path / "a" / "expert.pt", "syncnet").state_dict()
    b = load_checkpoint(tmp_path / "b" / "expert.pt", "syncnet").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_roundtrip_identical_outputs(tmp_path):
    torch.manual_seed(2)
    gen = Wav2Lip(W).eval()
    mel, faces = torch.rand(1, 1, 80, 16), torch.rand(1, 6, 96, 96)
    save_checkpoint(tmp_path / "g.pt", gen, "wav2lip")
    again = load_checkpoint(tmp_path / "g.pt", "wav2lip")
    with torch.no_grad():
        assert torch.equal(gen(mel, faces), again(mel, faces))
    # float16 storage: same network within half precision
    save_checkpoint(tmp_path / "h.pt", gen, "wav2lip", half=True)
    half = load_checkpoint(tmp_path / "h.pt", "wav2lip")
    with torch.no_grad():
        torch.testing.assert_close(gen(mel, faces), half(mel, faces), atol=5e-3, rtol=0)
    with pytest.raises(CheckpointError, match="holds a 'wav2lip' network"):
        load_checkpoint(tmp_path / "g.pt", "syncnet")


def test_ping_pong_and_references():
    assert ping_pong(4, 10).tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]
    assert ping_pong(1, 3).tolist() == [0, 0, 0]
    assert reference_indices(10).tolist() == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        ping_pong(0, 3)


def test_lip_sync_contract_and_determinism():
    torch.manual_seed(3)
    gen = Wav2Lip(W).eval()
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (12, 120, 100, 3), dtype=np.uint8)
    boxes = np.tile([20, 30, 80, 100], (12, 1))
    audio = rng.uniform(-0.3, 0.3, 16000 * 20 // 25).astype(np.float32)
    out = lip_sync(gen, frames, boxes, audio, n_out=20)
    assert out.shape == (20, 120, 100, 3) and out.dtype == np.uint8
    # outside the face box the frames are the (ping-ponged) identity frames
    src = ping_pong(12, 20)
    np.testing.assert_array_equal(out[:, :30], frames[src][:, :30])
    np.testing.assert_array_equal(out[:, :, :20], frames[src][:, :, :20])
    assert not np.array_equal(out[:, 30:100, 20:80], frames[src][:, 30:100, 20:80])
    np.testing.assert_array_equal(out, lip_sync(gen, frames, boxes, audio, n_out=20))
    assert lip_sync(gen, frames, boxes, audio[:100], n_out=0).shape == (0, 120, 100, 3)


class _MelSpy(torch.nn.Module):
    """A stand-in generator that keeps the mel windows it is given and returns grey faces."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))
        self.mels: list[torch.Tensor] = []

    def forward(self, mel, x):
        self.mels.append(mel)
        return torch.full((x.shape[0], 3, 96, 96), 0.5)


def test_lip_sync_pairs_frames_and_audio_as_training_does():
    from reference_models.wav2lip.data import _mel_at

    n = 30
    t = np.arange(int(16000 * n / 25)) / 16000
    wav = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(7 * t))).astype(np.float32)
    video = FaceVideo(np.zeros((n, 96, 96, 3), np.uint8), melspectrogram(wav))
    frames = np.zeros((n, 120, 120, 3), np.uint8)
    boxes = np.tile([10, 10, 106, 106], (n, 1))
    spy = _MelSpy()
    lip_sync(spy, frames, boxes, wav, n_out=n, batch_size=64)
    given = torch.cat(spy.mels)[:, 0].numpy()
    # the generator is trained with frame k paired with the window starting at frame k-1
    # (generator_batch); inference must pair them the same way, or the mouths run a frame early
    for k in range(1, 20):
        np.testing.assert_array_equal(given[k], _mel_at(video, k - 1))
    spy.mels.clear()
    lip_sync(spy, frames, boxes, wav, n_out=n, batch_size=64, audio_offset=0)
    np.testing.assert_array_equal(torch.cat(spy.mels)[5, 0].numpy(), _mel_at(video, 5))


def test_paste_blends_the_lower_half_and_matches_colour():
    from reference_models.wav2lip.faces import paste_face, paste_mask

    m = paste_mask(64, 48)
    assert m[:32].max() <= 0.5 and m[:28].max() == 0.0  # upper half (past the ramp) untouched
    assert m[40:56, 8:40].min() == 1.0  # the mouth region is the generated face
    assert m[-1].max() < 0.2 and m[:, 0].max() < 0.2  # no hard box edge
    frame = np.full((100, 90, 3), 120, np.uint8)
    frame[..., 0] = 180
    box = np.array([20, 10, 68, 74])
    crop = frame[10:74, 20:68].astype(np.int16)
    # a face with the frame's content but a colour shift (+25 green): the shift is taken out
    face = cv2.resize(np.clip(crop + [0, 25, 0], 0, 255).astype(np.uint8), (96, 96))
    out = paste_face(frame, face, box)
    assert np.abs(out.astype(int) - frame).max() <= 1
    # a face whose lower half differs shows it there, fades across the middle, leaves the rest
    face2 = face.copy()
    face2[60:80, 20:76] = 20
    out2 = paste_face(frame, face2, box)
    assert out2[55, 44, 1] < 60  # the dark mouth is pasted
    np.testing.assert_array_equal(out2[:, :20], frame[:, :20])
    np.testing.assert_array_equal(out2[:35], frame[:35])


def test_steady_boxes_keep_one_aspect_ratio_that_holds_the_chin():
    # the bottom edge follows the jaw (heights 40..46 at width 40); the head moves by 3 px
    boxes = np.array([[10, 8, 50, 48], [11, 9, 51, 55], [13, 8, 53, 50], [10, 20, 50, 63]],
                     np.float32)
    from reference_models.wav2lip.faces import steady_boxes

    out = steady_boxes(boxes, 64)
    np.testing.assert_array_equal(out[:, :3], boxes[:, :3])
    ratio = (55 - 9) / 40
    np.testing.assert_allclose(out[:3, 3], boxes[:3, 1] + 40 * ratio)
    assert out[3, 3] == 64  # clipped to the frame
    assert (out[:, 3] >= boxes[:, 3]).all()  # the chin stays inside
    np.testing.assert_array_equal(boxes[1], [11, 9, 51, 55])  # input untouched


def test_lip_sync_with_steady_boxes_ignores_where_the_boxes_end():
    """The jaw's drop moves the box bottom; with steady boxes it does not reach the crops, so
    two box tracks that differ only below their tallest box give the same video."""
    torch.manual_seed(3)
    gen = Wav2Lip(W).eval()
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 255, (10, 120, 100, 3), dtype=np.uint8)
    boxes = np.tile([20, 30, 80, 100], (10, 1)).astype(np.float32)
    jaw = boxes.copy()
    jaw[::2, 3] -= 4  # every other frame's box ends 4 px higher
    audio = rng.uniform(-0.3, 0.3, 16000 * 10 // 25).astype(np.float32)
    np.testing.assert_array_equal(lip_sync(gen, frames, jaw, audio, 10, steady=True),
                                  lip_sync(gen, frames, boxes, audio, 10, steady=True))
    assert not np.array_equal(lip_sync(gen, frames, jaw, audio, 10),
                              lip_sync(gen, frames, boxes, audio, 10))


def test_crop_rejects_empty_box():
    frames = np.zeros((1, 50, 50, 3), np.uint8)
    with pytest.raises(ValueError, match="empty"):
        crop_faces(frames, np.array([[60, 60, 80, 80]]))


# --- the plugin: Wav2Lip as a benchmark method ------------------------------------------------

def _clip(n_frames=12, n_audio_frames=15, clip_id="clip7"):
    from bench.samples import Clip

    rng = np.random.default_rng(4)
    frames = rng.integers(0, 255, (n_frames, 128, 128, 3), dtype=np.uint8)
    audio = rng.uniform(-0.2, 0.2, int(16000 * n_audio_frames / 25)).astype(np.float32)
    return Clip(id=clip_id, frames=frames, face_boxes=np.tile([33, 15, 97, 90], (n_frames, 1)),
                audio=audio, target=frames)


def test_method_generate_contract(tmp_path):
    from bench.protocols import TalkingFaceMethod
    from plugins.wav2lip import Wav2LipMethod

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "g.pt", Wav2Lip(W), "wav2lip", half=True)
    method = Wav2LipMethod(tmp_path / "g.pt")
    assert isinstance(method, TalkingFaceMethod)
    clip = _clip()
    out = method.generate(clip)
    assert out.shape == (clip.n_output_frames, 128, 128, 3) == (15, 128, 128, 3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, Wav2LipMethod(tmp_path / "g.pt").generate(clip))


def test_method_bad_input_and_missing_weights(tmp_path):
    from bench.errors import Unavailable
    from bench.interfaces import SampleError
    from bench.samples import Clip
    from plugins.wav2lip import Wav2LipMethod, official_wav2lip

    save_checkpoint(tmp_path / "g.pt", Wav2Lip(W), "wav2lip")
    method = Wav2LipMethod(tmp_path / "g.pt")
    good = _clip()
    bad = Clip(id="broken", frames=good.frames, face_boxes=good.face_boxes[:4], audio=good.audio)
    with pytest.raises(SampleError, match="'broken'.*face_boxes"):
        method.generate(bad)
    with pytest.raises(Unavailable, match="wav2lip.pth.*bench weights import wav2lip"):
        official_wav2lip(path=str(tmp_path / "absent" / "wav2lip.pth"))
    with pytest.raises(CheckpointError, match="not found"):
        Wav2LipMethod(tmp_path / "nothing.pt")


def test_official_method_loads_official_layout(tmp_path):
    from plugins.wav2lip import official_wav2lip

    path = tmp_path / "wav2lip.pth"
    _official_file(path, "wav2lip")
    method = official_wav2lip(path=str(path))
    assert method.model.width == 1.0
    assert method.audio_offset == 0  # the authors' inference.py pairing, for their numbers


def test_registration_and_embedded_checkpoint():
    from bench.lazy import resolve
    from plugins import wav2lip as plugin

    methods, weights = [], []
    plugin.bench_register_methods(methods.append)
    plugin.bench_register_weights(weights.append)
    by_name = {m.name: m for m in methods}
    assert by_name["wav2lip"].reference and by_name["wav2lip-official"].weights == ("wav2lip",)
    assert {w.name for w in weights} == {"wav2lip", "wav2lip-gan", "lipsync-expert", "wav2lip-embedded"}
    assert all(w.sha256 is None for w in weights)
    # the shipped checkpoint loads and is the small model
    method = resolve(by_name["wav2lip"].factory)(**dict(by_name["wav2lip"].config))
    # the generator (width 1/4) was trained against the shipped expert (width 1/8; MODEL_CARD)
    assert method.model.width == 0.25 and method.audio_offset == -1
    assert load_checkpoint(plugin.CHECKPOINT_DIR / "expert.pt", "syncnet").width == 0.125


def test_clip_to_video_for_training():
    from plugins.wav2lip import clip_to_video

    video = clip_to_video(_clip(n_frames=20, n_audio_frames=20))
    assert video.faces.shape == (20, 96, 96, 3) and video.mel.shape == (80, 1 + 12800 // 200)
    assert len(WindowSampler([video]).videos) == 1
    # steady crops: the box of frame 3 ends 6 px higher (a closed jaw); its crop is then taken
    # with the clip's tallest box like every other frame's
    clip = _clip(n_frames=20, n_audio_frames=20)
    boxes = clip.face_boxes.copy()
    boxes[3, 3] -= 6
    clip = dataclasses.replace(clip, face_boxes=boxes)
    plain, steady = clip_to_video(clip).faces, clip_to_video(clip, steady=True).faces
    assert not np.array_equal(plain[3], steady[3])
    np.testing.assert_array_equal(steady[3], clip_to_video(_clip(20, 20), steady=True).faces[3])


def test_load_videos_skips_bad_samples(capsys):
    from bench.datasets.base import LazySplit
    from bench.interfaces import SampleError
    from plugins.wav2lip import load_videos

    def broken():
        raise SampleError("clip 'bad': frames.npz is truncated")

    split = LazySplit(name="train", ids=["good", "bad"], content_hashes={"good": "1", "bad": "2"},
                      loaders={"good": lambda: _clip(n_frames=20, n_audio_frames=20), "bad": broken})
    videos = load_videos(split, progress=False)
    assert len(videos) == 1 and videos[0].name == "clip7"
    assert "skipping bad" in capsys.readouterr().out


def test_resumed_training_equals_uninterrupted(tmp_path):
    sampler = WindowSampler(_videos())
    cfg = TrainConfig(width=W, steps=4, batch=2, eval_every=2, eval_batches=1, seed=3)
    train_expert(sampler, sampler, tmp_path / "straight", cfg, progress=False)
    cfg.steps = 2
    train_expert(sampler, sampler, tmp_path / "resumed", cfg, progress=False)
    cfg.steps = 4
    train_expert(sampler, sampler, tmp_path / "resumed", cfg, progress=False)
    a = torch.load(tmp_path / "straight" / "expert_last.pt", weights_only=True)["modules"]["model"]
    b = torch.load(tmp_path / "resumed" / "expert_last.pt", weights_only=True)["modules"]["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_training_command_takes_its_videos_from_the_caller(tmp_path, capsys):
    from plugins.wav2lip import train_command as plugin_command
    from reference_models.wav2lip.cli import train_command

    class Loaded(Exception):
        pass

    def load(train_clips):
        raise Loaded(f"asked for {train_clips} train clips")

    with pytest.raises(Loaded, match="asked for 3 train clips"):
        train_command(["--train-clips", "3", "--out", str(tmp_path)], load)

    def load_steady(train_clips, steady=False):
        raise Loaded(f"steady={steady}")

    with pytest.raises(Loaded, match="steady=True"):
        train_command(["--steady-boxes", "--out", str(tmp_path)], load_steady)
    with pytest.raises(SystemExit) as exit_:
        plugin_command(["--help"])
    assert exit_.value.code == 0 and "--expert-steps" in capsys.readouterr().out


class _IndexExpert(torch.nn.Module):
    """Reads the frame index from the pixels and from the mel window; embeds it on a circle."""

    def __init__(self, audio_lag: int = 0):
        super().__init__()
        self.audio_lag = audio_lag

    @staticmethod
    def _embed(t):
        return torch.stack([torch.cos(0.3 * t), torch.sin(0.3 * t)], 1)  # unit length

    def embed_faces(self, faces):
        return self._embed(torch.round(faces[:, 0, 0, 0] * 255))

    def embed_audio(self, mel):
        from reference_models.wav2lip.audio import window_start

        starts = {window_start(t, 25.0): t for t in range(200)}
        frame = torch.tensor([starts[int(s)] for s in mel[:, 0, 0, 0]], dtype=torch.float32)
        return self._embed(frame + self.audio_lag)


def test_offset_recovery_counts_the_synced_window():
    from reference_models.wav2lip.evaluation import offset_recovery

    faces = np.repeat(np.arange(40, dtype=np.uint8)[:, None, None, None], 96, 1)
    faces = np.ascontiguousarray(np.broadcast_to(faces, (40, 96, 96, 3)))
    mel = np.tile(np.arange(200, dtype=np.float32), (80, 1))  # column s holds s
    videos = [FaceVideo(faces, mel, name=f"v{i}") for i in range(2)]
    perfect = offset_recovery(_IndexExpert(), videos, max_shift=3, batch=7)
    assert perfect["window"] == 1.0 and perfect["clip"] == 1.0 and perfect["videos"] == 2
    assert perfect["windows"] == 2 * len(WindowSampler(videos).shift_pool(3)[0][1])
    late = offset_recovery(_IndexExpert(audio_lag=1), videos, max_shift=3)
    assert late["window"] == 0.0 and late["clip"] == 0.0 and late["chance_window"] == 1 / 7


def test_training_command_trains_the_expert_alone_with_gen_steps_0(tmp_path, capsys):
    from reference_models.wav2lip.cli import train_command

    with pytest.raises(SystemExit) as exit_:  # click's standalone mode exits
        train_command(["--out", str(tmp_path), "--width", str(W), "--expert-loss", "offsets",
                       "--max-shift", "2", "--batch", "3", "--expert-steps", "2",
                       "--eval-every", "1", "--eval-batches", "1", "--gen-steps", "0"],
                      lambda n: (list(_videos()), list(_videos()), {"name": "tiny"}))
    assert exit_.value.code == 0
    summary = json.loads((tmp_path / "training.json").read_text())
    assert summary["generator"] is None and summary["expert"]["steps"] == 2
    assert "--expert-loss offsets" in summary["command"]
    assert load_checkpoint(tmp_path / "expert.pt", "syncnet").width == W
    assert not (tmp_path / "wav2lip_log.jsonl").exists()
    rows = [json.loads(x) for x in (tmp_path / "expert_log.jsonl").read_text().splitlines()]
    assert "val_offset_acc" in rows[0]


def test_training_command_reuses_the_expert_in_out_with_expert_steps_0(tmp_path):
    from reference_models.wav2lip.cli import train_command

    def run(out):
        with pytest.raises(SystemExit) as exit_:
            train_command(["--out", str(out), "--width", str(W), "--expert-steps", "0",
                           "--gen-steps", "1", "--gen-batch", "1", "--eval-every", "1",
                           "--eval-batches", "1"],
                          lambda n: (list(_videos()), list(_videos()), {"name": "tiny"}))
        return exit_.value.code

    assert run(tmp_path / "empty") == 2  # a usage error: no expert to reuse
    save_checkpoint(tmp_path / "out" / "expert.pt", SyncNetColor(W), "syncnet")
    before = (tmp_path / "out" / "expert.pt").read_bytes()
    assert run(tmp_path / "out") == 0
    summary = json.loads((tmp_path / "out" / "training.json").read_text())
    assert summary["expert"]["trained"] is False and summary["generator"]["steps"] == 1
    [row] = [json.loads(x) for x in (tmp_path / "out" / "wav2lip_log.jsonl").read_text().splitlines()]
    assert summary["generator"]["cpu_seconds"] >= row["cpu_s"]  # the run's cost, in the summary
    assert (tmp_path / "out" / "expert.pt").read_bytes() == before


def test_training_command_starts_the_generator_audio_from_the_expert(tmp_path):
    from reference_models.wav2lip.cli import train_command

    expert = SyncNetColor(W)
    save_checkpoint(tmp_path / "expert.pt", expert, "syncnet")
    with pytest.raises(SystemExit) as exit_:
        train_command(["--out", str(tmp_path), "--width", str(W), "--expert-steps", "0",
                       "--gen-steps", "1", "--gen-batch", "1", "--eval-every", "1",
                       "--eval-batches", "1", "--lr", "0", "--audio-from-expert",
                       "--w-mouth", "4"],
                      lambda n: (list(_videos()), list(_videos()), {"name": "tiny"}))
    assert exit_.value.code == 0
    obj = torch.load(tmp_path / "wav2lip_last.pt", weights_only=True)
    config = json.loads(obj["config"])
    assert config["audio_from_expert"] is True and config["w_mouth"] == 4.0
    key = "audio_encoder.0.conv_block.0.weight"
    stored = load_checkpoint(tmp_path / "expert.pt", "syncnet").state_dict()[key]
    assert torch.equal(obj["modules"]["gen"][key], stored)
    save_checkpoint(tmp_path / "l1.pt", Wav2Lip(W), "wav2lip")
    with pytest.raises(SystemExit) as exit_:
        train_command(["--out", str(tmp_path / "both"), "--expert-steps", "0",
                       "--audio-from-expert", "--init-generator", str(tmp_path / "l1.pt")],
                      lambda n: (list(_videos()), list(_videos()), {"name": "tiny"}))
    assert exit_.value.code == 2  # a usage error, nothing trained
    assert not (tmp_path / "both").exists()


def test_mouth_weighted_l1_counts_mouth_errors_more():
    from reference_models.g4g.geometry import region_masks
    from reference_models.wav2lip.train import _weighted_l1

    torch.manual_seed(0)
    target = torch.rand(2, 3, 5, 96, 96)
    pred = torch.rand(2, 3, 5, 96, 96)
    assert torch.equal(_weighted_l1(pred, target, 0.0), torch.nn.functional.l1_loss(pred, target))
    mouth = region_masks(96)["mouth"][0, 0] > 0.99
    upper = torch.zeros(96, 96, dtype=torch.bool)
    upper[:20, 30:66] = True  # forehead, far from the mouth
    assert int(mouth.sum()) > int(upper.sum()) / 2
    in_mouth, in_upper = target.clone(), target.clone()
    in_mouth[..., mouth] += 0.5
    in_upper[..., upper] += 0.5
    per_pixel = lambda x, w, n: float(_weighted_l1(x, target, w)) / int(n)
    # plain L1: an error costs the same per pixel anywhere; weighted: 1 + w times more in the mouth
    assert per_pixel(in_mouth, 0.0, mouth.sum()) == pytest.approx(per_pixel(in_upper, 0.0, upper.sum()))
    ratio = per_pixel(in_mouth, 8.0, mouth.sum()) / per_pixel(in_upper, 8.0, upper.sum())
    assert ratio == pytest.approx(9.0, rel=1e-4)


def test_training_command_keeps_generator_snapshots_for_the_next_phase(tmp_path):
    from reference_models.wav2lip.cli import train_command

    save_checkpoint(tmp_path / "expert.pt", SyncNetColor(W), "syncnet")

    def run(*extra):
        with pytest.raises(SystemExit) as exit_:
            train_command(["--out", str(tmp_path), "--width", str(W), "--expert-steps", "0",
                           "--gen-batch", "1", "--eval-every", "3", "--eval-batches", "1",
                           "--lr", "1e-3", *extra],
                          lambda n: (list(_videos()), list(_videos()), {"name": "tiny"}))
        return exit_.value.code

    assert run("--gen-steps", "3", "--snapshot-every", "2") == 0
    assert run("--gen-steps", "4", "--snapshot-every", "2") == 0  # resumed from step 3
    snaps = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert snaps == ["gen_000002.pt", "gen_000004.pt"]
    # the step-4 snapshot is the run's generator at step 4, rounded to float16
    last = torch.load(tmp_path / "wav2lip_last.pt", weights_only=True)["modules"]["gen"]
    snap = load_checkpoint(tmp_path / "snapshots" / "gen_000004.pt", "wav2lip")
    key = "face_encoder_blocks.0.0.conv_block.0.weight"
    assert torch.equal(snap.state_dict()[key], last[key].half().float())
    assert not torch.equal(snap.state_dict()[key],
                           load_checkpoint(tmp_path / "snapshots" / "gen_000002.pt",
                                           "wav2lip").state_dict()[key])
    assert run("--gen-steps", "5", "--snapshot-every", "-1") == 2  # a usage error
