"""Consonant-voicing baselines: learning, probabilities, determinism, bad input, feature parity."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import ripser
import torch

from reference_models.speech_baselines import MfccGru, MfccSvm, MfccTransformer, StftCnn, TopGru
from reference_models.speech_baselines.features import mfcc_frames, mfcc_statistics
from reference_models.speech_baselines.stft_cnn import stft_image
from reference_models.speech_baselines.synthetic import toy_segments
from reference_models.speech_baselines.topgru import (
    circular_embedding,
    delay_for,
    fft_period,
    lifetime,
)

SR = 16000


TRAIN = toy_segments(120, seed=1)
TEST = toy_segments(60, seed=2)

# Small data needs more steps than the published schedules give; the architectures are unchanged.
FAST = {
    "mfcc-svm": lambda seed: MfccSvm(seed=seed),
    "mfcc-gru": lambda seed: MfccGru(seed=seed, lr=1e-2, epochs=15, batch_size=32),
    "mfcc-transformer": lambda seed: MfccTransformer(seed=seed, lr=3e-3, epochs=15, batch_size=32),
    "stft-cnn-8": lambda seed: StftCnn(8, seed=seed, epochs=10, batch_size=32),
    "stft-cnn-16": lambda seed: StftCnn(16, seed=seed, epochs=6, batch_size=32),
    "topgru": lambda seed: TopGru(seed=seed, n_points=60, lr=1e-2, epochs=15, batch_size=32),
}


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    torch.manual_seed(123)  # the models must not depend on the global seed; see determinism test
    return {name: make(0).fit(*TRAIN) for name, make in FAST.items()}


@pytest.mark.parametrize("name", list(FAST))
def test_beats_chance_with_valid_probabilities(fitted: dict, name: str) -> None:
    proba = fitted[name].predict_proba(TEST[0])
    assert proba.shape == (len(TEST[0]), 2)
    assert np.isfinite(proba).all()
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    accuracy = np.mean((proba[:, 1] > 0.5) == TEST[1])
    assert accuracy >= 0.85, f"{name}: accuracy {accuracy:.3f}"


def short_fit(name: str, seed: int) -> np.ndarray:
    """Fit on 40 segments for 3 epochs (cheap) and predict the test set."""
    model = FAST[name](seed)
    if hasattr(model, "epochs"):
        model.epochs = 3
    return model.fit(TRAIN[0][:40], TRAIN[1][:40]).predict_proba(TEST[0])


@pytest.mark.parametrize("name", list(FAST))
def test_same_seed_same_outputs(name: str) -> None:
    first = short_fit(name, 0)
    torch.manual_seed(999)  # global state must not leak into a seeded fit
    np.random.seed(999)
    state = torch.get_rng_state()
    np.testing.assert_array_equal(short_fit(name, 0), first)
    assert torch.equal(torch.get_rng_state(), state)  # nor may the fit change it


TORCH_MODELS = ["mfcc-gru", "mfcc-transformer", "stft-cnn-8", "stft-cnn-16", "topgru"]


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_same_predictions_with_one_and_two_threads(name: str) -> None:
    """The caller's intra-op thread count must not reach the numbers (a machine with more cores
    would otherwise train another network)."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = short_fit(name, 0)
        torch.set_num_threads(2)
        two = short_fit(name, 0)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("name", ["mfcc-gru", "mfcc-transformer", "stft-cnn-8", "topgru"])
def test_other_seed_other_network(name: str) -> None:
    assert not np.array_equal(short_fit(name, 1), short_fit(name, 0))


