"""Registers adapters for real speech corpora that users hold locally (never shipped or downloaded)."""

from __future__ import annotations

from collections.abc import Callable

import bench
from bench.specs import DatasetSpec

TASK = "consonant-voicing"

DATASETS = (
    DatasetSpec(
        name="timit", task=TASK, version="1",
        description="TIMIT consonants cut at the corpus's .PHN boundaries; splits = TIMIT's TRAIN/TEST. "
        "Needs option root= or BENCH_TIMIT_ROOT.",
        loader="bench.datasets.consonants.timit:load_timit",
        splits=("train", "test"), eval_splits=("test",), embedded=False,
        citation="Garofolo et al., TIMIT Acoustic-Phonetic Continuous Speech Corpus, LDC93S1, 1993",
        license="LDC User Agreement",
    ),
    DatasetSpec(
        name="mfa-textgrid", task=TASK, version="1",
        description="Consonants from a folder of <name>.wav + <name>.TextGrid aligned by the Montreal "
        "Forced Aligner (phones tier, ARPAbet or IPA); speaker-disjoint seeded split. "
        "Needs option root= or BENCH_TEXTGRID_ROOT.",
        loader="bench.datasets.consonants.textgrid:load_textgrid_corpus",
        splits=("train", "test", "all"), eval_splits=("test",), embedded=False,
        citation="McAuliffe et al., Montreal Forced Aligner, Interspeech 2017",
    ),
)


@bench.hookimpl
def bench_register_datasets(register: Callable[[object], None]) -> None:
    """Register the TIMIT and MFA-TextGrid corpus adapters."""
    for spec in DATASETS:
        register(spec)
