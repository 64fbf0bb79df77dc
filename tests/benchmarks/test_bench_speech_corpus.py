"""Speed of loading the embedded speech corpus and cutting consonant segments.

Target: loading with checksum verification of all ~18 MB in under 2 s. References in the same
run: hashing the same files with a plain hashlib loop (the floor for verification), and
TopCap's way of cutting segments (``librosa.load(path, sr=16000)`` per file, then slicing).
Run with ``BENCH_BENCHMARKS=1 pytest tests/benchmarks --benchmark-enable``.
"""

from __future__ import annotations

import hashlib

import pytest

from bench.datasets.consonants.embedded import load_embedded_consonants
from bench.datasets.consonants.phones import voicing_label
from bench.datasets.speech import load_corpus


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(verify=False)


def test_load_corpus_verified(benchmark):
    corpus = benchmark.pedantic(load_corpus, kwargs={"verify": True}, rounds=5, iterations=1)
    assert len(corpus.utterances) > 300


def test_load_corpus_unverified(benchmark):
    corpus = benchmark.pedantic(load_corpus, kwargs={"verify": False}, rounds=5, iterations=1)
    assert len(corpus.utterances) > 300


def test_reference_hash_all_files(benchmark, corpus):
    def hash_all() -> int:
        for u in corpus.utterances:
            hashlib.sha256((corpus.root / u.file).read_bytes()).hexdigest()
        return len(corpus.utterances)

    assert benchmark.pedantic(hash_all, rounds=5, iterations=1) == len(corpus.utterances)


def test_cut_test_segments(benchmark):
    data = load_embedded_consonants(verify=False)

    def cut() -> int:
        data._audio_cache.clear()
        split = data.split("test")
        return sum(len(split.get(i).waveform) for i in split.ids)

    assert benchmark.pedantic(cut, rounds=3, iterations=1) > 0


def test_reference_librosa_cut_test_segments(benchmark, corpus):
    import librosa

    def cut() -> int:
        total = 0
        for utt_id in corpus.split_ids("test"):
            utt = corpus.utterance(utt_id)
            wave, sr = librosa.load(corpus.root / utt.file, sr=16000)
            for p in utt.phones:
                if voicing_label(p.label) is not None:
                    total += len(wave[int(p.start * sr):int(p.end * sr)])
        return total

    assert benchmark.pedantic(cut, rounds=3, iterations=1) > 0
