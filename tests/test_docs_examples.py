"""The examples in docs/adding-a-metric.md and docs/adding-a-dataset.md run as written."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench.discovery import loader
from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture
def example_registries(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import brier_metric
    import csv_segments
    import toy_plugin

    regs = loader.load_registries(extra_plugins=[
        ("toy", toy_plugin), ("brier", brier_metric), ("csv", csv_segments)])
    assert [p.status for p in regs.plugins if p.name in ("brier", "csv")] == ["ok", "ok"]
    monkeypatch.setattr(loader, "_cached", regs)
    yield regs
    for name in ("brier_metric", "csv_segments"):
        sys.modules.pop(name, None)


def _corpus(root: Path, rng: np.random.Generator) -> None:
    t = np.arange(16000) / 16000
    rows = []
    for k in range(12):
        voiced = k % 2
        wave = 0.5 * np.sin(2 * np.pi * 130 * t) if voiced else 0.3 * rng.standard_normal(len(t))
        sf.write(root / f"u{k}.wav", wave.astype(np.float32), 16000)
        for start in (0.1, 0.4):
            rows.append({"split": "train" if k < 8 else "test", "wav": f"u{k}.wav",
                         "start": start, "end": start + 0.1, "phone": "M" if voiced else "S",
                         "label": voiced, "speaker": f"s{k % 3}"})
    with open(root / "segments.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_example_metric_and_dataset_run_end_to_end(tmp_path, example_registries):
    data = tmp_path / "data"
    data.mkdir()
    _corpus(data, np.random.default_rng(0))
    unit = Unit(task="consonant-voicing", method="toy-zcr", dataset="csv-segments", split="test",
                metrics=("accuracy", "brier"), runs_dir=str(tmp_path / "runs"), bootstrap=50,
                dataset_options={"root": str(data)})
    rec = read_record(Path(run_unit(unit)))
    assert rec["coverage"]["n_ok"] == 8
    brier = rec["metrics"]["brier"]
    assert brier["status"] == "ok" and brier["direction"] == "lower"
    assert 0.0 <= brier["value"] < 0.25  # zero-crossing rate separates a tone from noise
    assert brier["fingerprint"]["metric"] == "brier"


def test_example_dataset_names_the_file_it_cannot_read(tmp_path, example_registries):
    data = tmp_path / "data"
    data.mkdir()
    _corpus(data, np.random.default_rng(1))
    (data / "u9.wav").write_bytes(b"not audio")
    unit = Unit(task="consonant-voicing", method="toy-zcr", dataset="csv-segments", split="test",
                metrics=("accuracy",), runs_dir=str(tmp_path / "runs"), bootstrap=50,
                dataset_options={"root": str(data)})
    rec = read_record(Path(run_unit(unit)))
    assert rec["coverage"]["n_failed"] == 2
    assert all("u9.wav: cannot read audio" in f["message"] for f in rec["coverage"]["failures"])
