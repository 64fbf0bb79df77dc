"""espeak-ng synthesis through its C library, with phone timings from the engine's own events.

Uses the library and data shipped by the ``espeakng-loader`` package (build time only).
Phoneme events carry the start of each phone in milliseconds of output audio; a phone ends
where the next one starts, the last one at the end of the audio.
"""

from __future__ import annotations

import ctypes
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

# Values from espeak-ng's speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_DONT_EXIT = 0x8000
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAM_RATE = 1
PARAM_VOLUME = 2
PARAM_PITCH = 3
PARAM_RANGE = 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakResult:
    """Synthesised audio (float32 in [-1, 1]) and the engine's phones as (symbol, start_s, end_s)."""

    audio: np.ndarray
    sample_rate: int
    phones: list[tuple[str, float, float]]


class EspeakEngine:
    """One initialised espeak-ng library; synthesis is synchronous and single-threaded."""

    def __init__(self) -> None:
        import espeakng_loader  # build-time dependency only

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                                ctypes.c_int]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                           ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                           ctypes.c_void_p, ctypes.c_void_p]
        data = espeakng_loader.get_data_path().encode()
        rate = self._lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data, INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise with data at {data.decode()}")
        self.sample_rate = rate
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n, events) -> int:  # type: ignore[no-untyped-def]
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == EVENT_PHONEME:
                self._events.append((ev.id.string.decode("utf-8"), ev.audio_position))
            i += 1
        return 0

    def seed(self, seed: int) -> None:
        """Seed the engine's noise generator (breathy variants such as +f2 use it)."""
        self._lib.espeak_ng_SetRandSeed(seed)

    def synth(self, text: str, voice: str, rate: int = 175, pitch: int = 50,
              pitch_range: int = 50) -> EspeakResult:
        """Speak ``text`` with ``voice`` (e.g. ``en-us+f2``); rate in words/min, pitch 0-100."""
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {voice!r}")
        for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch),
                             (PARAM_RANGE, pitch_range), (PARAM_VOLUME, 100)):
            self._lib.espeak_SetParameter(param, value, 0)
        self._chunks, self._events = [], []
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        err = self._lib.espeak_Synth(buf, len(buf), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed with code {err} for {text!r}")
        self._lib.espeak_Synchronize()
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        audio = pcm.astype(np.float32) / 32768.0
        total = len(audio) / self.sample_rate
        phones: list[tuple[str, float, float]] = []
        for k, (name, ms) in enumerate(self._events):
            start = ms / 1000.0
            end = self._events[k + 1][1] / 1000.0 if k + 1 < len(self._events) else total
            phones.append((name, start, min(end, total)))
        return EspeakResult(audio=audio, sample_rate=self.sample_rate, phones=phones)


def _synth_all(texts: list[str], voice: str, seed: int, settings: dict) -> list[EspeakResult]:
    engine = EspeakEngine()
    out = []
    for text in texts:
        engine.seed(seed)
        out.append(engine.synth(text, voice, **settings))
    return out


def synth_batch(texts: list[str], voice: str, seed: int = 0, **settings: int) -> list[EspeakResult]:
    """Synthesise ``texts`` in a fresh process so the output depends on the inputs alone.

    The library keeps synthesis state across calls, even across re-initialisation: the same
    text gives different samples after other texts, even with the random seed reset.
    """
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_synth_all, texts, voice, seed, dict(settings)).result()
