"""SyncNet architecture and weights loading."""

from __future__ import annotations

import pytest
import torch

from bench.metrics.syncnet import (
    SyncNet,
    WeightsError,
    WeightsUnavailable,
    expected_keys,
    load_syncnet,
)


def _official_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict with exactly the 88 tensors of syncnet_v2.model (random values)."""
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(s, generator=g) for k, s in expected_keys(1.0).items()}


def test_official_key_set_and_size():
    keys = expected_keys(1.0)
    assert len(keys) == 88
    n = sum(torch.Size(s).numel() for s in keys.values())
    assert n == 13_640_256  # 54,561,024 bytes of float32, the size of syncnet_v2.model
    for pre in ("netcnnaud", "netcnnlip"):
        for i in (0, 4, 8, 11, 14, 18):
            assert f"{pre}.{i}.weight" in keys and f"{pre}.{i}.bias" in keys
        for i in (1, 5, 9, 12, 15, 19):
            assert f"{pre}.{i}.running_var" in keys
    for pre in ("netfcaud", "netfclip"):
        assert keys[f"{pre}.0.weight"] == (512, 512)
        assert keys[f"{pre}.1.running_mean"] == (512,)
        assert keys[f"{pre}.3.weight"] == (1024, 512)
    assert keys["netcnnlip.0.weight"] == (96, 3, 5, 7, 7)
    assert keys["netcnnaud.18.weight"] == (512, 256, 5, 4)
    assert keys["netcnnlip.18.weight"] == (512, 256, 1, 6, 6)


def test_official_state_dict_loads_strictly(tmp_path):
    state = _official_like_state()
    path = tmp_path / "syncnet_v2.model"
    torch.save(state, path)
    model = load_syncnet(path)
    assert model.width == 1.0 and not model.training
    sd = model.state_dict()
    for k, v in state.items():
        assert torch.equal(sd[k], v), k


def test_output_shapes_full_width():
    torch.manual_seed(0)
    model = SyncNet(1.0).eval()
    with torch.no_grad():
        a = model.forward_aud(torch.randn(2, 1, 13, 20))
        v = model.forward_lip(torch.rand(2, 3, 5, 224, 224) * 255)
        f = model.forward_lipfeat(torch.rand(2, 3, 5, 224, 224) * 255)
    assert a.shape == (2, 1024) and v.shape == (2, 1024) and f.shape == (2, 512)


def test_small_width_checkpoint_roundtrip(tmp_path):
    torch.manual_seed(1)
    model = SyncNet(0.125).eval()
    path = tmp_path / "small.pt"
    torch.save({"state_dict": model.state_dict(), "width": 0.125, "meta": {"steps": 1}}, path)
    loaded = load_syncnet(path)
    assert loaded.width == 0.125
    x = torch.randn(3, 1, 13, 20)
    with torch.no_grad():
        assert torch.allclose(loaded.forward_aud(x), model.forward_aud(x))


def test_missing_file_names_install_command(tmp_path):
    with pytest.raises(WeightsUnavailable, match="bench weights fetch syncnet-v2"):
        load_syncnet(tmp_path / "nope.model")


def test_missing_and_unknown_keys_name_the_file(tmp_path):
    state = _official_like_state()
    del state["netfclip.3.bias"]
    state["netcnnaud.99.weight"] = torch.zeros(1)
    path = tmp_path / "broken.model"
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"broken\.model.*missing.*netfclip\.3\.bias.*unknown.*netcnnaud\.99"):
        load_syncnet(path)


def test_wrong_shape_is_reported(tmp_path):
    state = _official_like_state()
    state["netfcaud.3.weight"] = torch.zeros(2048, 512)
    path = tmp_path / "old.model"
    torch.save(state, path)
    with pytest.raises(WeightsError, match="netfcaud.3.weight"):
        load_syncnet(path)


def test_not_a_torch_file(tmp_path):
    path = tmp_path / "garbage.model"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="garbage.model"):
        load_syncnet(path)
