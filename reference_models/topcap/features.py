"""TopCap features: (birth, lifetime) of the most persistent H1 point of a time-delay embedding.

The pipeline follows the authors' feature scripts: autocorrelation pitch period T, delay
tau = round(c * T / M) with M = 100, a delay embedding that starts a window every 5 samples, and
Vietoris-Rips persistence (Z/2, no threshold) in dimension 1 computed by giotto-ph.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gph import ripser_parallel
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits
from tqdm import tqdm

SAMPLE_RATE = 16000
EMBED_DIM = 100  # M, fixed by the authors
SKIP = 5  # a window starts every 5 samples
MIN_SEGMENT = 500  # samples (31.25 ms)
MIN_POINTS = 40  # smaller clouds are dropped
TRIM_LEVEL = 0.03  # v1 trimming threshold on the signed signal

# Per variant: the delay constant c in tau = round(c * T / M), and whether to trim first.
# Bump when a change alters any feature value: persistent feature caches are keyed by it.
FEATURES_VERSION = "1"

VARIANTS: dict[str, dict[str, Any]] = {
    "v1": {"delay_constant": 2 * math.pi, "trim": True},
    "v2": {"delay_constant": 6.0, "trim": False},
}

REASON_TOO_SHORT = f"too short (<{MIN_SEGMENT} samples)"
REASON_FEW_POINTS = f"cloud < {MIN_POINTS} points"
REASON_EMPTY_H1 = "empty H1"
REASON_NOT_FINITE = "not finite input"
REASON_EMPTY = "empty segment"
REASON_NO_SPAN = f"no sample above {TRIM_LEVEL} (nothing left after trimming)"


def pitch_period(signal: np.ndarray) -> int:
    """Pitch period in samples: the lag of the highest local maximum of the normalised autocorrelation.

    For lag k in 0..N//2-1 the correlation is 2*sum(s[i]s[i+k]) / (sum(s[i]^2) + sum(s[i+k]^2)) over
    a window centred on N//2 whose length shrinks with k. Returns 0 when there is no local maximum
    (the authors' convention; the delay clamp then makes tau = 1).
    """
    s = np.asarray(signal, dtype=np.float64)
    half = len(s) // 2
    if half < 3:
        return 0
    lags = np.arange(half)
    # Window [lo, hi) for lag k: the authors' int(t - L), int(t + L + 1) with L = (t - k) / 2.
    lo = (half + lags) // 2
    hi = (3 * half - lags) // 2 + 1
    energy = np.concatenate(([0.0], np.cumsum(s * s)))
    own = energy[hi] - energy[lo]
    shifted = energy[hi + lags] - energy[lo + lags]
    cross = np.array([np.dot(s[a:b], s[a + k : b + k]) for k, a, b in zip(lags, lo, hi)])
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = 2.0 * cross / (own + shifted)
    # Strict local maxima; NaN lags (silent windows) never qualify, as in the authors' code.
    inner = (corr[1:-1] > corr[:-2]) & (corr[1:-1] > corr[2:])
    peaks = np.flatnonzero(inner) + 1
    if peaks.size == 0:
        return 0
    return int(peaks[np.argmax(corr[peaks])])


def delay(period: int, n_samples: int, delay_constant: float, dim: int = EMBED_DIM) -> int:
    """Embedding delay tau = round(c * T / M), at least 1, shrunk so that tau * M fits the segment."""
    tau = round(period * delay_constant / dim)  # Python round: half to even, as the authors'
    if tau == 0:
        tau = 1
    if tau * dim > n_samples:
        tau = max(1, n_samples // dim)
    return int(tau)


def trim(signal: np.ndarray, level: float = TRIM_LEVEL) -> np.ndarray:
    """v1 trimming: keep the span between the first and last sample with ``signal > level`` (signed)."""
    above = np.flatnonzero(signal > level)
    if above.size == 0:
        return signal[:0]
    return signal[above[0] : above[-1] + 1]


def embedding(signal: np.ndarray, tau: int, dim: int = EMBED_DIM, skip: int = SKIP) -> np.ndarray:
    """Time-delay point cloud: row i is (s[skip*i], s[skip*i + tau], ..., s[skip*i + (dim-1)*tau])."""
    s = np.asarray(signal, dtype=np.float64)
    end = len(s) - (dim - 1) * tau  # number of admissible start positions
    if end <= 0:
        return np.empty((0, dim))
    starts = np.arange(0, end, skip)
    return s[starts[:, None] + tau * np.arange(dim)[None, :]]


def persistence(cloud: np.ndarray, n_threads: int = 1) -> np.ndarray:
    """H1 diagram (birth, death) of the Euclidean Vietoris-Rips filtration, Z/2, no threshold."""
    # Edge collapse gives the same diagram but was several times slower on these dense clouds.
    result = ripser_parallel(cloud, maxdim=1, coeff=2, n_threads=n_threads, collapse_edges=False)
    return np.asarray(result["dgms"][1], dtype=np.float64)


def most_persistent(diagram: np.ndarray) -> np.ndarray | None:
    """(birth, lifetime) of the point with the largest death - birth; None for an empty diagram."""
    if len(diagram) == 0:
        return None
    lifetimes = diagram[:, 1] - diagram[:, 0]
    best = int(np.argmax(lifetimes))
    return np.array([diagram[best, 0], lifetimes[best]])


@dataclass(frozen=True)
class SegmentResult:
    """Feature of one segment, or why it was dropped, plus the quantities that led there."""

    feature: np.ndarray  # (birth, lifetime); NaN when dropped
    reason: str | None
    period: int | None = None
    tau: int | None = None
    n_points: int | None = None


def _dropped(reason: str, **info: Any) -> SegmentResult:
    return SegmentResult(np.full(2, np.nan), reason, **info)


def check_signal(signal: Any) -> str | None:
    """Why ``signal`` is not a usable 1-D float waveform, or None when it is."""
    arr = np.asarray(signal)
    if arr.dtype == object:
        return f"not a numeric array (dtype object, shape {arr.shape})"
    if not np.issubdtype(arr.dtype, np.floating):
        return f"not float (dtype {arr.dtype}); pass float samples in [-1, 1]"
    if arr.ndim != 1:
        return f"not 1-D (shape {arr.shape}); pass one mono channel"
    if arr.size == 0:
        return REASON_EMPTY
    if not np.all(np.isfinite(arr)):
        return REASON_NOT_FINITE
    return None


def segment_feature(signal: Any, variant: str = "v2", n_threads: int = 1) -> SegmentResult:
    """Run the whole pipeline on one 16 kHz segment."""
    cfg = VARIANTS[variant]
    problem = check_signal(signal)
    if problem is not None:
        return _dropped(problem)
    s = np.asarray(signal, dtype=np.float64)
    if cfg["trim"]:
        s = trim(s)
        if s.size == 0:
            return _dropped(REASON_NO_SPAN)
        # The authors test tail - head < 500, i.e. fewer than 501 samples kept.
        if len(s) - 1 < MIN_SEGMENT:
            return _dropped(REASON_TOO_SHORT)
    elif len(s) < MIN_SEGMENT:
        return _dropped(REASON_TOO_SHORT)
    period = pitch_period(s)
    tau = delay(period, len(s), cfg["delay_constant"])
    cloud = embedding(s, tau)
    info = {"period": period, "tau": tau, "n_points": len(cloud)}
    if len(cloud) < MIN_POINTS:
        return _dropped(REASON_FEW_POINTS, **info)
    point = most_persistent(persistence(cloud, n_threads=n_threads))
    if point is None:
        return _dropped(REASON_EMPTY_H1, **info)
    if not np.all(np.isfinite(point)):
        return _dropped("infinite H1 point", **info)
    return SegmentResult(point, None, **info)


def _as_signal_list(X: Any) -> list[Any]:
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 1:
        raise ValueError(
            "TopCapFeatures expects a list of 1-D waveforms, got one 1-D array; wrap it in a list"
        )
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise ValueError(f"TopCapFeatures expects a list of 1-D waveforms, got {type(X).__name__}")
    out = list(X)
    for i, item in enumerate(out):
        if isinstance(item, (str, bytes)) or item is None or np.isscalar(item):
            raise ValueError(f"segment {i}: expected a 1-D float array, got {type(item).__name__}")
    return out


class TopCapFeatures(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: list of 16 kHz waveforms -> (n, 2) array of (birth, lifetime).

    A dropped segment gives a NaN row; ``drop_reasons_`` (set by ``transform``) holds, per row,
    None or the reason, and ``details_`` the period, delay and cloud size. ``n_jobs`` segments
    are processed at once in worker processes, longest first; ``n_threads`` is giotto-ph's own
    parallelism inside one diagram.
    """

    def __init__(
        self,
        variant: str = "v2",
        sample_rate: int = SAMPLE_RATE,
        n_jobs: int | None = None,
        n_threads: int = 1,
    ) -> None:
        self.variant = variant
        self.sample_rate = sample_rate
        self.n_jobs = n_jobs
        self.n_threads = n_threads

    def _check_params(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(
                f"unknown TopCap variant {self.variant!r}; choose from {sorted(VARIANTS)}"
            )
        if self.sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"TopCap needs {SAMPLE_RATE} Hz audio, got sample_rate={self.sample_rate}; "
                "resample the segments before extracting features"
            )

    def fit(self, X: Sequence[Any], y: Any = None) -> TopCapFeatures:
        """Nothing is learnt; checks the parameters."""
        self._check_params()
        return self

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        """Features of each segment, NaN rows for dropped ones (reasons in ``drop_reasons_``)."""
        self._check_params()
        signals = _as_signal_list(X)
        results = self.segment_results(signals)
        self.drop_reasons_ = [r.reason for r in results]
        self.details_ = [
            {"period": r.period, "tau": r.tau, "n_points": r.n_points} for r in results
        ]
        if not results:
            return np.empty((0, 2))
        return np.vstack([r.feature for r in results])

    def segment_results(self, signals: Sequence[Any]) -> list[SegmentResult]:
        """Full per-segment results, in order."""
        jobs = _workers(self.n_jobs)
        # A bar on terminals only (disable=None): feature extraction is the slow part of a fit.
        with tqdm(total=len(signals), desc=f"TopCap {self.variant} features", leave=False,
                  disable=None) as bar:
            if jobs == 1 or len(signals) < 2:
                out = []
                for s in signals:
                    out.append(_one_segment(s, self.variant, self.n_threads))
                    bar.update()
                return out
            # giotto-ph holds the GIL while it computes a diagram, so threads run one at a time:
            # segments go to worker processes, longest (largest cloud) first, one at a time each,
            # so that no worker is left with a big diagram at the end while the others idle.
            order = sorted(range(len(signals)), key=lambda i: -_length(signals[i]))
            done = Parallel(n_jobs=jobs, backend="loky", batch_size=1, pre_dispatch="all",
                            return_as="generator")(
                delayed(_one_segment)(signals[i], self.variant, self.n_threads) for i in order
            )
            by_index = {}
            for i, result in zip(order, done):
                by_index[i] = result
                bar.update()
        return [by_index[i] for i in range(len(signals))]


def _one_segment(signal: Any, variant: str, n_threads: int) -> SegmentResult:
    """``segment_feature`` with one BLAS thread: the matrices are small (a few hundred points) and
    BLAS threads only oversubscribe the cores that the segment-level workers already use."""
    with threadpool_limits(limits=1, user_api="blas"):
        return segment_feature(signal, variant, n_threads)


def _workers(n_jobs: int | None) -> int:
    """Worker count from joblib-style ``n_jobs``: None is 1, -1 all cores, -2 all but one."""
    if n_jobs is None:
        return 1
    if n_jobs == 0:
        raise ValueError("n_jobs=0 is not a number of workers; use 1, a positive count or -1")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return int(n_jobs)


def _length(signal: Any) -> int:
    """Samples in a segment, 0 for anything without a length (it is dropped anyway)."""
    try:
        return len(signal)
    except TypeError:
        return 0
