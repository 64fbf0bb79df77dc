"""Catalogue: every recording a real-corpus adapter cannot use is counted, named and reported.

Tiny TIMIT and MFA TextGrid corpora in their native formats, scored with the toy method.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import soundfile as sf
from catalogue import cli, expect
from test_consonant_adapters import (
    ARPA_ROWS,
    IPA_ROWS,
    PHN,
    SR,
    ramp,
    textgrid_long,
    write_sphere,
    write_utterance,
)

from bench.datasets.consonants.textgrid import load_textgrid_corpus


def _timit(root: Path) -> Path:
    for i, d in enumerate(("TRAIN/DR1/FCJF0", "TRAIN/DR1/MDAB0")):
        write_sphere(root / d / "SA1.WAV", ramp(4800, i))
        (root / d / "SA1.PHN").write_text(PHN)
    write_sphere(root / "TEST/DR2/MXYZ0/SX10.WAV", ramp(4800, 3))
    (root / "TEST/DR2/MXYZ0/SX10.PHN").write_text(PHN)
    return root


def _bad_zero_byte(d):
    (d / "SX11.WAV").write_bytes(b"")
    (d / "SX11.PHN").write_text(PHN)
    return "SX11.WAV", "unreadable audio"


def _bad_random_bytes(d):
    (d / "SX12.WAV").write_bytes(b"\x13\x37 not audio" * 50)
    (d / "SX12.PHN").write_text(PHN)
    return "SX12.WAV", "unreadable audio"


def _bad_phn_line(d):
    write_sphere(d / "SX13.WAV", ramp(4800))
    (d / "SX13.PHN").write_text("0 800 h#\n800 x1600 s\n")
    return "SX13.PHN", "bad .PHN file"


def _phn_without_audio(d):
    (d / "SX14.PHN").write_text(PHN)
    return "SX14.PHN", ".PHN file without audio"


def _audio_without_phn(d):
    write_sphere(d / "SX15.WAV", ramp(4800))
    return "SX15.WAV", "audio without a .PHN file"


def _phones_past_end(d):
    write_sphere(d / "SX16.WAV", ramp(2000))
    (d / "SX16.PHN").write_text(PHN)
    return "SX16.PHN", "phones past the end of the audio"


TIMIT_BAD = [_bad_zero_byte, _bad_random_bytes, _bad_phn_line, _phn_without_audio,
             _audio_without_phn, _phones_past_end]


def _run_timit(root, *extra):
    return cli(["run", "--task", "consonant-voicing", "--dataset", "timit", "--method", "toy-zcr",
                "--dataset-option", f"timit.root={root}", "--split", "test", "--bootstrap", "20",
                "--runs-dir", root.parent / "runs", "--no-leaderboard", *extra])


def _record(root, dataset="timit"):
    path = root.parent / "runs" / "records" / "consonant-voicing" / dataset / "test" / "toy-zcr.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("make_bad", TIMIT_BAD, ids=lambda f: f.__name__.strip("_"))
def test_timit_unusable_file_is_counted(make_bad, tmp_path, toy_registries, caplog):
    root = _timit(tmp_path / "timit")
    name, kind = make_bad(root / "TEST/DR2/MXYZ0")
    with caplog.at_level(logging.WARNING):
        res = _run_timit(root)
    expect(res, 0)
    cov = _record(root)["coverage"]
    assert cov["n_total"] == 4 and cov["n_ok"] == 3 and cov["n_unusable_files"] == 1
    bad = [f for f in cov["failures"] if f["stage"] == "corpus"]
    assert bad[0]["id"].endswith(name) and bad[0]["kind"] == kind and name in bad[0]["message"]
    acc = _record(root)["metrics"]["accuracy"]
    assert acc["status"] == "partial" and (acc["n_scored"], acc["n_total"]) == (3, 4)
    assert f"1 file(s) could not be used: {kind}" in caplog.text


def test_one_warning_line_per_kind_with_count(tmp_path, toy_registries, caplog):
    root = _timit(tmp_path / "timit")
    d = root / "TEST/DR2/MXYZ0"
    _bad_zero_byte(d)
    _bad_random_bytes(d)
    _phn_without_audio(d)
    with caplog.at_level(logging.WARNING):
        expect(_run_timit(root), 0)
    lines = [r.getMessage() for r in caplog.records if "could not be used" in r.getMessage()]
    assert len(lines) == 2
    assert any("2 file(s) could not be used: unreadable audio" in x for x in lines)
    assert _record(root)["coverage"]["n_total"] == 6


def test_strict_fails_on_the_first_bad_file(tmp_path, toy_registries):
    root = _timit(tmp_path / "timit")
    _bad_zero_byte(root / "TEST/DR2/MXYZ0")
    res = _run_timit(root, "--strict")
    expect(res, 2, "--strict", "SX11.WAV")
    assert not (tmp_path / "runs" / "records").exists()


def test_split_with_every_file_bad_is_an_error(tmp_path, toy_registries):
    root = _timit(tmp_path / "timit")
    d = root / "TEST/DR2/MXYZ0"
    (d / "SX10.WAV").write_bytes(b"")
    res = _run_timit(root)
    expect(res, 3, "split 'test' has no usable samples", "SX10.WAV")
    assert not (tmp_path / "runs" / "records").exists()


def _mfa(root: Path) -> tuple[Path, str]:
    root.mkdir()
    write_utterance(root, "ALL_049_F_ENG_ENG_HT1", IPA_ROWS, "long")
    write_utterance(root, "ALL_050_M_ENG_ENG_HT1", ARPA_ROWS, "short")
    write_utterance(root, "ALL_051_F_ENG_ENG_HT1", ARPA_ROWS, "long")
    test_id = load_textgrid_corpus(root=root).split("test").ids[0]
    return root, test_id.split("_ENG")[0].rsplit("_", 1)[0]


def _mfa_corrupt_textgrid(root, spk):
    sf.write(root / f"{spk}_F_ENG_ENG_HT9.wav", ramp(SR), SR)
    (root / f"{spk}_F_ENG_ENG_HT9.TextGrid").write_text('File type = "ooTextFile"\nnonsense\n')
    return "HT9.TextGrid", "unreadable TextGrid"


def _mfa_missing_phones_tier(root, spk):
    sf.write(root / f"{spk}_F_ENG_ENG_HT9.wav", ramp(SR), SR)
    (root / f"{spk}_F_ENG_ENG_HT9.TextGrid").write_text(
        textgrid_long(1.0, {"words": [(0, 1.0, "w")]}), encoding="utf-8")
    return "HT9.TextGrid", "no 'phones' tier"


def _mfa_zero_byte_wav(root, spk):
    write_utterance(root, f"{spk}_F_ENG_ENG_HT9", IPA_ROWS, "long")
    (root / f"{spk}_F_ENG_ENG_HT9.wav").write_bytes(b"")
    return "HT9.wav", "unreadable audio"


@pytest.mark.parametrize("make_bad", [_mfa_corrupt_textgrid, _mfa_missing_phones_tier,
                                      _mfa_zero_byte_wav], ids=lambda f: f.__name__.strip("_"))
def test_textgrid_unusable_file_is_counted(make_bad, tmp_path, toy_registries):
    root, spk = _mfa(tmp_path / "mfa")
    n_good = len(load_textgrid_corpus(root=root).split("test").ids)
    suffix, kind = make_bad(root, spk)
    res = cli(["run", "--task", "consonant-voicing", "--dataset", "mfa-textgrid",
               "--method", "toy-zcr", "--dataset-option", f"mfa-textgrid.root={root}",
               "--split", "test", "--bootstrap", "20", "--runs-dir", tmp_path / "runs",
               "--no-leaderboard"])
    expect(res, 0)
    cov = _record(root, "mfa-textgrid")["coverage"]
    assert cov["n_total"] == n_good + 1 and cov["n_unusable_files"] == 1
    bad = [f for f in cov["failures"] if f["stage"] == "corpus"][0]
    assert bad["id"].endswith(suffix) and bad["kind"] == kind
