"""Speed of TopCap feature extraction against a straightforward ripser.py pipeline.

Run: ``python -m pytest tests/benchmarks/test_bench_topcap.py --benchmark-only``. Both pipelines
see the same synthetic voiced-like and voiceless-like 16 kHz segments in the same run, and the
features are checked to be identical before timing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import ripser

from reference_models.topcap import TopCapFeatures
from reference_models.topcap.synthetic import make_segments

N_PER_CLASS = 8  # 16 segments per round
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


@pytest.fixture(scope="module")
def segments():
    signals, _ = make_segments(N_PER_CLASS, seed=123)
    return signals


@pytest.fixture(scope="module")
def reference_features(segments):
    return baseline_features(segments)


def test_features_identical(segments, reference_features):
    ours = TopCapFeatures(n_jobs=JOBS).fit_transform(segments)
    assert np.isfinite(reference_features).all(axis=1).sum() >= N_PER_CLASS  # enough kept to time
    np.testing.assert_allclose(ours, reference_features, rtol=1e-6, atol=1e-9, equal_nan=True)


@pytest.mark.benchmark(group="topcap-features")
def test_bench_topcap_features(benchmark, segments, reference_features):
    extractor = TopCapFeatures(n_jobs=JOBS)
    result = benchmark.pedantic(extractor.fit_transform, args=(segments,), rounds=3, iterations=1)
    np.testing.assert_allclose(result, reference_features, rtol=1e-6, atol=1e-9, equal_nan=True)
    benchmark.extra_info["segments"] = len(segments)
    benchmark.extra_info["segments_per_s"] = len(segments) / benchmark.stats.stats.mean


@pytest.mark.benchmark(group="topcap-features")
def test_bench_topcap_features_one_thread(benchmark, segments, reference_features):
    """Same pipeline on one thread: the gain that does not come from the second core."""
    extractor = TopCapFeatures(n_jobs=1)
    result = benchmark.pedantic(extractor.fit_transform, args=(segments,), rounds=3, iterations=1)
    np.testing.assert_allclose(result, reference_features, rtol=1e-6, atol=1e-9, equal_nan=True)
    benchmark.extra_info["segments"] = len(segments)
    benchmark.extra_info["segments_per_s"] = len(segments) / benchmark.stats.stats.mean


@pytest.mark.benchmark(group="topcap-features")
def test_bench_ripser_baseline(benchmark, segments, reference_features):
    result = benchmark.pedantic(baseline_features, args=(segments,), rounds=3, iterations=1)
    np.testing.assert_allclose(result, reference_features, rtol=0, atol=0, equal_nan=True)
    benchmark.extra_info["segments"] = len(segments)
    benchmark.extra_info["segments_per_s"] = len(segments) / benchmark.stats.stats.mean
