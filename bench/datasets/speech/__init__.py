"""The embedded synthetic speech corpus: text-to-speech utterances with exact phone alignments.

``load_corpus()`` reads the copy shipped in ``bench/data/speech``; the recipe that made it is
``python -m bench.datasets.speech.build``.
"""

from bench.datasets.speech.corpus import (
    DEFAULT_ROOT,
    CorpusError,
    Phone,
    Speaker,
    SpeechCorpus,
    Utterance,
    load_corpus,
    sha256_file,
)

__all__ = [
    "DEFAULT_ROOT", "CorpusError", "Phone", "Speaker", "SpeechCorpus", "Utterance",
    "load_corpus", "sha256_file",
]
