"""Example dataset plugin (docs/adding-a-dataset.md): consonant segments listed in a CSV.

``segments.csv`` beside the audio has one row per segment::

    split,wav,start,end,phone,label,speaker
    train,a.wav,0.10,0.18,M,1,s1

``label`` is 1 for voiced, 0 for voiceless; times are in seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path

import bench
from bench.datasets.base import LazySplit
from bench.hashing import hash_json, sha256_file
from bench.interfaces import SampleError
from bench.samples import Segment
from bench.specs import DatasetSpec

COLUMNS = ("split", "wav", "start", "end", "phone", "label", "speaker")


class CsvSegments:
    name = "csv-segments"
    version = "1"

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        table = self.root / "segments.csv"
        if not table.is_file():
            raise SampleError(f"{table}: no such file (csv-segments.root={root})")
        with open(table, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = set(COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise SampleError(f"{table}: missing columns {sorted(missing)}")
            self.rows = list(reader)

    def split(self, name: str) -> LazySplit:
        rows = [r for r in self.rows if r["split"] == name]
        if not rows:
            raise SampleError(f"{self.root / 'segments.csv'}: no rows for split {name!r}")
        ids = [f"{r['wav']}@{r['start']}" for r in rows]
        hashes, loaders = {}, {}
        for sample_id, row in zip(ids, rows):
            wav = self.root / row["wav"]
            # the content hash covers the audio bytes and the row: either changing changes the split
            hashes[sample_id] = hash_json([sha256_file(wav) if wav.is_file() else "missing", row])
            loaders[sample_id] = lambda row=row, sample_id=sample_id: self._load(sample_id, row)
        return LazySplit(name, ids, hashes, loaders)

    def _load(self, sample_id: str, row: dict[str, str]) -> Segment:
        import soundfile as sf

        path = self.root / row["wav"]
        try:
            audio, rate = sf.read(str(path), dtype="float32")
        except Exception as exc:  # soundfile raises several types; the message names the file
            raise SampleError(f"{path}: cannot read audio ({exc})") from None
        a, b = int(float(row["start"]) * rate), int(float(row["end"]) * rate)
        return Segment(id=sample_id, waveform=audio[a:b], sample_rate=rate, phone=row["phone"],
                       label=int(row["label"]), speaker=row["speaker"], corpus="csv")


def load_csv_segments(root: str) -> CsvSegments:
    return CsvSegments(root)


@bench.hookimpl
def bench_register_datasets(register) -> None:  # type: ignore[no-untyped-def]
    """Consonant segments listed in a CSV file."""
    register(DatasetSpec(name="csv-segments", task="consonant-voicing", version="1",
                         description="consonant segments listed in <root>/segments.csv",
                         loader=f"{__name__}:load_csv_segments", splits=("train", "test")))
