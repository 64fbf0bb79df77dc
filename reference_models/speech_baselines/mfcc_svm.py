"""MFCC statistics + RBF support-vector machine, tuned by cross-validation on the training set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from reference_models.speech_baselines.features import (
    mfcc_statistics,
    training_waveforms,
    waveforms,
)


class MfccSvm:
    """StandardScaler + SVC(rbf, probability=True) on MFCC mean/std and delta mean/std."""

    def __init__(
        self,
        seed: int = 0,
        n_mfcc: int = 20,
        n_fft: int = 256,
        hop_length: int = 128,
        n_mels: int = 40,
        c_grid: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
        gamma_grid: Sequence[Any] = ("scale", 0.003, 0.03),
        cv_folds: int = 5,
    ) -> None:
        self.seed = seed
        self.feature_options = {
            "n_mfcc": n_mfcc, "n_fft": n_fft, "hop_length": hop_length, "n_mels": n_mels
        }
        self.c_grid = tuple(c_grid)
        self.gamma_grid = tuple(gamma_grid)
        self.cv_folds = cv_folds
        self.model_: Any = None
        self.best_params_: dict[str, Any] = {}

    def _features(self, waves: list[np.ndarray]) -> np.ndarray:
        return np.stack([mfcc_statistics(w, **self.feature_options) for w in waves])

    def fit(self, segments: Sequence[Any], labels: Any) -> MfccSvm:
        """Pick C and gamma by stratified k-fold CV (accuracy), then refit on all of train."""
        waves, y = training_waveforms(segments, labels)
        x = self._features(waves)
        folds = min(self.cv_folds, int(np.bincount(y).min()))
        if folds < 2:
            raise ValueError("MfccSvm needs at least 2 segments of each class for cross-validation")
        # Tune without Platt scaling (accuracy needs none; it costs an inner 5-fold CV per fit),
        # then refit the chosen C and gamma once with probability=True.
        search = GridSearchCV(
            make_pipeline(StandardScaler(), SVC(kernel="rbf")),
            {"svc__C": list(self.c_grid), "svc__gamma": list(self.gamma_grid)},
            cv=StratifiedKFold(folds, shuffle=True, random_state=self.seed),
            scoring="accuracy",
            n_jobs=1,
            refit=False,
        )
        search.fit(x, y)
        self.best_params_ = dict(search.best_params_)
        self.model_ = make_pipeline(
            StandardScaler(),
            SVC(
                kernel="rbf", C=self.best_params_["svc__C"], gamma=self.best_params_["svc__gamma"],
                probability=True, random_state=self.seed,
            ),
        ).fit(x, y)
        return self

    def predict_proba(self, segments: Sequence[Any]) -> np.ndarray:
        """(n, 2) probabilities, column 1 = P(voiced); NaN rows for empty or non-finite segments."""
        if self.model_ is None:
            raise RuntimeError("MfccSvm.predict_proba called before fit")
        waves, ok = waveforms(segments)
        out = np.full((len(waves), 2), np.nan)
        if ok.any():
            x = self._features([w for w, good in zip(waves, ok) if good])
            out[ok] = self.model_.predict_proba(x)
        return out
