"""Read the embedded synthetic speech corpus: manifest, checksums, audio and phone alignments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from bench.hashing import sha256_file

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "data" / "speech"
MANIFEST_NAME = "manifest.json"


class CorpusError(Exception):
    """The corpus on disk does not match its manifest (missing file, bad checksum, bad field)."""


@dataclass(frozen=True)
class Phone:
    """One aligned phone: ARPAbet ``label`` (``SIL`` for silence) from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length of the phone in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: the engine and voice that made it, its sex and voice settings."""

    id: str
    engine: str
    voice: str
    sex: str
    split: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Utterance:
    """One utterance with its text, phone alignment and the audio file it lives in."""

    id: str
    speaker: str
    text: str
    phones: tuple[Phone, ...]
    duration: float
    file: str
    sha256: str
    split: str


class SpeechCorpus:
    """The corpus as loaded from a manifest; audio is read on demand."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.name: str = manifest["name"]
        self.version: str = manifest["version"]
        self.sample_rate: int = int(manifest["sample_rate"])
        self.speakers: dict[str, Speaker] = {}
        split_of_speaker: dict[str, str] = {}
        self._splits: dict[str, list[str]] = {k: list(v) for k, v in manifest["splits"].items()}
        split_of_utt = {u: s for s, ids in self._splits.items() for u in ids}
        for sid, info in manifest["speakers"].items():
            split_of_speaker[sid] = info.get("split", "")
            self.speakers[sid] = Speaker(
                id=sid, engine=info["engine"], voice=info["voice"], sex=info["sex"],
                split=info.get("split", ""), settings=dict(info.get("settings", {})),
            )
        self.utterances: list[Utterance] = []
        for u in manifest["utterances"]:
            if u["speaker"] not in self.speakers:
                raise CorpusError(f"{self.root / MANIFEST_NAME}: utterance {u['id']!r} names "
                                  f"unknown speaker {u['speaker']!r}")
            self.utterances.append(Utterance(
                id=u["id"], speaker=u["speaker"], text=u["text"],
                phones=tuple(Phone(str(p[0]), float(p[1]), float(p[2])) for p in u["phones"]),
                duration=float(u["duration"]), file=u["file"], sha256=u["sha256"],
                split=split_of_utt.get(u["id"], ""),
            ))
        self._by_id = {u.id: u for u in self.utterances}
        for split, ids in self._splits.items():
            for i in ids:
                if i not in self._by_id:
                    raise CorpusError(f"{self.root / MANIFEST_NAME}: split {split!r} lists "
                                      f"unknown utterance {i!r}")

    @property
    def split_names(self) -> list[str]:
        """Names of the splits in the manifest."""
        return list(self._splits)

    def split_ids(self, name: str) -> list[str]:
        """Utterance ids of a split, in manifest order."""
        try:
            return list(self._splits[name])
        except KeyError:
            raise KeyError(f"corpus {self.name!r} has no split {name!r}; "
                           f"known: {sorted(self._splits)}") from None

    def utterance(self, utt_id: str) -> Utterance:
        """The utterance with this id."""
        try:
            return self._by_id[utt_id]
        except KeyError:
            raise KeyError(f"corpus {self.name!r} has no utterance {utt_id!r}") from None

    def path(self, utt_id: str) -> Path:
        """Absolute path of an utterance's audio file."""
        return self.root / self.utterance(utt_id).file

    def audio(self, utt_id: str) -> np.ndarray:
        """The utterance's waveform: float32 mono at the corpus sample rate."""
        path = self.path(utt_id)
        try:
            wave, sr = sf.read(path, dtype="float32", always_2d=False)
        except (OSError, RuntimeError) as err:  # soundfile raises LibsndfileError (RuntimeError)
            raise CorpusError(f"{path}: cannot read audio ({err})") from err
        if sr != self.sample_rate:
            raise CorpusError(f"{path}: sample rate {sr} Hz, manifest says {self.sample_rate} Hz")
        if wave.ndim != 1:
            raise CorpusError(f"{path}: expected mono audio, got shape {wave.shape}")
        return wave

    def verify(self) -> None:
        """Check that every audio file exists and has the sha256 the manifest records."""
        for u in self.utterances:
            path = self.root / u.file
            if not path.is_file():
                raise CorpusError(f"{path}: file is missing (utterance {u.id!r})")
            actual = sha256_file(path)
            if actual != u.sha256:
                raise CorpusError(f"{path}: sha256 mismatch, expected {u.sha256}, got {actual}")


def load_corpus(root: Path | None = None, verify: bool = True) -> SpeechCorpus:
    """Load the speech corpus at ``root`` (default: the one shipped in the package).

    With ``verify`` every audio file's sha256 is checked against the manifest.
    """
    root = Path(root) if root is not None else DEFAULT_ROOT
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        raise CorpusError(f"{manifest_path}: manifest is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CorpusError(f"{manifest_path}: not valid JSON ({err})") from err
    missing = [k for k in ("name", "version", "sample_rate", "speakers", "splits", "utterances")
               if k not in manifest]
    if missing:
        raise CorpusError(f"{manifest_path}: missing keys {missing}")
    corpus = SpeechCorpus(root, manifest)
    if verify:
        corpus.verify()
    return corpus
