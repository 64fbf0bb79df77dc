"""Montreal Forced Aligner TextGrid corpora: ``<name>.wav`` + ``<name>.TextGrid`` in one folder.

Phones come from the ``phones`` tier. Labels are ARPAbet (``english_us_arpa``: "AH0", "T") or
IPA (``english_mfa``: "tʃ", "ŋ", "tʰ"). The aspirated allophones tʰ and kʰ are not in the task's
class lists; ``aspirated="drop"`` (the default) leaves them out, as the TopCap authors' IPA
filter did, and ``aspirated="map"`` counts them as T and K. Other allophones (ɫ, ɾ, tʷ, ...)
are always left out. TextGrids are read with praatio (long and short text formats).

Splits: ``train`` / ``test`` are speaker-disjoint, drawn by a seeded shuffle of the speakers
(speaker = first group of ``speaker_pattern`` matched against the file name, or the whole name
when it does not match), and ``all`` holds every segment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from praatio import textgrid as praat_textgrid

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
from bench.datasets.consonants.phones import IPA_TO_ARPABET, voicing_label

ENV_VAR = "BENCH_TEXTGRID_ROOT"
VERSION = "1"
# ALLSSTAR: ALL_049_F_ENG_ENG_HT1 -> ALL_049; LibriSpeech: 103-1240-0000 -> 103.
DEFAULT_SPEAKER_PATTERN = r"^([A-Za-z]*_?\d+)"
ASPIRATED = {"tʰ": "T", "kʰ": "K"}
TOLERANCE_S = 0.001


def phone_to_arpabet(label: str, aspirated: str = "drop") -> str | None:
    """The task class (ARPAbet, no stress) of an MFA phone label, or None if outside the task."""
    text = label.strip()
    if text in IPA_TO_ARPABET:
        return IPA_TO_ARPABET[text]
    if text in ASPIRATED:
        return ASPIRATED[text] if aspirated == "map" else None
    if voicing_label(text) is not None:
        return text.upper().rstrip("012")
    return None


def speaker_of(stem: str, pattern: re.Pattern[str]) -> str:
    """The speaker id in a file name: the pattern's first group, else the whole name."""
    match = pattern.match(stem)
    return match.group(1) if match and match.groups() and match.group(1) else stem


def speaker_split(speakers: list[str], test_fraction: float, seed: int) -> set[str]:
    """Test speakers: a seeded shuffle of the sorted speakers, the first round(f * n) of them."""
    ordered = sorted(set(speakers))
    if len(ordered) < 2:
        return set()
    n_test = min(len(ordered) - 1, max(1, round(test_fraction * len(ordered))))
    order = np.random.default_rng(seed).permutation(len(ordered))
    return {ordered[i] for i in order[:n_test]}


def read_phone_intervals(path: Path, tier: str) -> list[tuple[float, float, str]]:
    """(start, end, label) of the non-empty intervals of ``tier``; SkipFile if unusable."""
    try:
        grid = praat_textgrid.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="silence")
    except Exception as exc:  # praatio raises several error types, plus ValueError/IndexError
        raise SkipFile(path, f"cannot parse TextGrid ({type(exc).__name__}: {exc})",
                       "unreadable TextGrid") from exc
    if tier not in grid.tierNames:
        raise SkipFile(path, f"no tier named {tier!r} (tiers: {list(grid.tierNames)})",
                       f"no {tier!r} tier")
    rows = []
    for entry in grid.getTier(tier).entries:
        if len(entry) != 3:
            raise SkipFile(path, f"tier {tier!r} is not an interval tier", "not an interval tier")
        start, end, label = float(entry[0]), float(entry[1]), str(entry[2])
        if not end > start >= 0:
            raise SkipFile(path, f"bad interval {start}-{end} for {label!r}", "bad interval")
        rows.append((start, end, label))
    return rows


