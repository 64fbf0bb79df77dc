"""Build the synthetic speech corpus with festival and espeak-ng (dev machines only).

    python -m bench.datasets.speech.build --out bench/data/speech --seed 0

Each speaker gets seeded, phone-balanced texts; utterances of 2-4 s are kept until the
speaker's share of speech is reached. Audio is resampled to 16 kHz mono, peak-normalised and
stored as 16-bit FLAC; the manifest records the phone alignments (ARPAbet) and file checksums.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from bench.datasets.speech.corpus import sha256_file
from bench.datasets.speech.phone_maps import map_phones
from bench.datasets.speech.wordlists import TextSampler

NAME = "synthetic-speech"
VERSION = "1.0.0"
SAMPLE_RATE = 16000
PEAK = 0.9  # every utterance is scaled so that max |x| = PEAK
MIN_DUR, MAX_DUR = 2.0, 4.0


@dataclass(frozen=True)
class SpeakerRecipe:
    """How one speaker is made: engine, voice, voice settings, sex and split.

    ``speed`` > 1 plays the engine output faster (higher pitch and formants, shorter phones):
    a resampling trick that turns one festival voice into a second, distinct speaker.
    """

    id: str
    engine: str
    voice: str
    sex: str
    split: str
    settings: dict[str, Any] = field(default_factory=dict)
    speed: float = 1.0


SPEAKERS: tuple[SpeakerRecipe, ...] = (
    # festival voices (kal and ked are male diphone voices, slt a female HTS voice)
    SpeakerRecipe("fest-kal", "festival", "kal_diphone", "M", "train"),
    SpeakerRecipe("fest-ked", "festival", "ked_diphone", "M", "train"),
    SpeakerRecipe("fest-kal-hi", "festival", "kal_diphone", "M", "train",
                  {"f0_mean": 140, "f0_std": 22, "duration_stretch": 0.95}),
    SpeakerRecipe("fest-slt-fast", "festival", "cmu_us_slt_arctic_hts", "F", "train", speed=1.1),
    SpeakerRecipe("fest-ked-low", "festival", "ked_diphone", "M", "val",
                  {"f0_mean": 85, "f0_std": 10, "duration_stretch": 1.2}),
    SpeakerRecipe("fest-slt", "festival", "cmu_us_slt_arctic_hts", "F", "test"),
    # espeak-ng accents with voice variants (+f = female, +m = male) and pitch/rate settings
    SpeakerRecipe("esp-us-f2", "espeak", "en-us+f2", "F", "train", {"rate": 165, "pitch": 55}),
    SpeakerRecipe("esp-us-m1", "espeak", "en-us+m1", "M", "train", {"rate": 160, "pitch": 40}),
    SpeakerRecipe("esp-gb-f3", "espeak", "en+f3", "F", "train", {"rate": 150, "pitch": 60}),
    SpeakerRecipe("esp-sc-m2", "espeak", "en-gb-scotland+m2", "M", "train",
                  {"rate": 155, "pitch": 35}),
    SpeakerRecipe("esp-rp-f5", "espeak", "en-gb-x-rp+f5", "F", "train", {"rate": 170, "pitch": 50}),
    SpeakerRecipe("esp-029-m4", "espeak", "en-029+m4", "M", "train", {"rate": 150, "pitch": 45}),
    SpeakerRecipe("esp-sc-f1", "espeak", "en-gb-scotland+f1", "F", "val",
                  {"rate": 160, "pitch": 65}),
    SpeakerRecipe("esp-nyc-m6", "espeak", "en-us-nyc+m6", "M", "val", {"rate": 175, "pitch": 30}),
    SpeakerRecipe("esp-gb-m3", "espeak", "en+m3", "M", "test", {"rate": 145, "pitch": 50}),
    SpeakerRecipe("esp-029-f4", "espeak", "en-029+f4", "F", "test", {"rate": 155, "pitch": 70}),
)

Raw = tuple[np.ndarray, int, list[tuple[str, float, float]]]  # audio, rate, engine phones


def _synthesiser(recipe: SpeakerRecipe) -> Callable[[list[str]], list[Raw]]:
    """A function that synthesises a batch of texts for this speaker."""
    if recipe.engine == "festival":
        from bench.datasets.speech import festival_tts

        def run(texts: list[str]) -> list[Raw]:
            res = festival_tts.synth_batch(texts, recipe.voice, **recipe.settings)
            return [(r.audio, r.sample_rate, r.phones) for r in res]
        return run
    if recipe.engine == "espeak":
        from bench.datasets.speech import espeak_tts

        def run(texts: list[str]) -> list[Raw]:
            res = espeak_tts.synth_batch(texts, recipe.voice, seed=0, **recipe.settings)
            return [(r.audio, r.sample_rate, r.phones) for r in res]
        return run
    raise ValueError(f"unknown engine {recipe.engine!r}")


def finish_utterance(audio: np.ndarray, rate: int, phones: list[tuple[str, float, float]],
                     engine: str, speed: float = 1.0) -> tuple[np.ndarray, list[list[Any]]]:
    """Resample to 16 kHz, peak-normalise and turn engine phones into clean ARPAbet intervals.

    Phones are clipped to the audio, gaps at either end become SIL, and zero-length phones
    (engine markers with no audio) are removed.
    """
    if audio.ndim != 1:
        audio = audio.mean(axis=1)
    wave = soxr.resample(audio.astype(np.float64), rate * speed, SAMPLE_RATE).astype(np.float32)
    peak = float(np.abs(wave).max())
    if peak <= 0:
        raise RuntimeError("engine produced silence")
    wave = wave * (PEAK / peak)
    total = len(wave) / SAMPLE_RATE
    mapped = map_phones(engine, [(s, a / speed, b / speed) for s, a, b in phones])
    out: list[list[Any]] = []
    for label, start, end in mapped:
        start, end = min(max(start, 0.0), total), min(max(end, 0.0), total)
        if end - start < 1e-4:
            continue
        if out and out[-1][0] == "SIL" and label == "SIL":
            out[-1][2] = end
            continue
        out.append([label, start, end])
    if not out:
        raise RuntimeError("no phones left after alignment cleanup")
    if out[0][1] > 0:
        if out[0][0] == "SIL":
            out[0][1] = 0.0
        else:
            out.insert(0, ["SIL", 0.0, out[0][1]])
    if out[-1][2] < total:
        if out[-1][0] == "SIL":
            out[-1][2] = total
        else:
            out.append(["SIL", out[-1][2], total])
    for p in out:  # later phones start where earlier ones end, so rounding keeps order
        p[1], p[2] = round(p[1], 5), round(p[2], 5)
    return wave, out


def build_speaker(recipe: SpeakerRecipe, index: int, seed: int, seconds: float,
                  audio_dir: Path, max_rounds: int = 20) -> list[dict[str, Any]]:
    """Synthesise one speaker's utterances until ``seconds`` of speech are kept."""
    sampler = TextSampler(seed * 1000 + index)
    synth = _synthesiser(recipe)
    kept: list[dict[str, Any]] = []
    total = 0.0
    for _ in range(max_rounds):
        texts = [sampler.text(int(sampler.rng.integers(4, 10))) for _ in range(12)]
        for text, (audio, rate, phones) in zip(texts, synth(texts)):
            try:
                wave, aligned = finish_utterance(audio, rate, phones, recipe.engine, recipe.speed)
            except ValueError as err:
                raise RuntimeError(f"speaker {recipe.id}, text {text!r}: {err}; "
                                   f"engine phones {[p[0] for p in phones]}") from err
            duration = len(wave) / SAMPLE_RATE
            if not MIN_DUR <= duration <= MAX_DUR:
                continue
            utt_id = f"{recipe.id}-{len(kept):03d}"
            rel = f"audio/{utt_id}.flac"
            sf.write(audio_dir.parent / rel, wave, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
            kept.append({"id": utt_id, "speaker": recipe.id, "text": text, "phones": aligned,
                         "duration": round(duration, 5), "file": rel,
                         "sha256": sha256_file(audio_dir.parent / rel)})
            total += duration
            if total >= seconds:
                return kept
    raise RuntimeError(f"speaker {recipe.id}: only {total:.1f} s of 2-4 s utterances after "
                       f"{max_rounds} rounds")


def build(out: Path, seed: int = 0, seconds_per_speaker: float = 52.0,
          speakers: tuple[SpeakerRecipe, ...] = SPEAKERS) -> dict[str, Any]:
    """Build the corpus into ``out`` (audio/ and manifest.json) and return the manifest."""
    out = Path(out)
    audio_dir = out / "audio"
    if audio_dir.exists():
        shutil.rmtree(audio_dir)
    audio_dir.mkdir(parents=True)
    utterances: list[dict[str, Any]] = []
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for index, recipe in enumerate(speakers):
        utts = build_speaker(recipe, index, seed, seconds_per_speaker, audio_dir)
        utterances.extend(utts)
        splits[recipe.split].extend(u["id"] for u in utts)
        print(f"{recipe.id}: {len(utts)} utterances, {sum(u['duration'] for u in utts):.1f} s",
              flush=True)
    manifest = {
        "name": NAME, "version": VERSION, "sample_rate": SAMPLE_RATE, "seed": seed,
        "speakers": {r.id: {"engine": r.engine, "voice": r.voice, "sex": r.sex, "split": r.split,
                            "settings": {**r.settings, **({"speed": r.speed} if r.speed != 1.0
                                                          else {})}}
                     for r in speakers},
        "splits": splits,
        "utterances": utterances,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/data/speech"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds-per-speaker", type=float, default=52.0)
    args = parser.parse_args(argv)
    manifest = build(args.out, args.seed, args.seconds_per_speaker)
    total = sum(u["duration"] for u in manifest["utterances"])
    print(f"{len(manifest['utterances'])} utterances, {total / 60:.2f} min, written to {args.out}")


if __name__ == "__main__":
    main()
