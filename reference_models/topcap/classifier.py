"""TopCapClassifier: TopCap features + a tuned scikit-learn learner, fit/predict_proba on segments."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np
from joblib import parallel_config
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from reference_models.topcap.features import (
    REASON_EMPTY_H1,
    REASON_FEW_POINTS,
    REASON_NO_SPAN,
    REASON_TOO_SHORT,
    SAMPLE_RATE,
    VARIANTS,
    SegmentResult,
    TopCapFeatures,
)
from reference_models.topcap.learners import (
    LEARNERS,
    final_params,
    learner_pipeline,
    limit_neighbours,
)

N_FOLDS = 5
STRUCTURAL_DROPS = {REASON_TOO_SHORT, REASON_FEW_POINTS, REASON_EMPTY_H1, REASON_NO_SPAN}


def _waveform(item: Any, index: int) -> Any:
    """The waveform of a segment-like object (``.waveform``/``.sample_rate``) or a raw array."""
    if hasattr(item, "waveform"):
        rate = getattr(item, "sample_rate", SAMPLE_RATE)
        if rate != SAMPLE_RATE:
            name = getattr(item, "id", f"segment {index}")
            raise ValueError(
                f"{name}: sample rate {rate} Hz, TopCap needs {SAMPLE_RATE} Hz; resample it first"
            )
        return item.waveform
    return item


def content_key(signal: Any) -> str:
    """sha256 over dtype, shape and bytes of a waveform: the feature-cache key."""
    arr = np.asarray(signal)
    if arr.dtype == object:  # not hashable by content; never shared
        return f"object:{id(signal)}"
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _precomputed(item: Any) -> bool:
    return hasattr(item, "feature") and not hasattr(item, "waveform")


def _given(item: Any) -> SegmentResult:
    """A precomputed (birth, lifetime) as a feature result; a non-finite one counts as dropped."""
    feature = np.asarray(item.feature, dtype=float).reshape(-1)
    if feature.shape != (2,):
        raise ValueError(f"{getattr(item, 'id', 'item')}: feature must be (birth, lifetime), "
                         f"got shape {feature.shape}")
    if not np.isfinite(feature).all():
        return SegmentResult(np.full(2, np.nan), "no feature in the table")
    return SegmentResult(feature, None, n_points=getattr(item, "n_points", None))


class TopCapClassifier:
    """Voiced/voiceless classifier on TopCap (birth, lifetime) features.

    ``fit`` extracts features, removes rows whose feature is NaN (dropped segments; no imputation)
    and tunes the learner with GridSearchCV over StratifiedKFold(5, shuffle, random_state=seed).
    ``predict_proba`` returns (n, 2) with column 1 = P(voiced); rows of dropped segments are NaN
    and ``last_drop_reasons_`` says why. Features are cached per waveform content (pass the same
    ``feature_cache`` dict to several classifiers to share it).
    """

    def __init__(
        self,
        learner: str = "svm",
        variant: str = "v2",
        seed: int = 0,
        n_jobs: int | None = None,
        feature_cache: MutableMapping[str, SegmentResult] | None = None,
        dropped: str = "abstain",
    ) -> None:
        if learner not in LEARNERS:
            raise ValueError(
                f"unknown TopCap learner {learner!r}; choose from {', '.join(LEARNERS)}"
            )
        if variant not in VARIANTS:
            raise ValueError(f"unknown TopCap variant {variant!r}; choose from {sorted(VARIANTS)}")
        if dropped not in ("abstain", "prior"):
            raise ValueError(f"dropped must be 'abstain' or 'prior', got {dropped!r}")
        self.dropped = dropped
        self.learner = learner
        self.variant = variant
        self.seed = seed
        self.n_jobs = n_jobs
        # May be shared between classifiers that see the same segments; keys include the variant.
        self._cache = feature_cache if feature_cache is not None else {}
        self.search_: GridSearchCV | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {
            "learner": self.learner,
            "variant": self.variant,
            "seed": self.seed,
            "n_jobs": self.n_jobs,
            "dropped": self.dropped,
        }

    def segment_results(self, segments: Sequence[Any]) -> list[SegmentResult]:
        """Per-segment feature results, computing only those not in the cache.

        Items that carry a precomputed ``feature`` (birth, lifetime) and no waveform, such as the
        rows of the authors' released feature tables, are used as they are.
        """
        if segments and all(_precomputed(s) for s in segments):
            return [_given(s) for s in segments]
        signals = [_waveform(s, i) for i, s in enumerate(segments)]
        keys = [f"{self.variant}:{content_key(s)}" for s in signals]
        todo = {k: s for k, s in zip(keys, signals) if k not in self._cache}
        if todo:
            extractor = TopCapFeatures(variant=self.variant, n_jobs=self.n_jobs)
            for key, result in zip(todo, extractor.segment_results(list(todo.values()))):
                self._cache[key] = result
        return [self._cache[k] for k in keys]

    def features(self, segments: Sequence[Any]) -> np.ndarray:
        """(n, 2) features with NaN rows for dropped segments; reasons in ``last_drop_reasons_``."""
        results = self.segment_results(segments)
        self.last_drop_reasons_ = [r.reason for r in results]
        return np.vstack([r.feature for r in results]) if results else np.empty((0, 2))

    def fit(self, segments: Sequence[Any], labels: Any) -> TopCapClassifier:
        """Extract features, drop NaN rows, tune the learner by 5-fold stratified CV and refit."""
        y = np.asarray(labels)
        if y.ndim != 1 or len(y) != len(segments):
            raise ValueError(
                f"labels must be 1-D with one label per segment; got shape {y.shape} "
                f"for {len(segments)} segments"
            )
        if not np.isin(y, (0, 1)).all():
            raise ValueError(
                f"labels must be 0 (voiceless) or 1 (voiced); got {sorted(set(y.tolist()))}"
            )
        X = self.features(segments)
        keep = ~np.isnan(X).any(axis=1)
        # How many training segments were dropped, by reason (the drop rate changes N).
        self.fit_drop_counts_ = dict(Counter(r for r in self.last_drop_reasons_ if r is not None))
        Xk, yk = X[keep], y[keep].astype(int)
        # Being dropped is itself informative (aperiodic segments give tiny clouds): under
        # dropped="prior" such segments get the voiced rate of the dropped training segments.
        n_dropped = int((~keep).sum())
        self.dropped_voiced_rate_ = float(y[~keep].mean()) if n_dropped else 0.5
        counts = np.bincount(yk, minlength=2)
        if counts.min() < 2:
            raise ValueError(
                f"after dropping {int((~keep).sum())} segments without a TopCap feature, the "
                f"training set has {counts[1]} voiced and {counts[0]} voiceless; need at least 2 of each"
            )
        folds = min(N_FOLDS, int(counts.min()))
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.seed)
        pipe, grid = learner_pipeline(self.learner, self.seed)
        grid = limit_neighbours(grid, len(yk) - int(np.ceil(len(yk) / folds)))
        extra = final_params(self.learner)
        self.search_ = GridSearchCV(
            pipe,
            grid,
            cv=cv,
            scoring="accuracy",
            n_jobs=self.n_jobs,
            error_score="raise",
            refit=not extra,
        )
        # Two feature columns: BLAS threads cost far more than they give (10-40x slower fits
        # when the cores are busy). The CV workers get one thread too: joblib would otherwise
        # give each cores // n_jobs BLAS threads, so the scores would depend on the machine.
        with threadpool_limits(limits=1, user_api="blas"), \
                parallel_config(backend="loky", inner_max_num_threads=1):
            self.search_.fit(Xk, yk)
            if extra:
                best = clone(pipe).set_params(**self.search_.best_params_, **extra)
                self.model_ = best.fit(Xk, yk)
            else:
                self.model_ = self.search_.best_estimator_
        self.best_params_ = {
            k: (v if np.isscalar(v) or v is None else repr(v))
            for k, v in self.search_.best_params_.items()
        }
        self.cv_accuracy_ = float(self.search_.best_score_)
        self.n_fit_ = int(keep.sum())
        return self

    def predict_proba(self, segments: Sequence[Any]) -> np.ndarray:
        """(n, 2) probabilities [P(voiceless), P(voiced)]; NaN rows where no feature exists."""
        if self.search_ is None:
            raise RuntimeError("TopCapClassifier is not fitted; call fit(segments, labels) first")
        X = self.features(segments)
        out = np.full((len(X), 2), np.nan)
        keep = ~np.isnan(X).any(axis=1)
        if keep.any():
            with threadpool_limits(limits=1, user_api="blas"):
                out[keep] = self.model_.predict_proba(X[keep])
        if self.dropped == "prior":
            # Only segments the pipeline dropped; invalid input (NaN, empty, 2-D) stays NaN.
            structural = np.array([r in STRUCTURAL_DROPS for r in self.last_drop_reasons_])
            out[~keep & structural] = [1 - self.dropped_voiced_rate_, self.dropped_voiced_rate_]
        return out

    def predict(self, segments: Sequence[Any]) -> np.ndarray:
        """1 = voiced, 0 = voiceless; -1 where the segment has no feature."""
        proba = self.predict_proba(segments)
        labels = np.full(len(proba), -1)
        ok = ~np.isnan(proba).any(axis=1)
        labels[ok] = (proba[ok, 1] > 0.5).astype(int)
        return labels


def build_classifier(**config: Any) -> TopCapClassifier:
    """Factory used by method registrations: ``TopCapClassifier(**config)``."""
    return TopCapClassifier(**config)
