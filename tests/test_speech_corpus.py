"""The embedded synthetic speech corpus: integrity, splits, alignments, and the build recipe."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.datasets.speech import CorpusError, load_corpus, sha256_file
from bench.datasets.speech.build import PEAK, finish_utterance
from bench.datasets.speech.checks import NASALS, VOWELS, phone_statistics
from bench.datasets.speech.phone_maps import (
    ESPEAK_TO_ARPABET,
    FESTIVAL_TO_ARPABET,
    UnknownPhoneError,
    map_phones,
    to_arpabet,
)

ARPABET = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH", "SIL", "DX", "Q",
}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def small_copy(src, dst: Path, per_split: int = 2) -> dict:
    """Copy a few utterances of each split into ``dst`` with a matching manifest."""
    manifest = json.loads((src.root / "manifest.json").read_text())
    keep = {s: ids[:per_split] for s, ids in manifest["splits"].items()}
    keep_ids = {i for ids in keep.values() for i in ids}
    manifest["splits"] = keep
    manifest["utterances"] = [u for u in manifest["utterances"] if u["id"] in keep_ids]
    (dst / "audio").mkdir(parents=True)
    for u in manifest["utterances"]:
        shutil.copy(src.root / u["file"], dst / u["file"])
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_every_checksum_matches_the_manifest(corpus):
    assert len(corpus.utterances) >= 300
    for utt in corpus.utterances:
        assert sha256_file(corpus.root / utt.file) == utt.sha256, utt.file


def test_corrupted_file_is_named_with_both_hashes(corpus, tmp_path):
    manifest = small_copy(corpus, tmp_path)
    victim = manifest["utterances"][1]
    path = tmp_path / victim["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "sha256 mismatch" in msg
    assert victim["sha256"] in msg and sha256_file(path) in msg
    # without verification it loads, so a user can inspect the copy
    assert len(load_corpus(tmp_path, verify=False).utterances) == len(manifest["utterances"])


def test_missing_file_is_named(corpus, tmp_path):
    manifest = small_copy(corpus, tmp_path)
    path = tmp_path / manifest["utterances"][0]["file"]
    path.unlink()
    with pytest.raises(CorpusError, match="missing") as err:
        load_corpus(tmp_path)
    assert str(path) in str(err.value)
    c = load_corpus(tmp_path, verify=False)
    with pytest.raises(CorpusError) as err:
        c.audio(manifest["utterances"][0]["id"])
    assert str(path) in str(err.value)


def test_bad_manifests_are_reported(tmp_path):
    with pytest.raises(CorpusError, match="manifest is missing"):
        load_corpus(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CorpusError, match="not valid JSON"):
        load_corpus(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "x", "version": "1"}))
    with pytest.raises(CorpusError, match="missing keys"):
        load_corpus(tmp_path)


def test_speakers_are_disjoint_and_balanced_across_splits(corpus):
    assert len(corpus.speakers) >= 12
    assert {s.sex for s in corpus.speakers.values()} == {"F", "M"}
    seen: dict[str, str] = {}
    for split in ("train", "val", "test"):
        speakers = {corpus.utterance(i).speaker for i in corpus.split_ids(split)}
        for spk in speakers:
            assert seen.setdefault(spk, split) == split, f"{spk} in {seen[spk]} and {split}"
            assert corpus.speakers[spk].split == split
        assert {corpus.speakers[s].sex for s in speakers} == {"F", "M"}, split
        assert {corpus.speakers[s].engine for s in speakers} == {"festival", "espeak"}, split
    all_ids = [i for s in ("train", "val", "test") for i in corpus.split_ids(s)]
    assert sorted(all_ids) == sorted(u.id for u in corpus.utterances)
    with pytest.raises(KeyError, match="no split"):
        corpus.split_ids("dev")


def test_durations_and_size(corpus):
    total = sum(u.duration for u in corpus.utterances)
    assert 12 * 60 <= total <= 15 * 60
    assert all(2.0 <= u.duration <= 4.0 for u in corpus.utterances)
    size = sum((corpus.root / u.file).stat().st_size for u in corpus.utterances)
    assert size < 25e6


def test_phone_times_are_contiguous_and_inside_the_audio(corpus):
    for utt in corpus.utterances[::7]:
        wave = corpus.audio(utt.id)
        assert wave.dtype == np.float32 and wave.ndim == 1
        assert abs(len(wave) / corpus.sample_rate - utt.duration) < 1e-4
        assert abs(float(np.abs(wave).max()) - PEAK) < 1e-3
    for utt in corpus.utterances:
        phones = utt.phones
        assert phones[0].start == 0.0 and abs(phones[-1].end - utt.duration) < 1e-4, utt.id
        for a, b in itertools.pairwise(phones):
            assert a.end == b.start, utt.id
        assert all(p.end > p.start for p in phones), utt.id
        assert {p.label for p in phones} <= ARPABET, utt.id


def test_alignments_match_the_acoustics(corpus):
    """S is noisy (high zero-crossing rate), vowels and nasals are periodic, in both engines."""
    ids = [u.id for u in corpus.utterances[::3]]
    stats = phone_statistics(corpus, ids)
    assert set(stats) == {"festival", "espeak"}
    for engine, s in stats.items():
        vowel_zcr = np.median([s[v]["zcr"] for v in VOWELS if v in s])
        assert s["S"]["zcr"] > 3 * vowel_zcr, engine
        for nasal in NASALS:
            assert s[nasal]["periodicity"] > 0.7 > s["S"]["periodicity"] + 0.3, (engine, nasal)


def test_every_task_consonant_occurs_in_every_split(corpus):
    from bench.datasets.consonants.phones import VOICED, VOICELESS

    for split in ("train", "val", "test"):
        labels = {p.label for i in corpus.split_ids(split) for p in corpus.utterance(i).phones}
        assert set(VOICED + VOICELESS) <= labels, split


def test_phone_maps_cover_engine_sets_and_reject_unknown_symbols():
    assert set(FESTIVAL_TO_ARPABET.values()) <= ARPABET
    assert set(ESPEAK_TO_ARPABET.values()) <= ARPABET
    assert to_arpabet("espeak", "'aI") == "AY" and to_arpabet("espeak", ",Z") == "ZH"
    assert to_arpabet("festival", "pau") == "SIL"
    with pytest.raises(UnknownPhoneError, match="'qq'"):
        to_arpabet("festival", "qq")
    with pytest.raises(UnknownPhoneError):
        to_arpabet("espeak", "@@@")
    # neighbouring pauses merge; "I" + ";" is one /j/; ";" after another vowel folds into it
    out = map_phones("espeak", [("_:", 0, 0.1), ("_", 0.1, 0.1), ("n", 0.1, 0.2), ("I", 0.2, 0.25),
                                (";", 0.25, 0.3), ("'i:", 0.3, 0.4), (";", 0.4, 0.45)])
    assert out == [("SIL", 0, 0.1), ("N", 0.1, 0.2), ("Y", 0.2, 0.3), ("IY", 0.3, 0.45)]


def test_finish_utterance_resamples_normalises_and_cleans_phones():
    rate = 22050
    t = np.arange(int(0.5 * rate)) / rate
    audio = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    phones = [("m", 0.05, 0.2), ("_", 0.2, 0.2), ("'a", 0.2, 0.45)]
    wave, aligned = finish_utterance(audio, rate, phones, "espeak")
    assert len(wave) == 8000 and abs(float(np.abs(wave).max()) - PEAK) < 1e-3
    assert aligned == [["SIL", 0.0, 0.05], ["M", 0.05, 0.2], ["AE", 0.2, 0.45], ["SIL", 0.45, 0.5]]
    # playing 1.25x faster shortens the audio and every phone time by the same factor
    wave, aligned = finish_utterance(audio, rate, phones, "espeak", speed=1.25)
    assert len(wave) == 6400
    assert aligned[1] == ["M", 0.04, 0.16] and aligned[-1] == ["SIL", 0.36, 0.4]


def test_build_recipe_is_deterministic(tmp_path):
    """Two builds of one espeak-ng speaker give the same bytes and a loadable corpus."""
    pytest.importorskip("espeakng_loader")
    from bench.datasets.speech.build import SpeakerRecipe, build

    spk = (SpeakerRecipe("esp-t", "espeak", "en-us+f2", "F", "train", {"rate": 170}),)
    a = build(tmp_path / "a", seed=3, seconds_per_speaker=4.0, speakers=spk)
    b = build(tmp_path / "b", seed=3, seconds_per_speaker=4.0, speakers=spk)
    assert a["utterances"] == b["utterances"]
    c = load_corpus(tmp_path / "a")
    assert c.split_ids("train") == [u["id"] for u in a["utterances"]]
    assert sum(u.duration for u in c.utterances) >= 4.0
