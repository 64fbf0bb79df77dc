"""The GPU-capable models and metrics compute on the device bench.devices gives them.

There is no GPU here, so torch's "meta" device stands in for one: tensors there have shapes but
no data, and an op that mixes them with CPU tensors raises. Each model or metric, run under
``devices.using("meta")``, must therefore get through all of its network on that device and
stop only where it copies its result back to the CPU (``Cannot copy out of meta tensor``): a
weight or an input left on the CPU would fail earlier, with a device error. On CPU the same
code gives the committed numbers (their own tests); here only the device plumbing is checked.
"""

from __future__ import annotations

import numpy as np
import pytest
from image_fakes import install_alexnet, install_fid, make_clip

from bench import devices

torch = pytest.importorskip("torch")

COPY_OUT = "Cannot copy out of meta tensor"


def _stops_at_copy_back(call) -> None:
    """``call()`` ran its network on the meta device and failed only when copying back."""
    with pytest.raises(NotImplementedError, match=COPY_OUT) as info:
        call()
    ours = [e for e in info.traceback if "site-packages" not in str(e.path)]
    statement = str(ours[-1].statement)
    assert any(back in statement for back in (".cpu()", ".tolist()", ".numpy()")), statement


@pytest.fixture(scope="module")
def clip():
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces

    split = load_embedded_talking_faces().split("test")
    return split.get(split.ids[0])


def test_mixing_devices_fails_so_the_checks_below_mean_something():
    with pytest.raises(RuntimeError, match="device"):
        torch.zeros(2, device="meta") + torch.zeros(2)


def test_talking_face_generators_run_on_the_given_device(clip):
    from plugins.g4g import G4GMethod
    from plugins.wav2lip import Wav2LipMethod

    for method in (Wav2LipMethod(), G4GMethod()):
        with devices.using("meta"):
            _stops_at_copy_back(lambda m=method: m.generate(clip))


def test_syncnet_and_its_face_detector_run_on_the_given_device():
    from bench.metrics.lse_metric import EMBEDDED_SYNCNET
    from bench.metrics.s3fd import S3FD, S3FDNet
    from bench.metrics.syncnet import load_syncnet
    from bench.metrics.syncnet_infer import FrozenSyncNet

    net = FrozenSyncNet(load_syncnet(EMBEDDED_SYNCNET), "meta")
    assert net.lip_features(torch.zeros(2, 15, 224, 224)).device.type == "meta"
    _stops_at_copy_back(lambda: net.lip(torch.zeros(2, 15, 224, 224)))
    _stops_at_copy_back(lambda: net.aud(torch.zeros(2, 1, 13, 20)))
    detector = S3FD(S3FDNet(), device="meta")
    _stops_at_copy_back(lambda: detector(np.zeros((640, 640, 3), np.uint8)))


def test_image_metrics_build_their_networks_on_the_given_device(tmp_path, monkeypatch):
    from bench.metrics.fid import FidMetric
    from bench.metrics.lpips_metric import LpipsMetric

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    fid_spec, _ = install_fid(tmp_path)
    alex_spec, _ = install_alexnet(tmp_path)
    sample = make_clip()
    with devices.using("meta"):
        lpips, fid = LpipsMetric(backbone=alex_spec), FidMetric(weights=fid_spec)
    assert lpips.device == fid.device == "meta"
    frames = {"frames": sample.target.copy()}
    with pytest.raises(Exception, match=COPY_OUT):  # the metric wraps the error per clip
        lpips.per_sample(sample, frames)
    _stops_at_copy_back(lambda: fid.per_sample(sample, frames))
