"""TIMIT adapter: consonant segments from the corpus's own phone boundaries (.PHN files).

Expected tree (any letter case): ``<root>/TRAIN/DR1/FCJF0/SA1.WAV`` with ``SA1.PHN`` beside it,
and the same under ``TEST``. The audio is NIST SPHERE (read by soundfile) or RIFF WAV. ``.PHN``
lines are ``start_sample end_sample label`` counted at TIMIT's 16 kHz. TIMIT's ``t``/``k`` label
the release only (the closures ``tcl``/``kcl`` are separate labels), so a segment is the release.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.datasets.consonants.corpus import (
    AudioReader,
    ConsonantCorpus,
    PhoneEntry,
    Problem,
    SkipFile,
    audio_duration,
    make_split,
    resolve_root,
)
from bench.hashing import sha256_file
from bench.datasets.consonants.phones import TIMIT_TO_ARPABET, voicing_label

ENV_VAR = "BENCH_TIMIT_ROOT"
TIMIT_RATE = 16000
VERSION = "1"
# .PHN end times may overrun the audio by rounding; more than this is an alignment error.
TOLERANCE_S = 0.001


def find_split_dirs(root: Path) -> dict[str, Path]:
    """TRAIN and TEST folders at the root or one level below (e.g. ``<root>/TIMIT/TRAIN``)."""
    found: dict[str, Path] = {}
    for base in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        for child in sorted(base.iterdir()):
            key = child.name.lower()
            if child.is_dir() and key in ("train", "test") and key not in found:
                found[key] = child
        if found:
            break
    return found


def parse_phn(path: Path) -> list[tuple[int, int, str]]:
    """(start, end, label) per line; ValueError naming the line for anything malformed."""
    rows = []
    text = path.read_text(encoding="ascii", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"line {number}: expected 'start end label', got {line.strip()!r}")
        try:
            start, end = int(parts[0]), int(parts[1])
        except ValueError:
            raise ValueError(f"line {number}: start/end are not integers: {line.strip()!r}") from None
        if start < 0 or end <= start:
            raise ValueError(f"line {number}: bad interval {start}-{end}")
        rows.append((start, end, parts[2].lower()))
    if not rows:
        raise ValueError("no phone lines")
    return rows


def _pairs(split_dir: Path, problems: list[Problem]) -> list[tuple[Path, Path]]:
    """(audio, .PHN) pairs in a split folder; unpaired files go to ``problems``."""
    audio: dict[tuple[str, str], Path] = {}
    phn: dict[tuple[str, str], Path] = {}
    for folder, _, files in os.walk(split_dir):
        for name in sorted(files):
            lower = name.lower()
            if lower.endswith(".wav"):
                stem = lower[:-4]
                stem = stem.removesuffix(".wav")  # converted copies: SA1.WAV.wav
                audio.setdefault((folder, stem), Path(folder) / name)
            elif lower.endswith(".phn"):
                phn[(folder, lower[:-4])] = Path(folder) / name
    for key in sorted(set(audio) - set(phn)):
        problems.append(Problem(str(audio[key]), "audio without a .PHN file; skipped",
                                "audio without a .PHN file"))
    for key in sorted(set(phn) - set(audio)):
        problems.append(Problem(str(phn[key]), ".PHN file without audio; skipped",
                                ".PHN file without audio"))
    return [(audio[k], phn[k]) for k in sorted(set(audio) & set(phn))]


def _entries(split: str, wav: Path, phn: Path) -> list[PhoneEntry]:
    """Entries of one utterance; SkipFile naming the file if it must be skipped."""
    try:
        rows = parse_phn(phn)
    except (ValueError, OSError) as exc:
        raise SkipFile(phn, str(exc), "bad .PHN file") from None
    try:
        duration = audio_duration(wav)
    except ValueError as exc:
        raise SkipFile(wav, str(exc), "unreadable audio") from None
    last = max(end for _, end, _ in rows) / TIMIT_RATE
    if last > duration + TOLERANCE_S:
        raise SkipFile(phn, f"phones run to {last:.4f} s but the audio lasts {duration:.4f} s",
                       "phones past the end of the audio")
    sha = sha256_file(wav)
    speaker = wav.parent.name.upper()
    region = wav.parent.parent.name.upper()
    utt = wav.name.split(".")[0].upper()
    out = []
    for index, (start, end, label) in enumerate(rows):
        arpabet = TIMIT_TO_ARPABET.get(label)
        if arpabet is None:
            continue
        voiced = voicing_label(arpabet)
        assert voiced is not None  # every TIMIT_TO_ARPABET value is a task class
        out.append(PhoneEntry(
            id=f"{split.upper()}/{region}/{speaker}/{utt}/{index:03d}-{label}",
            audio_path=str(wav), audio_sha256=sha,
            start=start / TIMIT_RATE, end=end / TIMIT_RATE,
            phone=arpabet, label=voiced, speaker=speaker, source_label=label,
        ))
    return out


def load_timit(root: str | os.PathLike[str] | None = None, **options: Any) -> ConsonantCorpus:
    """TIMIT's TRAIN and TEST as splits ``train`` / ``test`` of consonant Segments.

    ``root`` (or ``$BENCH_TIMIT_ROOT``) is the folder holding TRAIN and TEST. Files that cannot
    be used are listed in the result's ``problems`` and the rest load.
    """
    if options:
        raise TypeError(f"load_timit got unknown options: {sorted(options)}")
    base = resolve_root(root, ENV_VAR, "timit")
    split_dirs = find_split_dirs(base)
    if not split_dirs:
        raise FileNotFoundError(f"dataset 'timit': no TRAIN or TEST folder under {str(base)!r}")
    problems: list[Problem] = []
    reader = AudioReader()
    splits = {}
    for split in ("train", "test"):
        entries: list[PhoneEntry] = []
        first = len(problems)
        if split not in split_dirs:
            problems.append(Problem(str(base), f"no {split.upper()} folder; split {split!r} is empty"))
        else:
            for wav, phn in _pairs(split_dirs[split], problems):
                try:
                    entries.extend(_entries(split, wav, phn))
                except SkipFile as exc:
                    problems.append(Problem(exc.problem.path, exc.problem.message + "; skipped",
                                            exc.problem.kind))
        splits[split] = make_split(split, entries, reader, "timit", problems[first:])
    return ConsonantCorpus("timit", VERSION, splits, problems, {"root": str(base)})
