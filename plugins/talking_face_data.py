"""Talking-face datasets: the embedded synthetic set and adapters for LRS2, HDTF and video folders."""

from __future__ import annotations

import bench
from bench.specs import DatasetSpec

_PKG = "bench.datasets.talking_face"


@bench.hookimpl
def bench_register_datasets(register) -> None:
    """Register ``talking-faces-synthetic``, ``lrs2``, ``hdtf`` and ``video-folder``."""
    register(DatasetSpec(
        name="talking-faces-synthetic", task="talking-face", version="1",
        description=("Procedurally rendered faces (128x128, 25 fps) whose mouths follow the phones "
                     "of the embedded speech corpus; identity- and speaker-disjoint splits; "
                     "test-crossdub pairs each test video with another speaker's audio, "
                     "val-crossdub each val video, for selection."),
        loader=f"{_PKG}.embedded:load_embedded_talking_faces",
        splits=("train", "val", "test", "test-crossdub", "val-crossdub"), eval_splits=("test", "test-crossdub"),
        embedded=True, license="same as the package",
    ))
    register(DatasetSpec(
        name="lrs2", task="talking-face", version="1",
        description=("LRS2-BBC from its official filelists (test.txt etc.) over main/<id>.mp4; "
                     "root= or BENCH_LRS2_ROOT."),
        loader=f"{_PKG}.real:load_lrs2", splits=("train", "val", "test"), eval_splits=("test",),
        citation="Afouras et al., Deep Audio-Visual Speech Recognition, TPAMI 2018",
        license="BBC research licence (obtain the corpus yourself)",
    ))
    register(DatasetSpec(
        name="hdtf", task="talking-face", version="1",
        description="HDTF clip videos with a clip list (test.txt); root= or BENCH_HDTF_ROOT.",
        loader=f"{_PKG}.real:load_hdtf", splits=("test",), eval_splits=("test",),
        citation="Zhang et al., Flow-guided One-shot Talking Face Generation, CVPR 2021",
        license="see the HDTF repository (YouTube sources)",
    ))
    register(DatasetSpec(
        name="video-folder", task="talking-face", version="1",
        description="Every *.mp4 in a folder as the test split; root= or BENCH_VIDEO_FOLDER.",
        loader=f"{_PKG}.real:load_video_folder", splits=("test",), eval_splits=("test",),
    ))