def load_textgrid_corpus(
    root: str | os.PathLike[str] | None = None,
    tier: str = "phones",
    aspirated: str = "drop",
    speaker_pattern: str = DEFAULT_SPEAKER_PATTERN,
    test_fraction: float = 0.2,
    seed: int = 0,
    name: str = "mfa-textgrid",
) -> ConsonantCorpus:
    """Consonant Segments from a folder of MFA-aligned recordings, split by speaker.

    ``root`` (or ``$BENCH_TEXTGRID_ROOT``) is searched recursively for ``*.wav`` files with a
    ``.TextGrid`` of the same name beside them. Files that cannot be used are listed in the
    result's ``problems`` and the rest load.
    """
    if aspirated not in ("drop", "map"):
        raise ValueError(f"aspirated must be 'drop' or 'map', got {aspirated!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    pattern = re.compile(speaker_pattern)
    base = resolve_root(root, ENV_VAR, name)
    problems: list[Problem] = []
    audio: dict[Path, Path] = {}
    grids: dict[Path, Path] = {}
    for path in sorted(base.rglob("*")):
        suffix = path.suffix.lower()
        if suffix == ".wav":
            audio[path.with_suffix("")] = path
        elif suffix == ".textgrid":
            grids[path.with_suffix("")] = path
    for key in sorted(set(audio) - set(grids)):
        problems.append(Problem(str(audio[key]), "audio without a .TextGrid file; skipped",
                                "audio without a .TextGrid file"))
    for key in sorted(set(grids) - set(audio)):
        problems.append(Problem(str(grids[key]), ".TextGrid file without audio; skipped",
                                ".TextGrid file without audio"))
    if not audio and not grids:
        raise FileNotFoundError(f"dataset {name!r}: no .wav or .TextGrid files under {str(base)!r}")

    entries: list[PhoneEntry] = []
    for key in sorted(set(audio) & set(grids)):
        wav, grid = audio[key], grids[key]
        try:
            entries.extend(_entries(base, wav, grid, tier, aspirated, pattern))
        except SkipFile as exc:
            problems.append(Problem(exc.problem.path, exc.problem.message + "; skipped",
                                    exc.problem.kind))

    test_speakers = speaker_split([e.speaker for e in entries], test_fraction, seed)
    reader = AudioReader()
    # an unusable file belongs to the split of its speaker (train when the speaker is unknown)
    bad_test = [p for p in problems if speaker_of(Path(p.path).stem, pattern) in test_speakers]
    bad_train = [p for p in problems if p not in bad_test]
    splits = {
        "train": make_split("train", [e for e in entries if e.speaker not in test_speakers], reader,
                            name, bad_train),
        "test": make_split("test", [e for e in entries if e.speaker in test_speakers], reader, name,
                           bad_test),
        "all": make_split("all", entries, reader, name, problems),
    }
    options = {"root": str(base), "tier": tier, "aspirated": aspirated,
               "speaker_pattern": speaker_pattern, "test_fraction": test_fraction, "seed": seed}
    return ConsonantCorpus(name, VERSION, splits, problems, options)


def _entries(
    base: Path, wav: Path, grid: Path, tier: str, aspirated: str, pattern: re.Pattern[str]
) -> list[PhoneEntry]:
    rows = read_phone_intervals(grid, tier)
    try:
        duration = audio_duration(wav)
    except ValueError as exc:
        raise SkipFile(wav, str(exc), "unreadable audio") from None
    if rows and max(end for _, end, _ in rows) > duration + TOLERANCE_S:
        last = max(end for _, end, _ in rows)
        raise SkipFile(grid, f"phones run to {last:.4f} s but the audio lasts {duration:.4f} s",
                       "phones past the end of the audio")
    sha = sha256_file(wav)
    rel = wav.relative_to(base).with_suffix("").as_posix()
    speaker = speaker_of(wav.stem, pattern)
    out = []
    for index, (start, end, label) in enumerate(rows):
        phone = phone_to_arpabet(label, aspirated)
        if phone is None:
            continue
        voiced = voicing_label(phone)
        assert voiced is not None
        out.append(PhoneEntry(
            id=f"{rel}/{index:04d}-{phone}", audio_path=str(wav), audio_sha256=sha,
            start=start, end=end, phone=phone, label=voiced, speaker=speaker,
            source_label=label.strip(),
        ))
    return out
