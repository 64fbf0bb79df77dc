"""Acoustic sanity checks of the phone alignments.

If alignments are right, fricatives such as S have a high zero-crossing rate and voiced phones
(vowels, nasals) are periodic; a shifted or scrambled alignment blurs both contrasts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from bench.datasets.speech.corpus import SpeechCorpus

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
NASALS = ("M", "N", "NG")
SIBILANTS = ("S", "SH", "Z", "ZH", "CH")


def zero_crossing_rate(x: np.ndarray) -> float:
    """Fraction of neighbouring samples whose sign differs."""
    if len(x) < 2:
        return float("nan")
    s = np.signbit(x)
    return float(np.mean(s[1:] != s[:-1]))


def periodicity(x: np.ndarray, sample_rate: int, fmin: float = 60.0, fmax: float = 400.0) -> float:
    """Peak of the normalised autocorrelation over pitch lags (1 = perfectly periodic)."""
    x = x - x.mean()
    lo, hi = int(sample_rate / fmax), int(sample_rate / fmin)
    if len(x) <= hi + 1:
        return float("nan")
    energy = float(np.dot(x, x))
    if energy <= 0:
        return 0.0
    ac = np.correlate(x, x, mode="full")[len(x) - 1:]
    # unbiased normalisation so that longer lags are not penalised for their shorter overlap
    ac = ac[lo:hi] / (energy * (len(x) - np.arange(lo, hi)) / len(x))
    return float(np.max(ac))


def phone_statistics(corpus: SpeechCorpus, utterance_ids: list[str] | None = None,
                     margin: float = 0.01) -> dict[str, dict[str, dict[str, float]]]:
    """Median zero-crossing rate and periodicity per engine and phone label.

    ``margin`` seconds are trimmed from each side so that the statistics describe the phone's
    core rather than its transitions.
    """
    sr = corpus.sample_rate
    values: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    ids = utterance_ids if utterance_ids is not None else [u.id for u in corpus.utterances]
    for utt_id in ids:
        utt = corpus.utterance(utt_id)
        engine = corpus.speakers[utt.speaker].engine
        wave = corpus.audio(utt_id)
        for p in utt.phones:
            a, b = int((p.start + margin) * sr), int((p.end - margin) * sr)
            if b - a < int(0.02 * sr):
                continue
            seg = wave[a:b]
            values[(engine, p.label)].append((zero_crossing_rate(seg), periodicity(seg, sr)))
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (engine, label), vals in values.items():
        arr = np.array(vals, dtype=float)
        out[engine][label] = {"n": len(vals), "zcr": float(np.nanmedian(arr[:, 0])),
                              "periodicity": float(np.nanmedian(arr[:, 1]))}
    return dict(out)


def group_summary(stats: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Weighted medians-of-medians for vowels, nasals and S, the contrasts the checks rely on."""
    def pooled(labels: tuple[str, ...], key: str) -> float:
        items = [(stats[lab][key], stats[lab]["n"]) for lab in labels if lab in stats]
        if not items:
            return float("nan")
        v, w = np.array(items).T
        return float(np.average(v, weights=w))
    return {
        "S_zcr": pooled(("S",), "zcr"), "vowel_zcr": pooled(VOWELS, "zcr"),
        "vowel_periodicity": pooled(VOWELS, "periodicity"),
        "nasal_periodicity": pooled(NASALS, "periodicity"),
        "S_periodicity": pooled(("S",), "periodicity"),
    }
