"""TopCap's embedding and persistence: the direct giotto-ph call the project uses beside
giotto-tda's scikit-learn transformers, on the same clouds in the same run.

Run: BENCH_BENCHMARKS=1 python -m pytest tests/benchmarks/test_bench_topcap_gtda.py
     --benchmark-only --benchmark-columns=min,mean,rounds

What it shows (and why ``reference_models/topcap`` keeps calling giotto-ph directly):
``VietorisRipsPersistence`` gives the same H1 diagrams, more slowly; ``SingleTakensEmbedding``
aligns its windows to the end of the signal where the authors' scripts start at sample 0, so its
clouds are a shifted subset of the authors' clouds and the features would change.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference_models.topcap import features as F
from reference_models.topcap.synthetic import make_segments

gtda_homology = pytest.importorskip("gtda.homology")
gtda_time_series = pytest.importorskip("gtda.time_series")

N_PER_CLASS = 4  # 8 segments, voiced-like and voiceless-like


@pytest.fixture(scope="module")
def clouds():
    signals, _ = make_segments(N_PER_CLASS, seed=3)
    out = []
    for s in signals:
        s = F.trim(np.asarray(s, dtype=np.float64))
        tau = F.delay(F.pitch_period(s), len(s), F.VARIANTS["v2"]["delay_constant"])
        out.append((s, tau, F.embedding(s, tau)))
    return out


def _direct(clouds):
    return [F.persistence(c) for _, _, c in clouds]


def _gtda(clouds):
    vr = gtda_homology.VietorisRipsPersistence(homology_dimensions=[1], coeff=2,
                                               collapse_edges=False, n_jobs=1)
    return [vr.fit_transform([c])[0] for _, _, c in clouds]


@pytest.mark.benchmark(group="topcap-h1-persistence")
def test_bench_persistence_giotto_ph_direct(benchmark, clouds):
    diagrams = benchmark.pedantic(_direct, args=(clouds,), rounds=5, iterations=1, warmup_rounds=1)
    assert len(diagrams) == len(clouds) and all(d.shape[1] == 2 for d in diagrams)


@pytest.mark.benchmark(group="topcap-h1-persistence")
def test_bench_persistence_gtda_transformer(benchmark, clouds):
    theirs = benchmark.pedantic(_gtda, args=(clouds,), rounds=5, iterations=1, warmup_rounds=1)
    for ours, diagram in zip(_direct(clouds), theirs):
        pairs = diagram[diagram[:, 1] > diagram[:, 0]][:, :2]  # gtda pads with empty points
        order = np.lexsort((ours[:, 1], ours[:, 0]))
        np.testing.assert_array_equal(pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))],
                                      ours[order])


def test_gtda_takens_embedding_is_end_aligned(clouds):
    for s, tau, ours in clouds:
        emb = gtda_time_series.SingleTakensEmbedding(parameters_type="fixed", time_delay=tau,
                                                     dimension=F.EMBED_DIM, stride=F.SKIP)
        theirs = emb.fit_transform(s)
        offset = (len(s) - (F.EMBED_DIM - 1) * tau - 1) % F.SKIP  # where its windows start
        np.testing.assert_array_equal(theirs, F.embedding(s[offset:], tau))
        if offset:
            assert theirs.shape != ours.shape or not np.array_equal(theirs, ours)
    assert any((len(s) - (F.EMBED_DIM - 1) * tau - 1) % F.SKIP for s, tau, _ in clouds)
