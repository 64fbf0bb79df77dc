"""Consonant segments cut from the embedded synthetic speech corpus.

Every phone of the 13 task classes becomes a :class:`bench.samples.Segment` cut at its aligned
times, ``wave[int(start*sr):int(end*sr)]`` as in TopCap. Splits ``train``/``val``/``test`` follow
the corpus's speaker-disjoint splits; ``paper-train``/``paper-holdout`` are TopCap's stratified
70/30 hold-out over all speakers' segments.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets.base import LazySplit
from bench.datasets.consonants.phones import voicing_label
from bench.datasets.speech import CorpusError, SpeechCorpus, load_corpus
from bench.interfaces import SampleError
from bench.samples import Segment

NAME = "consonants-synthetic"
CORPUS_SPLITS = ("train", "val", "test")
PAPER_SPLITS = ("paper-train", "paper-holdout")
PAPER_SEED = 42
PAPER_HOLDOUT = 0.3


@dataclass(frozen=True)
class SegmentRef:
    """Where a segment lives: utterance, phone index, label and sample bounds."""

    id: str
    utterance: str
    phone_index: int
    phone: str
    label: int
    start: float
    end: float
    split: str
    content_hash: str


@dataclass(frozen=True)
class PaperProtocol:
    """TopCap's evaluation protocol: a stratified 70/30 hold-out plus stratified 5-fold tuning.

    ``train`` and ``holdout`` index the segments given to :func:`paper_protocol`; ``cv`` is the
    ``StratifiedKFold`` used for tuning on the training part.
    """

    train: np.ndarray
    holdout: np.ndarray
    cv: Any
    labels: np.ndarray

    def folds(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(fit, validate) index pairs of the 5 folds, as indices into the original segments."""
        y = self.labels[self.train]
        for fit, val in self.cv.split(np.zeros(len(y)), y):
            yield self.train[fit], self.train[val]


