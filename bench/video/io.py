"""Read and write mp4 files with PyAV: video resampled to 25 fps, audio to 16 kHz mono.

Decoding resamples by timestamps, so variable-frame-rate files come out on a regular 25 fps
grid, choosing frames as ffmpeg's ``fps`` filter does (the SyncNet pipeline re-encodes with
``-r 25``). Every error names the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import av
import numpy as np

from bench.interfaces import SampleError

MIN_FRAMES = 5
TARGET_FPS = 25.0
TARGET_SAMPLE_RATE = 16000


class VideoError(SampleError):
    """A video file that cannot be used; the message names the file and the problem."""


@dataclass
class VideoData:
    """Decoded video: RGB uint8 frames (T, H, W, 3) at ``fps`` and mono float32 audio."""

    frames: np.ndarray
    fps: float
    audio: np.ndarray
    sample_rate: int
    meta: dict[str, Any] = field(default_factory=dict)


def resample_frame_times(times: Sequence[float], end_time: float, fps: float) -> np.ndarray:
    """Index of the source frame that fills each output slot k/fps (times relative to the start).

    Like ffmpeg's ``fps`` filter (round=near): each source time is rounded to the nearest output
    slot, and slot k shows the last source frame whose rounded slot is <= k, so frames are
    duplicated or dropped as needed. The grid runs while k/fps < ``end_time``.
    """
    t = np.asarray(times, np.float64)
    n_out = int(np.floor(end_time * fps + 1e-6))
    slot_of_source = np.floor(t * fps + 0.5)
    idx = np.searchsorted(slot_of_source, np.arange(n_out), side="right") - 1
    return np.clip(idx, 0, len(t) - 1)


def _decode_video(container, stream, path: Path) -> tuple[list[np.ndarray], list[float]]:
    frames: list[np.ndarray] = []
    times: list[float] = []
    for frame in container.decode(stream):
        frames.append(frame.to_ndarray(format="rgb24"))
        times.append(float(frame.time) if frame.time is not None else np.nan)
    return frames, times


def _decode_audio(container, stream, sample_rate: int) -> np.ndarray:
    # Resample in planar float with the source layout, then average the channels: a plain mean
    # keeps the level of a mono signal copied to both channels (swresample's downmix would not).
    resampler = None
    chunks: list[np.ndarray] = []
    for frame in container.decode(stream):
        if resampler is None:
            resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=sample_rate)
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray().mean(0))
    if resampler is not None:
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().mean(0))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def read_video(path: str | Path, fps: float = TARGET_FPS, sample_rate: int = TARGET_SAMPLE_RATE,
               require_audio: bool = True, min_frames: int = MIN_FRAMES) -> VideoData:
    """Decode ``path`` to RGB frames at ``fps`` and mono float32 audio at ``sample_rate``.

    Raises :class:`VideoError` naming the file for a missing, corrupt or truncated file, a file
    without a video stream (or without audio when ``require_audio``), or fewer than
    ``min_frames`` frames after resampling.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: file not found")
    try:
        container = av.open(str(path))
    except av.FFmpegError as e:
        raise VideoError(f"{path}: cannot open video (corrupt or truncated file?): {e}") from e
    try:
        if not container.streams.video:
            raise VideoError(f"{path}: no video stream")
        vstream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        if require_audio and not has_audio:
            raise VideoError(f"{path}: no audio stream")
        meta: dict[str, Any] = {"path": str(path), "codec": vstream.codec_context.name,
                                "source_fps": float(vstream.average_rate or 0.0)}
        try:
            frames, times = _decode_video(container, vstream, path)
            audio = np.zeros(0, np.float32)
            if has_audio:
                astream = container.streams.audio[0]
                meta["source_sample_rate"] = int(astream.rate or 0)
                meta["source_channels"] = int(astream.channels or 0)
                container.seek(0)
                audio = _decode_audio(container, astream, sample_rate)
        except av.FFmpegError as e:
            raise VideoError(f"{path}: decoding failed (corrupt or truncated file?): {e}") from e
    finally:
        container.close()

    if not frames:
        raise VideoError(f"{path}: no decodable video frames (corrupt or truncated file?)")
    t = np.asarray(times, np.float64)
    if np.isnan(t).any():  # no timestamps: assume the declared rate
        rate = meta["source_fps"] or fps
        t = np.arange(len(frames)) / rate
    t = t - t[0]
    steps = np.diff(t)
    step = float(np.median(steps)) if len(steps) else 1.0 / fps
    meta["n_source_frames"] = len(frames)
    meta["variable_frame_rate"] = bool(len(steps) > 1 and np.ptp(steps) > 0.1 * step)
    idx = resample_frame_times(t, t[-1] + step, fps)
    if len(idx) < min_frames:
        raise VideoError(f"{path}: only {len(idx)} frames at {fps:g} fps; at least {min_frames} "
                         "are needed")
    if has_audio and audio.size == 0:
        raise VideoError(f"{path}: the audio stream holds no samples")
    out = np.stack([frames[i] for i in idx])
    meta["duration_s"] = len(idx) / fps
    return VideoData(frames=out, fps=float(fps), audio=audio, sample_rate=sample_rate, meta=meta)


def _pick_codec(codec: str | None) -> str:
    for name in ([codec] if codec else ["libx264", "mpeg4"]):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - try the next encoder
            continue
    raise VideoError(f"no usable video encoder among {codec or 'libx264, mpeg4'}")


def write_video(path: str | Path, frames: np.ndarray, fps: float = TARGET_FPS,
                audio: np.ndarray | None = None, sample_rate: int = TARGET_SAMPLE_RATE,
                codec: str | None = None, frame_times: Sequence[float] | None = None,
                crf: int = 18) -> Path:
    """Write RGB uint8 frames (T, H, W, 3) and optional audio ((n,) or (n, channels)) to mp4.

    Uses h264 (libx264) when available, else mpeg4; audio is AAC. ``frame_times`` (seconds)
    gives explicit presentation times, e.g. to write a variable-frame-rate file.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    h, w = frames.shape[1:3]
    if h % 2 or w % 2:
        raise ValueError(f"{path}: frame size {w}x{h} must be even for yuv420p")
    name = _pick_codec(codec)
    time_base = Fraction(1, 1000) if frame_times is not None else Fraction(1, int(round(fps * 1000)))
    with av.open(str(path), mode="w") as out:
        vs = out.add_stream(name, rate=Fraction(fps).limit_denominator(1001))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.time_base = time_base
        vs.codec_context.time_base = time_base
        if name == "libx264":
            vs.options = {"crf": str(crf), "preset": "veryfast"}
        else:
            vs.bit_rate = 4_000_000
        astream = None
        if audio is not None:
            a = np.asarray(audio, np.float32)
            a = a[:, None] if a.ndim == 1 else a
            channels = a.shape[1]
            astream = out.add_stream("aac", rate=sample_rate)
            astream.layout = "mono" if channels == 1 else "stereo"
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            t = frame_times[i] if frame_times is not None else i / fps
            vf.pts = int(round(t / time_base))
            vf.time_base = time_base
            for packet in vs.encode(vf):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if astream is not None:
            step = astream.codec_context.frame_size or 1024
            for start in range(0, len(a), step):
                chunk = np.ascontiguousarray(a[start:start + step].T)
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=astream.layout.name)
                af.sample_rate = sample_rate
                af.pts = start
                for packet in astream.encode(af):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return path
