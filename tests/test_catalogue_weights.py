"""Catalogue: weights imports are verified; a forced import is recorded as unverified."""

from __future__ import annotations


import pytest
import torch
from catalogue import cli, expect

from bench.metrics.syncnet import official_keys
from bench.weights import registry


@pytest.fixture
def torch_home(tmp_path, monkeypatch, toy_registries):
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def _installed(name="syncnet-v2"):
    from bench.metrics.lse_weights import SPECS

    return registry.weights_path(SPECS[name])


def _syncnet_state(path):
    torch.save({k: torch.zeros(1) for k in official_keys()}, path)
    return path


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 16, b"PK\x03\x04 not a zip"],
                         ids=["empty", "random-bytes", "fake-zip"])
def test_garbage_is_refused_and_installed_file_kept(torch_home, tmp_path, content):
    good = _syncnet_state(tmp_path / "good.model")
    expect(cli(["weights", "import", "syncnet-v2", good, "--force"]), 0, "UNVERIFIED")
    installed = _installed().read_bytes()
    bad = tmp_path / "bad.model"
    bad.write_bytes(content)
    res = cli(["weights", "import", "syncnet-v2", bad])
    expect(res, 2, str(bad), "refused")
    assert _installed().read_bytes() == installed


def test_unverifiable_file_needs_force(torch_home, tmp_path):
    src = _syncnet_state(tmp_path / "syncnet_v2.model")
    res = cli(["weights", "import", "syncnet-v2", src])
    expect(res, 2, "cannot be verified", "--force")
    assert not _installed().exists()
    expect(cli(["weights", "import", "syncnet-v2", src, "--force"]), 0, "UNVERIFIED")
    assert "UNVERIFIED" in cli(["weights", "list"]).output
    ident = registry.weights_identity(__import__("bench.metrics.lse_weights",
                                                 fromlist=["SPECS"]).SPECS["syncnet-v2"])
    assert ident["verified"].startswith("no")


def test_checksum_mismatch_is_refused(torch_home, tmp_path):
    import dataclasses

    from bench.metrics.lse_weights import SPECS

    spec = dataclasses.replace(SPECS["syncnet-v2"], sha256="0" * 64)
    src = _syncnet_state(tmp_path / "x.model")
    with pytest.raises(registry.WeightsIntegrityError, match="expected 0000"):
        registry.import_file(spec, src)
    path = registry.import_file(spec, src, force=True)
    assert registry.status(spec).message.endswith(f"expected {'0' * 64})")
    assert registry.unverified(path)["source"] == str(src)


def test_missing_source_and_unknown_name(torch_home, tmp_path):
    expect(cli(["weights", "import", "syncnet-v2", tmp_path / "nope"]), 2, "is not a file")
    expect(cli(["weights", "import", "syncnet-v3", tmp_path / "nope"]), 2,
           "unknown weights 'syncnet-v3'", "did you mean 'syncnet-v2'")


def test_metric_with_unverified_weights_says_so():
    from types import SimpleNamespace

    from bench.execution.runner import _mark_unverified

    registry.UNVERIFIED_USED.add("syncnet-v2")
    try:
        st = SimpleNamespace(result={"fingerprint": {"weights": "syncnet-v2"}},
                             spec=SimpleNamespace(options={}))
        result = {"value": 1.0}
        _mark_unverified(st, result)
        assert "UNVERIFIED weights syncnet-v2" in result["message"]
    finally:
        registry.UNVERIFIED_USED.discard("syncnet-v2")
