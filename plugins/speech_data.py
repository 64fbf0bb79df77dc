"""Registers the embedded consonant dataset cut from the synthetic speech corpus."""

from __future__ import annotations

import bench
from bench.specs import DatasetSpec

# Must match the manifest version of bench/data/speech (a test checks it).
CORPUS_VERSION = "1.0.0"


@bench.hookimpl
def bench_register_datasets(register) -> None:  # type: ignore[no-untyped-def]
    """Register ``consonants-synthetic``."""
    register(DatasetSpec(
        name="consonants-synthetic",
        task="consonant-voicing",
        version=CORPUS_VERSION,
        description=("Voiced/voiceless consonant segments (V L NG M N Y ZH vs F TH T S K CH) cut "
                     "at exact phone alignments from 16 synthetic festival/espeak-ng speakers; "
                     "speaker-disjoint train/val/test plus TopCap's stratified 70/30 hold-out."),
        loader="bench.datasets.consonants.embedded:load_embedded_consonants",
        splits=("train", "val", "test", "paper-train", "paper-holdout"),
        eval_splits=("test",),
        embedded=True,
    ))
