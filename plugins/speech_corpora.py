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
    DatasetSpec(
        name="topcap-features", task=TASK, version="1",
        description="The TopCap authors' released feature table (v1 birthtime,lifetime,ticket or "
        "v2 ALLSSTAR HT1 birth,lifetime,label,n_points); the paper's stratified 70/30 hold-out. "
        "TopCap methods only. Needs option path= or BENCH_TOPCAP_FEATURES.",
        loader="bench.datasets.consonants.feature_table:load_feature_table",
        splits=("paper-train", "paper-holdout", "all"), eval_splits=("paper-holdout",),
        embedded=False,
        citation="arXiv:2311.15210 (TopCap), features released by the authors",
    ),
)


@bench.hookimpl
def bench_register_datasets(register: Callable[[object], None]) -> None:
    """Register the TIMIT and MFA-TextGrid corpus adapters and the TopCap feature tables."""
    for spec in DATASETS:
        register(spec)
