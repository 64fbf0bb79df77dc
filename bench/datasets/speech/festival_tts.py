"""Festival synthesis in batch, with phone timings from each utterance's Segment relation.

One ``festival -b`` run per speaker synthesises all its texts; a Scheme script writes each
waveform and prints the segment names with their end times (build time only).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

MARK = "@@UTT"


@dataclass(frozen=True)
class FestivalResult:
    """Synthesised audio (float32) and festival's phones as (symbol, start_s, end_s)."""

    audio: np.ndarray
    sample_rate: int
    phones: list[tuple[str, float, float]]


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def synth_batch(texts: list[str], voice: str, f0_mean: float | None = None,
                f0_std: float | None = None, duration_stretch: float | None = None,
                timeout: float = 600.0) -> list[FestivalResult]:
    """Synthesise ``texts`` with festival ``voice`` (e.g. ``kal_diphone``).

    ``f0_mean``/``f0_std`` set the target pitch of voices with linear-regression intonation;
    ``duration_stretch`` scales phone durations.
    """
    exe = shutil.which("festival")
    if exe is None:
        raise RuntimeError("festival is not installed (apt-get install festival festvox-kallpc16k "
                           "festvox-kdlpc16k festvox-us-slt-hts)")
    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"(voice.select '{voice})"]
        if f0_mean is not None:
            lines.append(f"(set! int_lr_params '((target_f0_mean {f0_mean}) "
                         f"(target_f0_std {f0_std or 15}) (model_f0_mean 170) "
                         "(model_f0_std 34)))")
        if duration_stretch is not None:
            lines.append(f"(Parameter.set 'Duration_Stretch {duration_stretch})")
        for i, text in enumerate(texts):
            wav = Path(tmp) / f"{i}.wav"
            lines.append(
                f"(set! utt (utt.synth (Utterance Text {_scheme_string(text)})))\n"
                f"(utt.save.wave utt \"{wav}\" 'riff)\n"
                f"(format t \"{MARK} {i}\\n\")\n"
                "(mapcar (lambda (s) (format t \"%s %f\\n\" (item.name s) "
                "(item.feat s \"end\"))) (utt.relation.items utt 'Segment))"
            )
        script = Path(tmp) / "synth.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run([exe, "-b", str(script)], check=False, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"festival failed on {script}: {proc.stderr.strip()[-500:]}")
        ends: dict[int, list[tuple[str, float]]] = {}
        current = -1
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == MARK:
                current = int(parts[1])
                ends[current] = []
            elif len(parts) == 2 and current >= 0:
                ends[current].append((parts[0], float(parts[1])))
        results = []
        for i in range(len(texts)):
            if i not in ends:
                raise RuntimeError(f"festival printed no segments for text {i}: {texts[i]!r}; "
                                   f"stderr: {proc.stderr.strip()[-300:]}")
            audio, sr = sf.read(Path(tmp) / f"{i}.wav", dtype="float32", always_2d=False)
            phones, start = [], 0.0
            for name, end in ends[i]:
                phones.append((name, start, end))
                start = end
            results.append(FestivalResult(audio=audio, sample_rate=sr, phones=phones))
        return results
