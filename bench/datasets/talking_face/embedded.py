"""The embedded synthetic talking-face dataset: rendered faces driven by the speech corpus.

Only parameters ship (``bench/data/talking_face/manifest.json``); frames are rendered on demand
and cached on disk, and each render is checked against the sha256 stored in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from bench.datasets.base import LazySplit
from bench.interfaces import SampleError
from bench.samples import SPEECH_SAMPLE_RATE, VIDEO_FPS, Clip, frames_for_audio

from .cache import array_sha256, cache_root, load_npz, save_npz
from .render import Identity, render_clip

log = logging.getLogger(__name__)

NAME = "talking-faces-synthetic"
DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "data" / "talking_face" / "manifest.json"
SPLITS = ("train", "val", "test", "test-crossdub", "val-crossdub")


# Verified frames by file stamp, so the methods of one run decode and hash each clip once
# (the test split is about 120 MB of frames).
_VERIFIED: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_VERIFIED_SIZE = 40


def _stamp(path: Path, expected: str) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino, expected)


def _remember(stamp: tuple[Any, ...] | None, frames: np.ndarray, boxes: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    frames.flags.writeable = False
    boxes.flags.writeable = False
    if stamp is not None:
        _VERIFIED[stamp] = (frames, boxes)
        while len(_VERIFIED) > _VERIFIED_SIZE:
            _VERIFIED.popitem(last=False)
    return frames, boxes


def _hash_pair(a: str, b: str) -> str:
    return hashlib.sha256(f"{a}:{b}".encode()).hexdigest()


class EmbeddedTalkingFaces:
    """Dataset object: ``split(name)`` gives a lazy split of :class:`bench.samples.Clip`."""

    name = NAME

    def __init__(self, manifest: Mapping[str, Any], corpus: Any, cache_dir: Path,
                 manifest_path: Path | None = None, strict: bool = True) -> None:
        self.manifest = manifest
        self.version = str(manifest["version"])
        self.corpus = corpus
        self.cache_dir = Path(cache_dir) / "talking_face" / self.version
        self.manifest_path = manifest_path
        self.strict = strict
        self.identities = {k: Identity.from_dict(v) for k, v in manifest["identities"].items()}
        self.clips: dict[str, dict[str, Any]] = manifest["clips"]
        self.problems: list[str] = []

    # -- frames ---------------------------------------------------------------------------
    def render(self, clip_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Render a clip from its manifest parameters (no cache)."""
        c = self.clips[clip_id]
        phones = self.corpus.utterance(c["utterance"]).phones
        return render_clip(self.identities[c["identity"]], phones, int(c["n_frames"]),
                           c["motion"], float(self.manifest.get("fps", VIDEO_FPS)))

    def cache_path(self, clip_id: str) -> Path:
        """Where the rendered frames of ``clip_id`` are cached."""
        return self.cache_dir / f"{clip_id}.npz"

    def frames(self, clip_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Frames and face boxes of a clip: from the cache if its checksum matches, else rendered.

        Both arrays are read-only: every method of a run shares them, and the frames are also
        the clip's ground truth, which no method may change.
        """
        if clip_id not in self.clips:
            raise SampleError(f"{self._where()}: no clip {clip_id!r}")
        expected = self.clips[clip_id]["frames_sha256"]
        path = self.cache_path(clip_id)
        stamp = _stamp(path, expected)
        if stamp in _VERIFIED:  # this process read and checked this very file already
            _VERIFIED.move_to_end(stamp)
            return _VERIFIED[stamp]
        cached = load_npz(path, ("frames", "boxes"))
        if cached is not None:
            if array_sha256(cached["frames"]) == expected:
                return _remember(stamp, cached["frames"], cached["boxes"])
            log.warning("%s: cached frames do not match the manifest sha256; re-rendering", path)
        frames, boxes = self.render(clip_id)
        actual = array_sha256(frames)
        if actual != expected:
            msg = (f"{self._where()}: clip {clip_id!r} rendered with sha256 {actual[:12]}..., "
                   f"manifest says {expected[:12]}... (different renderer or OpenCV version?)")
            if self.strict:
                raise SampleError(msg)
            log.warning(msg)
        save_npz(path, frames=frames, boxes=boxes)
        return _remember(None, frames, boxes)

    def _where(self) -> str:
        return str(self.manifest_path or NAME)

    # -- samples --------------------------------------------------------------------------
    def _audio(self, clip_id: str) -> np.ndarray:
        utt = self.clips[clip_id]["utterance"]
        try:
            return np.asarray(self.corpus.audio(utt), np.float32)
        except Exception as e:  # noqa: BLE001 - the corpus names the file
            raise SampleError(f"clip {clip_id!r}: audio of utterance {utt!r}: {e}") from e

    def clip(self, clip_id: str) -> Clip:
        """Reconstruction sample: the clip's own audio drives it; the target is the video."""
        c = self.clips[clip_id]
        frames, boxes = self.frames(clip_id)
        audio = self._audio(clip_id)
        fps = float(self.manifest.get("fps", VIDEO_FPS))
        if frames_for_audio(len(audio), SPEECH_SAMPLE_RATE, fps) != len(frames):
            raise SampleError(f"clip {clip_id!r}: {len(audio)} audio samples do not cover "
                              f"{len(frames)} frames (speech corpus changed since the manifest?)")
        utt = self.corpus.utterance(c["utterance"])
        return Clip(id=clip_id, frames=frames, face_boxes=boxes, audio=audio, fps=fps,
                    identity=c["identity"], speaker=c["speaker"], target=frames,
                    meta={"utterance": c["utterance"], "phones": [tuple(p) for p in _phones(utt)],
                          "protocol": "reconstruction"})

    def crossdub(self, pair: Mapping[str, str]) -> Clip:
        """Cross-dub sample: one clip's video with another speaker's audio, cut to the shorter."""
        vid, aud = pair["video"], pair["audio"]
        frames, boxes = self.frames(vid)
        audio = self._audio(aud)
        fps = float(self.manifest.get("fps", VIDEO_FPS))
        n = min(len(frames), frames_for_audio(len(audio), SPEECH_SAMPLE_RATE, fps))
        audio = audio[: int(round(n * SPEECH_SAMPLE_RATE / fps))]
        utt = self.corpus.utterance(self.clips[aud]["utterance"])
        return Clip(id=pair["id"], frames=frames[:n], face_boxes=boxes[:n], audio=audio, fps=fps,
                    identity=self.clips[vid]["identity"], speaker=self.clips[aud]["speaker"],
                    target=None,
                    meta={"utterance": self.clips[aud]["utterance"], "video_clip": vid,
                          "audio_clip": aud, "phones": [tuple(p) for p in _phones(utt)],
                          "protocol": "cross-dub"})

    def _crossdub_of(self, split: str) -> list[dict[str, str]]:
        from .build import crossdub_pairs, stable_seed

        ids = self.manifest["splits"][split]
        seed = stable_seed(f"crossdub:{split}:{self.manifest.get('seed', 0)}")
        return crossdub_pairs(ids, {c: self.clips[c]["speaker"] for c in ids},
                              {c: self.clips[c]["utterance"] for c in ids}, seed)

    def split(self, name: str) -> LazySplit:
        """One of ``train``, ``val``, ``test``, ``test-crossdub`` and ``val-crossdub``.

        ``val-crossdub`` is built from the val clips as ``test-crossdub`` is from the test clips
        (each video with another speaker's audio), so a method can be selected on cross-dub
        without touching test.
        """
        splits = dict(self.manifest["splits"])
        if name == "val-crossdub" and name not in splits and "val" in splits:
            splits[name] = self._crossdub_of("val")
        if name not in splits:
            raise KeyError(f"{NAME}: no split {name!r}; known: {sorted(splits)}")
        audio_sha = {u.id: u.sha256 for u in self.corpus.utterances}
        if name.endswith("-crossdub"):
            pairs = {p["id"]: p for p in splits[name]}
            hashes = {i: _hash_pair(self.clips[p["video"]]["frames_sha256"],
                                    audio_sha.get(self.clips[p["audio"]]["utterance"], ""))
                      for i, p in pairs.items()}
            loaders = {i: (lambda p=p: self.crossdub(p)) for i, p in pairs.items()}
            ids = list(pairs)
        else:
            ids = list(splits[name])
            hashes = {i: _hash_pair(self.clips[i]["frames_sha256"],
                                    audio_sha.get(self.clips[i]["utterance"], "")) for i in ids}
            loaders = {i: (lambda i=i: self.clip(i)) for i in ids}
        return LazySplit(name=name, ids=ids, content_hashes=hashes, loaders=loaders,
                         meta={"dataset": NAME, "version": self.version})


def _phones(utt) -> list[tuple[str, float, float]]:
    out = []
    for p in utt.phones:
        start = getattr(p, "start", None)
        end = getattr(p, "end", None)
        if start is None:
            start, end = p.start_s, p.end_s
        out.append((p.label, float(start), float(end)))
    return out


def read_manifest(path: Path) -> dict[str, Any]:
    """Parse the manifest JSON, raising ValueError that names the file on a bad file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: talking-face manifest is missing; build it with "
                                "`python -m bench.datasets.talking_face.build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e
    for key in ("version", "identities", "clips", "splits"):
        if key not in manifest:
            raise ValueError(f"{path}: missing key {key!r}")
    return manifest


def load_embedded_talking_faces(manifest: str | Path | None = None, corpus: Any = None,
                                cache_dir: str | Path | None = None,
                                strict: bool = True) -> EmbeddedTalkingFaces:
    """Load ``talking-faces-synthetic``; frames render on first use into the cache.

    ``corpus`` defaults to the embedded speech corpus; ``strict`` makes a render whose checksum
    differs from the manifest a :class:`SampleError` (otherwise a logged warning).
    """
    path = Path(manifest) if manifest is not None else DEFAULT_MANIFEST
    data = read_manifest(path)
    if corpus is None:
        from bench.datasets.speech import load_corpus

        corpus = load_corpus()
    return EmbeddedTalkingFaces(data, corpus, cache_root(cache_dir), path, strict)
