"""Speed of TopCap feature extraction against a straightforward ripser.py pipeline.

Run: ``python -m pytest tests/benchmarks/test_bench_topcap.py --benchmark-only``. Both pipelines
see the same segments in the same run (64 test segments of the embedded corpus, and 16
synthetic voiced-like and voiceless-like ones), and the features are checked to be identical.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import ripser

from reference_models.topcap import TopCapFeatures
from reference_models.topcap.synthetic import make_segments

N_PER_CLASS = 8  # 16 synthetic segments per round
N_CORPUS = 64  # corpus segments per round
JOBS = 2  # the target machine has 2 cores


# ---- the baseline: the pipeline written plainly, one segment at a time, with ripser.py ----


def baseline_period(sig: np.ndarray) -> int:
    """Autocorrelation period, lag by lag, with the window sums written out."""
    t = int(len(sig) / 2)
    corr = np.zeros(t)
    for k in range(t):
        half_width = (t - k) / 2
        a, b = int(t - half_width), int(t + half_width + 1)
        x = sig[a:b]
        y = sig[k:][a:b]
        corr[k] = 2 * np.sum(x * y) / (np.sum(x**2) + np.sum(y**2))
    best, best_value = 0, -np.inf
    for k in range(1, t - 1):
        if corr[k] > corr[k - 1] and corr[k] > corr[k + 1] and corr[k] > best_value:
            best, best_value = k, corr[k]
    return best


def baseline_feature(sig: np.ndarray, variant: str = "v2") -> np.ndarray:
    """(birth, lifetime) of the most persistent H1 point, or NaNs when the segment is dropped."""
    nan = np.array([np.nan, np.nan])
    if variant == "v1":
        above = [i for i in range(len(sig)) if sig[i] > 0.03]
        if not above or above[-1] - above[0] < 500:
            return nan
        sig = sig[above[0] : above[-1] + 1]
        c = 2 * math.pi
    else:
        if len(sig) < 500:
            return nan
        c = 6
    M = 100
    tau = round(baseline_period(sig) * c / M)
    if tau == 0:
        tau = 1
    if tau * M > len(sig):
        tau = max(1, len(sig) // M)
    cloud = np.array([sig[i : i + tau * M : tau] for i in range(0, len(sig) - tau * (M - 1), 5)])
    if len(cloud) < 40:
        return nan
    dgm = ripser.ripser(cloud, maxdim=1)["dgms"][1]
    if len(dgm) == 0:
        return nan
    lifetimes = dgm[:, 1] - dgm[:, 0]
    i = int(np.argmax(lifetimes))
    return np.array([dgm[i, 0], lifetimes[i]])


def baseline_features(signals, variant: str = "v2") -> np.ndarray:
    """The baseline over a list of segments."""
    return np.vstack([baseline_feature(np.asarray(s, dtype=float), variant) for s in signals])


# ---- benchmarks ----
# Two segment sets, each its own group: real segments of the shipped corpus (what the main job
# computes) and the synthetic voiced/voiceless set, whose regular pulse trains make some clouds
# much slower for Ripser than speech does.


def corpus_segments() -> list[np.ndarray]:
    """A seeded sample of the embedded corpus's speaker-disjoint test segments."""
    from bench.datasets.consonants.embedded import load_embedded_consonants

    ds = load_embedded_consonants()
    ids = ds.ids("test")
    pick = np.random.default_rng(0).choice(len(ids), N_CORPUS, replace=False)
    return [ds.segment(ids[i]).waveform.astype(np.float64) for i in sorted(pick)]


@pytest.fixture(scope="module", params=["corpus", "synthetic"])
def segment_set(request):
    if request.param == "corpus":
        signals = corpus_segments()
    else:
        signals, _ = make_segments(N_PER_CLASS, seed=123)
    return request.param, signals, baseline_features(signals)


def test_features_identical(segment_set):
    _, segments, reference = segment_set
    ours = TopCapFeatures(n_jobs=JOBS).fit_transform(segments)
    assert np.isfinite(reference).all(axis=1).sum() >= N_PER_CLASS  # enough kept to time
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-9, equal_nan=True)


def _time(benchmark, name, run, segments, reference, **tol):
    benchmark.group = f"topcap-features-{name}"
    # One warm-up round each: the worker processes start once per session, not per call.
    result = benchmark.pedantic(run, args=(segments,), rounds=3, iterations=1, warmup_rounds=1)
    np.testing.assert_allclose(result, reference, equal_nan=True, **tol)
    benchmark.extra_info["segments"] = len(segments)
    benchmark.extra_info["segments_per_s"] = len(segments) / benchmark.stats.stats.mean


def test_bench_topcap_features(benchmark, segment_set):
    name, segments, reference = segment_set
    _time(benchmark, name, TopCapFeatures(n_jobs=JOBS).fit_transform, segments, reference,
          rtol=1e-6, atol=1e-9)


def test_bench_topcap_features_one_thread(benchmark, segment_set):
    """Same pipeline on one thread: the gain that does not come from the second core."""
    name, segments, reference = segment_set
    _time(benchmark, name, TopCapFeatures(n_jobs=1).fit_transform, segments, reference,
          rtol=1e-6, atol=1e-9)


def test_bench_ripser_baseline(benchmark, segment_set):
    name, segments, reference = segment_set
    _time(benchmark, name, baseline_features, segments, reference, rtol=0, atol=0)
