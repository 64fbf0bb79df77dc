"""Weights files the LSE metrics use: official SyncNet and S3FD, and the shipped small SyncNet."""

from __future__ import annotations

from bench.specs import WeightsSpec

# sha256 of bench/data/syncnet/syncnet_embedded.pt (a test checks it against the file)
EMBEDDED_SHA256 = "4355acfb7fa5aa7914ef7cce0ea6878cbd1e632a77407443bcc3df038e00e4f6"

SYNCNET_V2 = WeightsSpec(
    name="syncnet-v2",
    url="http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model",
    sha256=None,  # not published upstream; pin after the first verified fetch
    size=None,
    filename="syncnet_v2.model",
    license="see joonson/syncnet_python (research use)",
    description="SyncNet (Chung & Zisserman 2016) of joonson/syncnet_python, used for LSE-C/LSE-D",
    loader="bench.metrics.syncnet:official_keys",
)

S3FD = WeightsSpec(
    name="s3fd",
    url="https://www.robots.ox.ac.uk/~vgg/software/lipsync/data/sfd_face.pth",
    sha256=None,
    size=None,
    filename="sfd_face.pth",
    license="see joonson/syncnet_python and S3FD.pytorch",
    description="S3FD face detector of syncnet_python's pipeline (face-track LSE protocol)",
    loader="bench.metrics.s3fd:official_keys",
)

SYNCNET_EMBEDDED = WeightsSpec(
    name="syncnet-embedded",
    url="",
    sha256=EMBEDDED_SHA256,
    size=None,
    filename="syncnet_embedded.pt",
    license="same as bench",
    description="small SyncNet trained on the embedded talking-face renderer (train identities); "
    "see docs/syncnet-embedded.md. Not comparable with syncnet_v2 numbers",
    shipped_path="bench/data/syncnet/syncnet_embedded.pt",
    trainer="bench.training.syncnet_train:main",
)

SPECS = {s.name: s for s in (SYNCNET_V2, S3FD, SYNCNET_EMBEDDED)}
