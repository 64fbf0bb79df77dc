"""Weights registry: paths, checks, fetch from file:// URLs, import, key-set checks, commands."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pluggy
import pytest
import torch

import bench.hookspecs
from bench.specs import WeightsSpec
from bench.weights import commands, registry
from bench.weights.catalog import FID_INCEPTION, IMAGE_METRIC_WEIGHTS, LPIPS_WEIGHTS


@pytest.fixture()
def torch_home(tmp_path, monkeypatch):
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def _state_file(path: Path, scale: float = 1.0) -> tuple[Path, str]:
    torch.manual_seed(0)
    torch.save({"a.weight": torch.randn(4, 3) * scale, "a.bias": torch.zeros(4)}, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _spec(name: str, source: Path, sha: str | None, size: int | None = None,
          filename: str = "toy.pth", loader=None) -> WeightsSpec:
    return WeightsSpec(name=name, url=source.resolve().as_uri(), sha256=sha, size=size,
                       filename=filename, loader=loader)


def test_path_is_torch_hub_checkpoint_dir(torch_home):
    assert registry.weights_path(FID_INCEPTION) == (
        torch_home / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth")
    assert Path(torch.hub.get_dir()) / "checkpoints" == registry.weights_path(FID_INCEPTION).parent


@pytest.mark.parametrize("net", sorted(LPIPS_WEIGHTS))
def test_shipped_lin_heads_match_installed_lpips_files(net):
    spec = LPIPS_WEIGHTS[net][1]
    path = registry.weights_path(spec)
    assert path.is_file() and path.parent.name == "v0.1" and path.name == f"{net}.pth"
    assert path.stat().st_size == spec.size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    st = registry.status(spec)
    assert st.present and st.sha256_ok is True
    state = registry.load_state_dict(spec)  # key set checked against the lin* keys
    assert sorted(state) == sorted(f"lin{i}.model.1.weight" for i in range(len(state)))


def test_absent_weights_name_the_install_commands(torch_home):
    st = registry.status(FID_INCEPTION)
    assert not st.present and st.sha256_ok is None
    with pytest.raises(registry.WeightsUnavailable) as err:
        registry.verify(FID_INCEPTION)
    msg = str(err.value)
    assert "fid-inception" in msg and "bench weights fetch fid-inception" in msg
    assert "bench weights import fid-inception FILE" in msg


def test_fetch_file_url_with_good_hash(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    spec = _spec("toy", src, sha, size=src.stat().st_size)
    path = registry.fetch(spec)
    assert path == torch_home / "hub" / "checkpoints" / "toy.pth"
    assert path.read_bytes() == src.read_bytes()
    assert registry.status(spec).sha256_ok is True
    assert registry.verify(spec) == path


def test_fetch_refuses_wrong_hash_and_leaves_nothing(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    spec = _spec("toy", src, "0" * 64)
    with pytest.raises(registry.WeightsIntegrityError) as err:
        registry.fetch(spec)
    msg = str(err.value)
    assert "toy.pth" in msg and sha in msg and "0" * 64 in msg
    target_dir = torch_home / "hub" / "checkpoints"
    assert list(target_dir.iterdir()) == []  # no target, no leftover .part file


def test_fetch_refuses_truncated_file(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    full = src.read_bytes()
    src.write_bytes(full[: len(full) // 2])
    spec = _spec("toy", src, sha, size=len(full))
    with pytest.raises(registry.WeightsIntegrityError, match="truncated"):
        registry.fetch(spec)
    assert not registry.weights_path(spec).exists()


def test_fetch_unreachable_url_says_how_to_import(torch_home, tmp_path):
    spec = _spec("toy", tmp_path / "missing.pth", None)
    with pytest.raises(registry.WeightsUnavailable, match="bench weights import toy FILE"):
        registry.fetch(spec)


def test_hash_prefix_in_filename_is_checked(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    bad = _spec("toy", src, None, filename="toy-deadbeef.pth")
    with pytest.raises(registry.WeightsIntegrityError, match="does not start with deadbeef"):
        registry.import_file(bad, src)
    good = _spec("toy", src, None, filename=f"toy-{sha[:8]}.pth")
    registry.import_file(good, src)
    assert registry.status(good).sha256_ok is True


def test_import_file_checks_then_copies(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    other, _ = _state_file(tmp_path / "other.pth", scale=2.0)
    spec = _spec("toy", src, sha)
    with pytest.raises(registry.WeightsIntegrityError, match="other.pth"):
        registry.import_file(spec, other)
    with pytest.raises(registry.WeightsUnavailable, match="not a file"):
        registry.import_file(spec, tmp_path / "nope.pth")
    assert registry.import_file(spec, src).read_bytes() == src.read_bytes()


def test_corrupted_file_in_place_is_reported(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    spec = _spec("toy", src, sha)
    path = registry.import_file(spec, src)
    path.write_bytes(b"garbage")
    st = registry.status(spec)
    assert st.present and st.sha256_ok is False and "toy.pth" in st.message
    with pytest.raises(registry.WeightsIntegrityError):
        registry.load_state_dict(spec)
    registry.fetch(spec)  # a bad file in place is replaced by a good download
    assert registry.status(spec).sha256_ok is True


def test_load_state_dict_checks_key_set(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    spec = _spec("toy", src, sha, loader=lambda: {"a.weight", "a.bias"})
    registry.import_file(spec, src)
    state = registry.load_state_dict(spec)
    assert set(state) == {"a.weight", "a.bias"}
    wrong = _spec("toy", src, sha, loader=lambda: {"a.weight", "b.weight"})
    with pytest.raises(registry.WeightsIntegrityError) as err:
        registry.load_state_dict(wrong)
    msg = str(err.value)
    assert "toy.pth" in msg and "missing keys: b.weight" in msg and "unexpected keys: a.bias" in msg


def test_load_state_dict_rejects_non_state_dict(torch_home, tmp_path):
    src = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], src)
    spec = _spec("toy", src, hashlib.sha256(src.read_bytes()).hexdigest())
    registry.import_file(spec, src)
    with pytest.raises(registry.WeightsIntegrityError, match="plain state dict"):
        registry.load_state_dict(spec)
    text = tmp_path / "text.pth"
    text.write_text("not a checkpoint")
    spec = _spec("toy2", text, hashlib.sha256(text.read_bytes()).hexdigest(), filename="t.pth")
    registry.import_file(spec, text)
    with pytest.raises(registry.WeightsIntegrityError, match="not a loadable state dict"):
        registry.load_state_dict(spec)


def test_commands_rows_and_messages(torch_home, tmp_path):
    src, sha = _state_file(tmp_path / "src.pth")
    toy = _spec("toy", src, sha, loader=lambda: {"a.weight", "a.bias"})
    specs = {"toy": toy, "fid-inception": FID_INCEPTION}
    rows = {r["name"]: r for r in commands.list_rows(specs)}
    assert rows["toy"]["state"] == "absent" and rows["fid-inception"]["sha256"] == "prefix 6726825d"
    assert "toy" in commands.fetch_command(specs, "toy")
    assert commands.list_rows(specs)[1]["state"] == "ok"
    checked = {r["name"]: r for r in commands.verify_command(specs)}
    assert checked["toy"]["ok"] and "key set ok" in checked["toy"]["message"]
    assert not checked["fid-inception"]["ok"]
    assert "imported" in commands.import_command(specs, "toy", src)
    with pytest.raises(KeyError, match="unknown weights 'nope'; known: fid-inception, toy"):
        commands.fetch_command(specs, "nope")
    table = commands.format_rows(commands.list_rows(specs), ["name", "state"])
    assert table.splitlines()[0].split() == ["name", "state"]


def test_plugin_registers_weights_and_metrics():
    import plugins.image_metrics as plugin

    pm = pluggy.PluginManager(bench.hookspecs.PROJECT)
    pm.add_hookspecs(bench.hookspecs)
    pm.register(plugin)
    weights, metrics = [], []
    pm.hook.bench_register_weights(register=weights.append)
    pm.hook.bench_register_metrics(register=metrics.append)
    assert {w.name for w in weights} >= {"fid-inception", "lpips-alex-backbone", "lpips-alex-lin"}
    assert all(w.license for w in weights)
    by_name = {m.name: m for m in metrics}
    assert set(by_name) == {"fid", "lpips", "ssim", "psnr", "ssim-frame", "psnr-frame"}
    assert by_name["fid"].direction == "lower" and by_name["ssim"].direction == "higher"
    assert {m.task for m in metrics} == {"talking-face"}
    assert len(IMAGE_METRIC_WEIGHTS) == len(weights)


def test_unavailable_is_the_harness_error_the_runner_catches(torch_home):
    from bench.errors import Unavailable

    with pytest.raises(Unavailable):
        registry.verify(FID_INCEPTION)
    assert issubclass(registry.WeightsIntegrityError, Unavailable)


def test_shipped_path_relative_to_project_root():
    spec = WeightsSpec(name="proj", url="", sha256=None, size=None, filename="pyproject.toml",
                       shipped_path="pyproject.toml")
    path = registry.weights_path(spec)
    assert path == Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert registry.status(spec).present
    missing = dataclasses.replace(spec, shipped_path="no/such/file.pth")
    with pytest.raises(registry.WeightsUnavailable, match="reinstall bench"):
        registry.verify(missing)
    with pytest.raises(registry.WeightsUnavailable, match="ship inside"):
        registry.import_file(spec, __file__)


def test_plugin_loads_through_the_harness_registries():
    import plugins.image_metrics as plugin
    from bench.discovery import loader as bench_plugins

    regs = bench_plugins.load_registries(extra_plugins=[("image_metrics", plugin)])
    info = [p for p in regs.plugins if p.name == "image_metrics"]
    assert info and info[0].status == "ok", info
    assert regs.metrics.get("fid").options == {"crop": "face"}
    assert regs.metrics.get("psnr-frame").options == {"region": "frame"}
    assert regs.weights.get("lpips-alex-lin").sha256.startswith("df73285e")


def test_weights_cli_lists_and_verifies(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bench.cli import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache: nothing installed
    res = CliRunner().invoke(main, ["weights", "list"])
    assert res.exit_code == 0 and "fid-inception" in res.output and "lpips-alex-lin" in res.output
    res = CliRunner().invoke(main, ["weights", "verify", "lpips-alex-lin"])
    assert res.exit_code == 0, res.output  # shipped inside the lpips package
    res = CliRunner().invoke(main, ["weights", "verify", "fid-inception"])
    assert res.exit_code == 1 and "bench weights fetch fid-inception" in res.output


def test_fetch_without_url_says_to_import():
    from bench.specs import WeightsSpec
    from bench.weights.registry import WeightsUnavailable, fetch

    spec = WeightsSpec(name="no-url", url="", sha256=None, size=None, filename="x.pth",
                       cache_dir="hub/bench-test-nonexistent")
    with pytest.raises(WeightsUnavailable, match="bench weights import no-url FILE"):
        fetch(spec)


@pytest.mark.parametrize("env", [{}, {"XDG_CACHE_HOME": "/x/cache"}, {"TORCH_HOME": "~/th"}])
def test_the_hub_directory_without_torch_is_torchs(env, monkeypatch):
    import torch.hub

    from bench.weights import registry

    for name in ("TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with_torch = registry._hub_dir()
    monkeypatch.delitem(__import__("sys").modules, "torch")  # as in a process without torch
    assert registry._hub_dir() == with_torch == torch.hub.get_dir()