@pytest.mark.parametrize("name", list(FAST))
def test_bad_segments_give_nan_rows(fitted: dict, name: str) -> None:
    nan_wave = TEST[0][0].copy()
    nan_wave[10] = np.nan
    tiny = np.array([0.1, -0.2, 0.05], np.float32)  # valid, just very short
    batch = [np.zeros(0, np.float32), nan_wave, TEST[0][1], np.full(900, np.inf, np.float32), tiny]
    proba = fitted[name].predict_proba(batch)
    assert proba.shape == (5, 2)
    assert np.isnan(proba[[0, 1, 3]]).all()
    assert np.isfinite(proba[[2, 4]]).all()
    # a segment's probability does not depend on the others in the call
    np.testing.assert_array_equal(proba[2], fitted[name].predict_proba([TEST[0][1]])[0])


def test_segment_objects_are_accepted(fitted: dict) -> None:
    segs = [SimpleNamespace(id=f"s{i}", waveform=w, sample_rate=SR) for i, w in enumerate(TEST[0])]
    np.testing.assert_array_equal(
        fitted["mfcc-gru"].predict_proba(segs), fitted["mfcc-gru"].predict_proba(TEST[0])
    )


def test_fit_rejects_bad_training_data() -> None:
    waves, labels = list(TRAIN[0][:20]), TRAIN[1][:20]
    broken = waves.copy()
    broken[3] = np.array([0.1, np.nan], np.float32)
    segs = [SimpleNamespace(id=f"utt{i}", waveform=w, sample_rate=SR) for i, w in enumerate(broken)]
    with pytest.raises(ValueError, match="'utt3'.*NaN"):
        MfccGru(epochs=1).fit(segs, labels)
    with pytest.raises(ValueError, match="both classes"):
        MfccSvm().fit(waves, np.ones(20))
    with pytest.raises(ValueError, match="labels must be 0"):
        MfccSvm().fit(waves, np.full(20, 2))
    with pytest.raises(ValueError, match="20 segments but 19 labels"):
        StftCnn(8, epochs=1).fit(waves, labels[:19])
    resampled = [SimpleNamespace(id="x8k", waveform=w, sample_rate=8000) for w in waves]
    with pytest.raises(ValueError, match="'x8k'.*8000"):
        MfccSvm().fit(resampled, labels)
    with pytest.raises(ValueError, match="1-D"):
        StftCnn(8).fit([np.zeros((2, 800), np.float32)] * 2, [0, 1])
    with pytest.raises(RuntimeError, match="before fit"):
        TopGru().predict_proba(waves)
    with pytest.raises(ValueError, match="8 or 16"):
        StftCnn(12)


@pytest.mark.filterwarnings("ignore:Empty filters detected")  # inherent in the authors' call
def test_mfcc_follows_the_authors_librosa_call() -> None:
    import librosa

    w = TEST[0][0]
    ref = librosa.feature.mfcc(y=w, sr=SR, n_mfcc=40, n_fft=256).T  # their call, hop 512
    np.testing.assert_allclose(mfcc_frames(w), ref, rtol=1e-5, atol=1e-4)
    assert mfcc_statistics(w).shape == (80,)
    assert np.isfinite(mfcc_statistics(np.ones(50, np.float32))).all()


def test_stft_image_matches_numpy_and_opencv_reference() -> None:
    """TF's stft(255, 128) on 16000 samples, then half-pixel bilinear resize (TF = OpenCV linear)."""
    w = TEST[0][2]
    padded = np.zeros(16000)
    padded[: len(w)] = w
    n = np.arange(255)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / 255)  # periodic Hann
    frames = np.stack([padded[s : s + 255] * window for s in range(0, 16000 - 255 + 1, 128)])
    spec = np.abs(np.fft.rfft(frames, n=256, axis=1)).astype(np.float32)  # (124, 129)
    assert spec.shape == (124, 129)
    for size in (8, 16):
        ref = cv2.resize(spec, (size, size), interpolation=cv2.INTER_LINEAR)
        got = stft_image([w], size)[0, 0].numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    long = np.tile(w, 20)  # longer than 16000 samples: cut, as TF's output_sequence_length does
    np.testing.assert_allclose(stft_image([long], 8), stft_image([long[:16000]], 8))


