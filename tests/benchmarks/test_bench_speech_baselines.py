"""Training cost of the speech baselines, and TopGRU's lifetime feature against the authors' ripser.

Run: ``python -m pytest tests/benchmarks/test_bench_speech_baselines.py --benchmark-only``
(``BENCH_BASELINE_SEGMENTS`` sets the training-set size, default 2400).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import ripser

from reference_models.speech_baselines import MfccGru, MfccSvm, MfccTransformer, StftCnn, TopGru
from reference_models.speech_baselines.features import peak_normalise
from reference_models.speech_baselines.synthetic import toy_segments
from reference_models.speech_baselines.topgru import circular_embedding, delay_for, lifetime

N_TRAIN = int(os.environ.get("BENCH_BASELINE_SEGMENTS", "2400"))
MODELS = {
    "mfcc-svm": MfccSvm,
    "mfcc-gru": MfccGru,
    "mfcc-transformer": MfccTransformer,
    "stft-cnn-8": lambda: StftCnn(8),
    "stft-cnn-16": lambda: StftCnn(16),
    "topgru": TopGru,
}
LIFETIME_SEGMENTS = toy_segments(20, seed=5)[0]


def fit_and_score_embedded(name: str) -> dict[str, float]:
    """Fit a published configuration on the embedded corpus's train split and score its test split."""
    import time

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

    import plugins.speech_baselines as plugin
    from bench.datasets.consonants.embedded import load_embedded_consonants
    from bench.lazy import resolve

    spec = next(s for s in plugin.METHODS if s.name == name)
    data = load_embedded_consonants()
    train, test = data.split("train"), data.split("test")
    train_segs = [train.get(i) for i in train.ids]
    test_segs = [test.get(i) for i in test.ids]
    model = resolve(spec.factory)(**spec.config)
    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(train_segs, np.array([s.label for s in train_segs]))
    fit_cpu, fit_wall = time.process_time() - cpu, time.perf_counter() - wall
    p = model.predict_proba(test_segs)[:, 1]
    y = np.array([s.label for s in test_segs])
    return {
        "n_train": len(train_segs), "n_test": len(test_segs),
        "fit_cpu_s": round(fit_cpu, 1), "fit_wall_s": round(fit_wall, 1),
        "accuracy": float(accuracy_score(y, p > 0.5)),
        "balanced_accuracy": float(balanced_accuracy_score(y, p > 0.5)),
        "roc_auc": float(roc_auc_score(y, p)),
    }


@pytest.mark.parametrize("name", list(MODELS))
def test_bench_embedded_corpus(benchmark, name: str) -> None:
    """Published configuration, train -> test of the embedded synthetic-speech consonants."""
    scores = benchmark.pedantic(lambda: fit_and_score_embedded(name), rounds=1, iterations=1)
    benchmark.extra_info.update(scores)
    assert scores["accuracy"] > 0.5


@pytest.mark.parametrize("name", list(MODELS))
def test_bench_fit_published_config(benchmark, name: str) -> None:
    """One fit with the published hyper-parameters on N_TRAIN synthetic segments."""
    waves, labels = toy_segments(N_TRAIN, seed=1, max_length=3200)
    test_waves, test_labels = toy_segments(400, seed=2, max_length=3200)
    model = benchmark.pedantic(lambda: MODELS[name]().fit(waves, labels), rounds=1, iterations=1)
    accuracy = float(np.mean((model.predict_proba(test_waves)[:, 1] > 0.5) == test_labels))
    benchmark.extra_info.update(segments=N_TRAIN, held_out_accuracy=accuracy)
    assert accuracy > 0.8


def test_bench_lifetime_giotto_ph(benchmark) -> None:
    """Our lifetime (giotto-ph ripser_parallel, one thread) for 20 segments."""
    values = benchmark(lambda: [lifetime(w) for w in LIFETIME_SEGMENTS])
    assert len(values) == 20


def test_bench_lifetime_ripser_reference(benchmark) -> None:
    """The same lifetimes through ripser.py, the library of the authors' TopGRU code."""

    def run() -> list[float]:
        out = []
        for w in LIFETIME_SEGMENTS:
            s = peak_normalise(w.astype(np.float64))
            dgm = ripser.ripser(circular_embedding(s, delay_for(s)), maxdim=1)["dgms"][1]
            out.append(float((dgm[:, 1] - dgm[:, 0]).max()) if len(dgm) else 0.0)
        return out

    reference = benchmark(run)
    np.testing.assert_allclose([lifetime(w) for w in LIFETIME_SEGMENTS], reference, rtol=1e-5)
