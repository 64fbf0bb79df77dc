"""TIMIT (.PHN + NIST SPHERE) and MFA TextGrid adapters on small corpora written in those formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench.datasets.consonants.textgrid import load_textgrid_corpus, phone_to_arpabet
from bench.datasets.consonants.timit import load_timit
from bench.interfaces import SampleError
from bench.samples import Segment

SR = 16000


# --- writers for the native formats ------------------------------------------------------------
def write_sphere(path: Path, samples: np.ndarray, rate: int = SR) -> None:
    """A NIST SPHERE file as TIMIT ships it: 1024-byte ASCII header, then 16-bit little-endian PCM."""
    fields = [
        "NIST_1A", "   1024", "database_id -s5 TIMIT", "database_version -s3 1.0",
        f"utterance_id -s{len(path.stem)} {path.stem.lower()}", "channel_count -i 1",
        f"sample_count -i {len(samples)}", f"sample_rate -i {rate}",
        f"sample_min -i {int(samples.min())}", f"sample_max -i {int(samples.max())}",
        "sample_n_bytes -i 2", "sample_byte_format -s2 01", "sample_sig_bits -i 16", "end_head",
    ]
    header = ("\n".join(fields) + "\n").encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(1024, b" ") + samples.astype("<i2").tobytes())


def ramp(n: int, offset: int = 0) -> np.ndarray:
    """int16 samples whose values tell where a cut was made."""
    return ((np.arange(n) + offset) % 20000 - 10000).astype(np.int16)


PHN = "0 800 h#\n800 1600 s\n1600 2400 ih\n2400 3000 tcl\n3000 3400 t\n3400 4200 m\n4200 4800 h#\n"


def textgrid_long(xmax: float, tiers: dict[str, list[tuple[float, float, str]]]) -> str:
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0 ", f"xmax = {xmax} ",
           "tiers? <exists> ", f"size = {len(tiers)} ", "item []: "]
    for k, (name, rows) in enumerate(tiers.items(), start=1):
        out += [f"    item [{k}]:", '        class = "IntervalTier" ', f'        name = "{name}" ',
                "        xmin = 0 ", f"        xmax = {xmax} ", f"        intervals: size = {len(rows)} "]
        for j, (a, b, text) in enumerate(rows, start=1):
            out += [f"        intervals [{j}]:", f"            xmin = {a} ", f"            xmax = {b} ",
                    f'            text = "{text}" ']
    return "\n".join(out) + "\n"


def textgrid_short(xmax: float, tiers: dict[str, list[tuple[float, float, str]]]) -> str:
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax), "<exists>",
           str(len(tiers))]
    for name, rows in tiers.items():
        out += ['"IntervalTier"', f'"{name}"', "0", str(xmax), str(len(rows))]
        for a, b, text in rows:
            out += [str(a), str(b), f'"{text}"']
    return "\n".join(out) + "\n"


def full_cover(rows: list[tuple[float, float, str]], xmax: float) -> list[tuple[float, float, str]]:
    """Rows plus empty intervals so that the tier covers [0, xmax] as MFA writes it."""
    out, t = [], 0.0
    for a, b, text in rows:
        if a > t:
            out.append((t, a, ""))
        out.append((a, b, text))
        t = b
    if t < xmax:
        out.append((t, xmax, ""))
    return out


IPA_ROWS = [(0.10, 0.20, "tʃ"), (0.20, 0.30, "ɪ"), (0.30, 0.40, "ŋ"), (0.40, 0.50, "tʰ"),
            (0.50, 0.60, "s"), (0.60, 0.70, "kʰ"), (0.70, 0.80, "ɫ"), (0.80, 0.90, "m")]
ARPA_ROWS = [(0.10, 0.20, "CH"), (0.20, 0.30, "IH1"), (0.30, 0.40, "NG"), (0.40, 0.50, "T"),
             (0.50, 0.60, "S"), (0.60, 0.70, "AH0"), (0.70, 0.80, "K"), (0.80, 0.90, "sil")]


def write_utterance(folder: Path, stem: str, rows, fmt: str, rate: int = SR, seconds: float = 1.0) -> None:
    n = int(seconds * rate)
    sf.write(folder / f"{stem}.wav", ramp(n), rate, subtype="PCM_16")
    tiers = {"words": [(0.0, seconds, "word")], "phones": full_cover(rows, seconds)}
    writer = textgrid_long if fmt == "long" else textgrid_short
    (folder / f"{stem}.TextGrid").write_text(writer(seconds, tiers), encoding="utf-8")


# --- TIMIT --------------------------------------------------------------------------------------
@pytest.fixture()
def timit_root(tmp_path: Path) -> Path:
    root = tmp_path / "timit"
    write_sphere(root / "TRAIN/DR1/FCJF0/SA1.WAV", ramp(4800))
    (root / "TRAIN/DR1/FCJF0/SA1.PHN").write_text(PHN)
    write_sphere(root / "TRAIN/DR1/FCJF0/SA2.WAV", ramp(4800, 7))
    (root / "TRAIN/DR1/FCJF0/SA2.PHN").write_text(PHN)
    write_sphere(root / "test/dr3/mxyz0/sx10.wav", ramp(4800, 3))  # lower-case tree
    (root / "test/dr3/mxyz0/sx10.phn").write_text(PHN)
    return root


def test_timit_segments_labels_and_times(timit_root: Path) -> None:
    data = load_timit(root=str(timit_root))
    assert data.problems == []
    train, test = data.split("train"), data.split("test")
    assert train.ids == [
        "TRAIN/DR1/FCJF0/SA1/001-s", "TRAIN/DR1/FCJF0/SA1/004-t", "TRAIN/DR1/FCJF0/SA1/005-m",
        "TRAIN/DR1/FCJF0/SA2/001-s", "TRAIN/DR1/FCJF0/SA2/004-t", "TRAIN/DR1/FCJF0/SA2/005-m",
    ]
    assert test.ids == ["TEST/DR3/MXYZ0/SX10/001-s", "TEST/DR3/MXYZ0/SX10/004-t", "TEST/DR3/MXYZ0/SX10/005-m"]
    seg = train.get("TRAIN/DR1/FCJF0/SA1/004-t")
    assert isinstance(seg, Segment)
    assert (seg.phone, seg.label, seg.speaker, seg.corpus) == ("T", 0, "FCJF0", "timit")
    assert (seg.start, seg.end, seg.sample_rate) == (3000 / SR, 3400 / SR, SR)
    assert seg.waveform.dtype == np.float32
    np.testing.assert_array_equal(seg.waveform, ramp(4800)[3000:3400] / 32768.0)
    m = test.get("TEST/DR3/MXYZ0/SX10/005-m")
    assert (m.phone, m.label, m.speaker) == ("M", 1, "MXYZ0")
    np.testing.assert_array_equal(m.waveform, ramp(4800, 3)[3400:4200] / 32768.0)
    assert train.meta == {"n_voiced": 2, "n_voiceless": 4}
    with pytest.raises(KeyError, match="no split 'dev'"):
        data.split("dev")


def test_timit_manifest_hash_follows_audio_bytes(timit_root: Path) -> None:
    first = load_timit(root=timit_root).split("train").manifest_hash
    assert load_timit(root=timit_root).split("train").manifest_hash == first
    write_sphere(timit_root / "TRAIN/DR1/FCJF0/SA2.WAV", ramp(4800, 8))
    assert load_timit(root=timit_root).split("train").manifest_hash != first


def test_timit_bad_files_are_reported_and_skipped(timit_root: Path) -> None:
    spk = timit_root / "TRAIN/DR1/FCJF0"
    write_sphere(spk / "SX1.WAV", ramp(4800))  # no .PHN
    (spk / "SX2.PHN").write_text(PHN)  # no audio
    write_sphere(spk / "SX3.WAV", ramp(4800))
    (spk / "SX3.PHN").write_text("0 800 h#\n800 x1600 s\n")  # bad line
    write_sphere(spk / "SX4.WAV", ramp(2000))
    (spk / "SX4.PHN").write_text(PHN)  # phones beyond the 2000 samples of audio
    (spk / "SX5.WAV").write_bytes(b"this is not audio" * 10)  # corrupt audio
    (spk / "SX5.PHN").write_text(PHN)
    data = load_timit(root=timit_root)
    found = {Path(p.path).name: p.message for p in data.problems}
    assert set(found) == {"SX1.WAV", "SX2.PHN", "SX3.PHN", "SX4.PHN", "SX5.WAV"}
    assert "without a .PHN" in found["SX1.WAV"]
    assert "without audio" in found["SX2.PHN"]
    assert "line 2" in found["SX3.PHN"] and "x1600" in found["SX3.PHN"]
    assert "0.3000 s" in found["SX4.PHN"] and "0.1250 s" in found["SX4.PHN"]
    assert "cannot read audio" in found["SX5.WAV"]
    assert all(str(spk) in p.path for p in data.problems)
    assert len(data.split("train").ids) == 6  # the good utterances still load


def test_timit_unreadable_audio_at_get_names_the_file(timit_root: Path) -> None:
    split = load_timit(root=timit_root).split("test")
    wav = timit_root / "test/dr3/mxyz0/sx10.wav"
    wav.write_bytes(b"\0" * 100)  # damaged after loading
    with pytest.raises(SampleError, match="sx10.wav"):
        split.get(split.ids[0])
    with pytest.raises(SampleError, match="no sample"):
        split.get("TEST/nothing")


def test_timit_root_option_and_env(timit_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_TIMIT_ROOT", raising=False)
    with pytest.raises(ValueError, match="BENCH_TIMIT_ROOT"):
        load_timit()
    monkeypatch.setenv("BENCH_TIMIT_ROOT", str(timit_root))
    assert len(load_timit().split("test").ids) == 3
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_timit(root=timit_root / "missing")
    with pytest.raises(FileNotFoundError, match="no TRAIN or TEST"):
        load_timit(root=timit_root / "TRAIN/DR1")


# --- MFA TextGrids ------------------------------------------------------------------------------
@pytest.fixture()
def mfa_root(tmp_path: Path) -> Path:
    root = tmp_path / "allsstar"
    root.mkdir()
    write_utterance(root, "ALL_049_F_ENG_ENG_HT1", IPA_ROWS, "long")
    write_utterance(root, "ALL_050_M_ENG_ENG_HT1", ARPA_ROWS, "short", rate=22050)
    write_utterance(root, "ALL_051_F_ENG_ENG_HT1", ARPA_ROWS, "long")
    write_utterance(root, "ALL_051_F_ENG_ENG_HT2", IPA_ROWS, "short")
    return root


def phones_of(split, stem: str) -> list[tuple[str, int]]:
    return [(split.get(i).phone, split.get(i).label) for i in split.ids if i.startswith(stem)]


def test_textgrid_ipa_and_arpabet_in_both_formats(mfa_root: Path) -> None:
    data = load_textgrid_corpus(root=mfa_root)
    assert data.problems == []
    everything = data.split("all")
    ipa = [("CH", 0), ("NG", 1), ("S", 0), ("M", 1)]  # tʰ, kʰ dropped, ɫ and ɪ not task phones
    arpa = [("CH", 0), ("NG", 1), ("T", 0), ("S", 0), ("K", 0)]
    assert phones_of(everything, "ALL_049_F_ENG_ENG_HT1/") == ipa
    assert phones_of(everything, "ALL_051_F_ENG_ENG_HT2/") == ipa
    assert phones_of(everything, "ALL_050_M_ENG_ENG_HT1/") == arpa
    assert phones_of(everything, "ALL_051_F_ENG_ENG_HT1/") == arpa
    seg = everything.get("ALL_049_F_ENG_ENG_HT1/0007-M")
    assert (seg.start, seg.end, seg.speaker, seg.meta["source_label"]) == (0.8, 0.9, "ALL_049", "m")
    np.testing.assert_array_equal(seg.waveform, ramp(SR)[int(0.8 * SR) : int(0.9 * SR)] / 32768.0)


def test_textgrid_resamples_to_16k(mfa_root: Path) -> None:
    seg = load_textgrid_corpus(root=mfa_root).split("all").get("ALL_050_M_ENG_ENG_HT1/0000-CH")
    assert seg.sample_rate == SR
    assert len(seg.waveform) == int(0.2 * SR) - int(0.1 * SR)
    assert seg.waveform.dtype == np.float32


def test_textgrid_aspirated_flag(mfa_root: Path) -> None:
    data = load_textgrid_corpus(root=mfa_root, aspirated="map")
    got = phones_of(data.split("all"), "ALL_049_F_ENG_ENG_HT1/")
    assert got == [("CH", 0), ("NG", 1), ("T", 0), ("S", 0), ("K", 0), ("M", 1)]
    assert phone_to_arpabet("tʰ") is None and phone_to_arpabet("tʰ", "map") == "T"
    assert phone_to_arpabet("AH0") is None and phone_to_arpabet("ZH") == "ZH" and phone_to_arpabet("ʒ") == "ZH"
    with pytest.raises(ValueError, match="aspirated"):
        load_textgrid_corpus(root=mfa_root, aspirated="keep")


def test_textgrid_speaker_disjoint_seeded_splits(mfa_root: Path) -> None:
    def test_speakers(seed: int) -> set[str]:
        data = load_textgrid_corpus(root=mfa_root, test_fraction=0.34, seed=seed)
        train, test, every = (data.split(s) for s in ("train", "test", "all"))
        train_spk = {train.get(i).speaker for i in train.ids}
        test_spk = {test.get(i).speaker for i in test.ids}
        assert train_spk.isdisjoint(test_spk) and len(test_spk) == 1
        assert sorted(train.ids + test.ids) == sorted(every.ids)
        return test_spk

    assert test_speakers(0) == test_speakers(0)
    assert len({frozenset(test_speakers(s)) for s in range(8)}) > 1
    custom = load_textgrid_corpus(root=mfa_root, speaker_pattern=r"^ALL_\d+_(\w)_")
    assert {custom.split("all").get(i).speaker for i in custom.split("all").ids} == {"F", "M"}


def test_textgrid_bad_files_are_reported_and_skipped(mfa_root: Path) -> None:
    sf.write(mfa_root / "ALL_060_F_ENG_ENG_HT1.wav", ramp(SR), SR)  # no TextGrid
    (mfa_root / "ALL_061_F_ENG_ENG_HT1.TextGrid").write_text(
        textgrid_long(1.0, {"phones": [(0, 1.0, "s")]}), encoding="utf-8")  # no audio
    sf.write(mfa_root / "ALL_062_F_ENG_ENG_HT1.wav", ramp(SR), SR)
    (mfa_root / "ALL_062_F_ENG_ENG_HT1.TextGrid").write_text("File type = \"ooTextFile\"\nnonsense\n")
    write_utterance(mfa_root, "ALL_063_F_ENG_ENG_HT1", IPA_ROWS, "long")
    (mfa_root / "ALL_063_F_ENG_ENG_HT1.TextGrid").write_text(
        textgrid_long(1.0, {"words": [(0, 1.0, "w")]}), encoding="utf-8")  # no phones tier
    write_utterance(mfa_root, "ALL_064_F_ENG_ENG_HT1", IPA_ROWS, "short")
    sf.write(mfa_root / "ALL_064_F_ENG_ENG_HT1.wav", ramp(SR // 2), SR)  # audio shorter than phones
    write_utterance(mfa_root, "ALL_065_F_ENG_ENG_HT1", IPA_ROWS, "long")
    (mfa_root / "ALL_065_F_ENG_ENG_HT1.wav").write_bytes(b"RIFF....WAVEjunk")  # corrupt audio
    data = load_textgrid_corpus(root=mfa_root)
    found = {Path(p.path).name: p.message for p in data.problems}
    assert set(found) == {
        "ALL_060_F_ENG_ENG_HT1.wav", "ALL_061_F_ENG_ENG_HT1.TextGrid", "ALL_062_F_ENG_ENG_HT1.TextGrid",
        "ALL_063_F_ENG_ENG_HT1.TextGrid", "ALL_064_F_ENG_ENG_HT1.TextGrid", "ALL_065_F_ENG_ENG_HT1.wav",
    }
    assert "without a .TextGrid" in found["ALL_060_F_ENG_ENG_HT1.wav"]
    assert "without audio" in found["ALL_061_F_ENG_ENG_HT1.TextGrid"]
    assert "cannot parse TextGrid" in found["ALL_062_F_ENG_ENG_HT1.TextGrid"]
    assert "no tier named 'phones'" in found["ALL_063_F_ENG_ENG_HT1.TextGrid"]
    assert "audio lasts 0.5000 s" in found["ALL_064_F_ENG_ENG_HT1.TextGrid"]
    assert "cannot read audio" in found["ALL_065_F_ENG_ENG_HT1.wav"]
    assert len(data.split("all").ids) == 18  # the four good recordings


def test_textgrid_unreadable_audio_and_missing_root(mfa_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    split = load_textgrid_corpus(root=mfa_root).split("all")
    (mfa_root / "ALL_051_F_ENG_ENG_HT2.wav").write_bytes(b"garbage")
    with pytest.raises(SampleError, match="ALL_051_F_ENG_ENG_HT2.wav"):
        split.get("ALL_051_F_ENG_ENG_HT2/0000-CH")
    monkeypatch.delenv("BENCH_TEXTGRID_ROOT", raising=False)
    with pytest.raises(ValueError, match="BENCH_TEXTGRID_ROOT"):
        load_textgrid_corpus()
    monkeypatch.setenv("BENCH_TEXTGRID_ROOT", str(mfa_root))
    reloaded = load_textgrid_corpus()  # the damaged recording is now skipped at load time
    assert reloaded.split("all").ids == [i for i in split.ids if not i.startswith("ALL_051_F_ENG_ENG_HT2/")]
    assert [Path(p.path).name for p in reloaded.problems] == ["ALL_051_F_ENG_ENG_HT2.wav"]


def test_plugin_registers_both_corpora(monkeypatch: pytest.MonkeyPatch) -> None:
    import pluggy

    import plugins.speech_corpora as plugin
    from bench import hookspecs
    from bench.lazy import resolve

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    specs: list = []
    pm.hook.bench_register_datasets(register=specs.append)
    assert {s.name: (s.task, s.embedded) for s in specs} == {
        "timit": ("consonant-voicing", False), "mfa-textgrid": ("consonant-voicing", False),
        "topcap-features": ("consonant-voicing", False),
    }
    monkeypatch.delenv("BENCH_TIMIT_ROOT", raising=False)
    monkeypatch.delenv("BENCH_TEXTGRID_ROOT", raising=False)
    monkeypatch.delenv("BENCH_TOPCAP_FEATURES", raising=False)
    for spec, env in zip(specs, ("BENCH_TIMIT_ROOT", "BENCH_TEXTGRID_ROOT")):
        with pytest.raises(ValueError, match=env):
            resolve(spec.loader)()
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="BENCH_TOPCAP_FEATURES"):
        resolve(specs[2].loader)()


def test_consonant_runner_fits_train_and_scores_test(mfa_root: Path) -> None:
    from bench.tasks.consonant import ConsonantRunner
    from reference_models.speech_baselines import StftCnn

    data = load_textgrid_corpus(root=mfa_root, test_fraction=0.34, seed=0)
    test = data.split("test")
    runner, method = ConsonantRunner(), StftCnn(8, epochs=2, batch_size=8)
    info = runner.prepare(method, data, test, seed=0)
    assert info["train_split"] == "train" and info["n_train"] == len(data.split("train").ids)
    for sample_id in test.ids:
        sample = test.get(sample_id)
        runner.check(sample, runner.predict(method, sample))
    with pytest.raises(KeyError, match="nothing is held out"):
        data.train_split_for("all")