def test_topgru_delay_and_embedding() -> None:
    t = np.arange(1600)
    sine = np.sin(2 * np.pi * t / 80)  # period 80 samples
    assert fft_period(sine) == pytest.approx(80.0)
    assert delay_for(sine) == round(80 * 6 / 100)  # 5
    assert delay_for(sine[:300]) == 3  # tau*M > N shrinks tau to floor(N/M)
    pts = circular_embedding(sine, tau=5)
    assert pts.shape == (200, 100)
    starts = np.linspace(0, 1599, 200, dtype=int)
    assert pts[7, 13] == sine[(starts[7] + 13 * 5) % 1600]
    assert circular_embedding(sine[:150], tau=1).shape == (150, 100)


@pytest.mark.filterwarnings("ignore:The input point cloud has more columns than rows")
def test_topgru_lifetime_matches_ripser_and_separates_classes() -> None:
    from reference_models.speech_baselines.features import peak_normalise

    for w in (TEST[0][0], TEST[0][1]):
        s = peak_normalise(w.astype(np.float64))
        dgm = ripser.ripser(circular_embedding(s, delay_for(s), n_points=80), maxdim=1)["dgms"][1]
        assert lifetime(w, n_points=80) == pytest.approx(float((dgm[:, 1] - dgm[:, 0]).max()), rel=1e-5)
    voiced = [lifetime(w, n_points=60) for w, y in zip(TEST[0][:16], TEST[1][:16]) if y == 1]
    voiceless = [lifetime(w, n_points=60) for w, y in zip(TEST[0][:16], TEST[1][:16]) if y == 0]
    assert min(voiced) > max(voiceless)
    assert lifetime(np.ones(50, np.float32)) == 0.0  # shorter than the embedding dimension


def registered(plugin_module: object, hook: str) -> list:
    """Specs a plugin module registers through the bench hooks."""
    import pluggy

    from bench import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin_module)
    specs: list = []
    getattr(pm.hook, hook)(register=specs.append)
    return specs


def test_plugin_registers_the_six_baselines() -> None:
    import plugins.speech_baselines as plugin
    from bench.lazy import resolve
    from bench.specs import MethodSpec

    specs = registered(plugin, "bench_register_methods")
    assert [s.name for s in specs] == [
        "mfcc-svm", "mfcc-gru", "mfcc-transformer", "stft-cnn-8", "stft-cnn-16", "topgru"
    ]
    for spec in specs:
        assert isinstance(spec, MethodSpec) and spec.task == "consonant-voicing"
        assert spec.version and spec.description
        # the harness passes the run seed; one thread and pinned kernels while it trains
        assert "seed" not in spec.config and spec.threads == 1 and spec.pin_kernels
        model = resolve(spec.factory)(**spec.config, seed=0)  # every config key is an argument
        assert callable(model.fit) and callable(model.predict_proba)
    by_name = {s.name: resolve(s.factory)(**s.config) for s in specs}
    assert by_name["stft-cnn-16"].size == 16 and by_name["topgru"].hidden == 6
    assert (by_name["mfcc-gru"].lr, by_name["mfcc-gru"].epochs, by_name["mfcc-gru"].batch_size) == (1e-4, 20, 64)


@pytest.mark.slow  # starts worker processes
def test_topgru_parallel_lifetimes_equal_serial() -> None:
    waves = TRAIN[0][:64]
    serial = TopGru(n_points=20).lifetimes(waves)
    assert TopGru(n_points=20, n_jobs=2).lifetimes(waves) == serial
    assert serial == [lifetime(w, n_points=20) for w in waves]


def test_bench_validator_accepts_every_baseline() -> None:
    import plugins.speech_baselines as plugin
    from bench.protocols import ConsonantVoicingMethod
    from bench.devtools.validate import validate_method

    for spec in plugin.METHODS:
        failed = [c for c in validate_method(spec, ConsonantVoicingMethod) if not c.ok]
        assert failed == [], f"{spec.name}: {failed}"
