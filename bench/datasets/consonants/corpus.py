"""Building blocks shared by the real-corpus adapters (TIMIT, MFA TextGrids).

An adapter scans a corpus into :class:`PhoneEntry` records (one per task consonant), records
every file it had to skip in ``problems``, and turns the records into
:class:`bench.datasets.base.LazySplit` objects whose samples are cut from the audio on demand.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import soundfile as sf

from bench.datasets.base import LazySplit
from bench.interfaces import SampleError
from bench.samples import SPEECH_SAMPLE_RATE, Segment


@dataclass(frozen=True)
class Problem:
    """A file that was skipped while loading a corpus, and why."""

    path: str
    message: str
    kind: str = ""  # a short class of problem; warnings count files per kind

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_failure(self) -> dict[str, str]:
        """The coverage entry of this file: it is counted, never silently dropped."""
        return {"id": self.path, "stage": "corpus", "kind": self.kind or self.message,
                "message": f"{self.path}: {self.message}"}


class SkipFile(ValueError):
    """Raised while scanning a corpus: this file cannot be used, for this reason."""

    def __init__(self, path: str | os.PathLike[str], message: str, kind: str = "") -> None:
        super().__init__(f"{path}: {message}")
        self.problem = Problem(str(path), message, kind)


@dataclass(frozen=True)
class PhoneEntry:
    """One task consonant in one recording; times are in seconds from the file's start."""

    id: str
    audio_path: str
    audio_sha256: str
    start: float
    end: float
    phone: str
    label: int
    speaker: str
    source_label: str

    @property
    def content_hash(self) -> str:
        """sha256 over the audio file's bytes (via its digest) and this phone's times and label."""
        key = f"{self.audio_sha256}|{self.start!r}|{self.end!r}|{self.source_label}"
        return hashlib.sha256(key.encode()).hexdigest()


def resolve_root(root: str | os.PathLike[str] | None, env_var: str, dataset: str) -> Path:
    """The corpus root from the ``root`` option or ``env_var``; a clear error when neither is set."""
    value = root if root is not None else os.environ.get(env_var)
    if not value:
        raise ValueError(
            f"dataset {dataset!r} needs the location of your copy of the corpus: pass the "
            f"option root=/path/to/corpus or set the environment variable {env_var}"
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"dataset {dataset!r}: corpus root {str(path)!r} is not a directory")
    return path


def audio_duration(path: Path) -> float:
    """Duration in seconds from the audio header; raises ValueError naming the file if unreadable."""
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError subclasses
        raise ValueError(f"cannot read audio header: {exc}") from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise ValueError("audio file has no samples")
    return info.frames / info.samplerate


class AudioReader:
    """Reads whole recordings as 16 kHz mono float32, keeping the last few in memory."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def read(self, path: str) -> np.ndarray:
        """The recording at 16 kHz; raises SampleError naming the file if it cannot be decoded."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        try:
            data, rate = sf.read(path, dtype="float32", always_2d=True)
        except Exception as exc:
            raise SampleError(f"{path}: cannot read audio ({exc})") from exc
        wave = data.mean(axis=1)
        if rate != SPEECH_SAMPLE_RATE:
            wave = librosa.resample(wave, orig_sr=rate, target_sr=SPEECH_SAMPLE_RATE)
        wave = np.ascontiguousarray(wave, dtype=np.float32)
        self._cache[path] = wave
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return wave


def cut_segment(entry: PhoneEntry, reader: AudioReader, corpus: str) -> Segment:
    """The Segment for one entry, cut as ``wave[int(start*16000):int(end*16000)]``."""
    wave = reader.read(entry.audio_path)
    lo = int(entry.start * SPEECH_SAMPLE_RATE)
    hi = int(entry.end * SPEECH_SAMPLE_RATE)
    if hi > len(wave) or hi <= lo:
        raise SampleError(
            f"{entry.audio_path}: phone {entry.source_label!r} at {entry.start:.4f}-{entry.end:.4f} s "
            f"lies outside the {len(wave) / SPEECH_SAMPLE_RATE:.4f} s of audio"
        )
    return Segment(
        id=entry.id, waveform=wave[lo:hi].copy(), sample_rate=SPEECH_SAMPLE_RATE,
        phone=entry.phone, label=entry.label, speaker=entry.speaker, corpus=corpus,
        start=entry.start, end=entry.end,
        meta={"audio_path": entry.audio_path, "source_label": entry.source_label},
    )


def make_split(name: str, entries: Iterable[PhoneEntry], reader: AudioReader, corpus: str,
               problems: Iterable[Problem] = ()) -> LazySplit:
    """A LazySplit over entries, in the order given; ``problems``: the files of this split that
    could not be used (the runner counts them in coverage)."""
    items = list(entries)
    unusable = [p.as_failure() for p in problems]
    return LazySplit(
        name=name,
        ids=[e.id for e in items],
        content_hashes={e.id: e.content_hash for e in items},
        loaders={e.id: partial(cut_segment, e, reader, corpus) for e in items},
        meta={"n_voiced": sum(e.label for e in items), "n_voiceless": sum(1 - e.label for e in items),
              **({"unusable": unusable} if unusable else {})},
    )


@dataclass
class ConsonantCorpus:
    """A loaded corpus: named LazySplits plus the list of files skipped while loading."""

    name: str
    version: str
    splits: dict[str, LazySplit]
    problems: list[Problem] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def train_split_for(self, name: str) -> str:
        """The split a method is fitted on before it is scored on ``name``.

        ``all`` holds every segment, so no held-out fit exists for it: it is for users' own
        cross-validation, not for scoring.
        """
        if name not in self.splits:
            self.split(name)  # raises the KeyError listing the splits
        if name == "all":
            raise KeyError(
                f"dataset {self.name!r}: split 'all' contains every segment, so nothing is held out "
                "for it; score 'test' (fitted on 'train')"
            )
        return "train"

    def split(self, name: str) -> LazySplit:
        """The split called ``name``; KeyError listing the available ones otherwise."""
        try:
            return self.splits[name]
        except KeyError:
            raise KeyError(
                f"dataset {self.name!r} has no split {name!r}; available: {sorted(self.splits)}"
            ) from None