def paper_protocol(segments: Sequence[Any], labels: Sequence[int],
                   seed: int = PAPER_SEED) -> PaperProtocol:
    """Stratified 70/30 hold-out indices and a ``StratifiedKFold(5, shuffle=True)`` for tuning."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(labels)
    if len(y) != len(segments):
        raise ValueError(f"{len(segments)} segments but {len(y)} labels")
    idx = np.arange(len(y))
    train, holdout = train_test_split(idx, test_size=PAPER_HOLDOUT, stratify=y,
                                      random_state=seed, shuffle=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    return PaperProtocol(train=np.sort(train), holdout=np.sort(holdout), cv=cv, labels=y)


class ConsonantDataset:
    """The embedded consonant-voicing dataset (implements :class:`bench.interfaces.Dataset`)."""

    name = NAME

    def __init__(self, corpus: SpeechCorpus, min_samples: int = 1, cache_size: int = 16) -> None:
        self.corpus = corpus
        self.version = corpus.version
        self.min_samples = min_samples
        self._audio_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self.refs: list[SegmentRef] = self._index()
        self._by_id = {r.id: r for r in self.refs}
        self._ids: dict[str, list[str]] = {
            s: [r.id for r in self.refs if r.split == s] for s in CORPUS_SPLITS}
        self._splits: dict[str, LazySplit] = {}

    @property
    def split_names(self) -> tuple[str, ...]:
        """All split names."""
        return CORPUS_SPLITS + PAPER_SPLITS

    def train_split_for(self, name: str) -> str:
        """The split a method is fitted on when evaluated on ``name``.

        The paper hold-out is scored after fitting on the paper's 70 %; the speaker-disjoint
        splits after fitting on ``train``.
        """
        if name not in self.split_names:
            raise KeyError(f"{NAME} has no split {name!r}; known: {list(self.split_names)}")
        return "paper-train" if name in PAPER_SPLITS else "train"

    def ids(self, name: str) -> list[str]:
        """Segment ids of a split; the paper splits are drawn on first use (needs scikit-learn)."""
        if name in PAPER_SPLITS and name not in self._ids:
            proto = paper_protocol(self.refs, [r.label for r in self.refs], seed=PAPER_SEED)
            self._ids["paper-train"] = [self.refs[i].id for i in proto.train]
            self._ids["paper-holdout"] = [self.refs[i].id for i in proto.holdout]
        if name not in self._ids:
            raise KeyError(f"{NAME} has no split {name!r}; known: {list(self.split_names)}")
        return self._ids[name]

    def _index(self) -> list[SegmentRef]:
        sr = self.corpus.sample_rate
        refs = []
        for utt in self.corpus.utterances:
            for i, p in enumerate(utt.phones):
                label = voicing_label(p.label)
                if label is None or int(p.end * sr) - int(p.start * sr) < self.min_samples:
                    continue
                key = f"{utt.sha256}:{i}:{p.start!r}:{p.end!r}"
                refs.append(SegmentRef(
                    id=f"{utt.id}/{i}-{p.label}", utterance=utt.id, phone_index=i, phone=p.label,
                    label=label, start=p.start, end=p.end, split=utt.split,
                    content_hash=hashlib.sha256(key.encode()).hexdigest()))
        return refs

    def _audio(self, utt_id: str) -> np.ndarray:
        # segments of one utterance are usually asked for together; keep a few waveforms
        if utt_id in self._audio_cache:
            self._audio_cache.move_to_end(utt_id)
            return self._audio_cache[utt_id]
        try:
            wave = self.corpus.audio(utt_id)
        except (CorpusError, OSError) as err:
            raise SampleError(str(err)) from err
        self._audio_cache[utt_id] = wave
        if len(self._audio_cache) > self._cache_size:
            self._audio_cache.popitem(last=False)
        return wave

    def segment(self, seg_id: str) -> Segment:
        """Cut and return one segment."""
        try:
            ref = self._by_id[seg_id]
        except KeyError:
            raise SampleError(f"{NAME}: no segment {seg_id!r}") from None
        sr = self.corpus.sample_rate
        wave = self._audio(ref.utterance)
        a, b = int(ref.start * sr), int(ref.end * sr)
        if b > len(wave):
            raise SampleError(f"{self.corpus.path(ref.utterance)}: segment {seg_id!r} ends at "
                              f"sample {b} but the file has {len(wave)} samples")
        utt = self.corpus.utterance(ref.utterance)
        spk = self.corpus.speakers[utt.speaker]
        return Segment(
            id=ref.id, waveform=wave[a:b].copy(), sample_rate=sr, phone=ref.phone,
            label=ref.label, speaker=utt.speaker, corpus=self.corpus.name, start=ref.start,
            end=ref.end, meta={"utterance": utt.id, "phone_index": ref.phone_index,
                               "engine": spk.engine, "sex": spk.sex},
        )

    def split(self, name: str) -> LazySplit:
        """The named split as a :class:`bench.datasets.base.LazySplit`."""
        if name not in self._splits:
            ids = self.ids(name)
            self._splits[name] = LazySplit(
                name=name, ids=ids,
                content_hashes={i: self._by_id[i].content_hash for i in ids},
                loaders={i: partial(self.segment, i) for i in ids},
                meta={"dataset": NAME, "version": self.version},
            )
        return self._splits[name]

    def class_counts(self, name: str) -> dict[str, int]:
        """Segments per phone and per voicing class in a split."""
        counts: dict[str, int] = {}
        for i in self.ids(name):
            r = self._by_id[i]
            counts[r.phone] = counts.get(r.phone, 0) + 1
            key = "voiced" if r.label == 1 else "voiceless"
            counts[key] = counts.get(key, 0) + 1
        return counts


def load_embedded_consonants(root: str | Path | None = None, verify: bool = True,
                             min_samples: int = 1) -> ConsonantDataset:
    """Load the consonant segments of the embedded speech corpus.

    ``root`` points at another copy of the corpus; ``min_samples`` drops segments shorter than
    that many samples (1 keeps every non-empty one; methods apply their own length rules).
    """
    corpus = load_corpus(Path(root) if root is not None else None, verify=verify)
    return ConsonantDataset(corpus, min_samples=min_samples)
