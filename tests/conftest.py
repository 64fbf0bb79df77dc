from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

import toy_plugin  # noqa: E402

from bench.discovery import loader  # noqa: E402


@pytest.fixture
def toy_registries(monkeypatch):
    """Installed plugins plus the toy plugin, as the process-wide registries."""
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    monkeypatch.setattr(loader, "_cached", regs)
    return regs


@pytest.fixture(scope="session")
def toy_runs_template(tmp_path_factory):
    """A runs directory with good toy records and leaderboards, made once per session."""
    from catalogue import TOY, cli

    root = tmp_path_factory.mktemp("template") / "runs"
    saved = loader._cached
    loader._cached = loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    try:
        res = cli(["run", *TOY, "--method", "toy-zcr", "--method", "toy-flaky",
                   "--runs-dir", root])
        assert res.exit_code == 0, res.output
    finally:
        loader._cached = saved
    return root


@pytest.fixture
def toy_runs(toy_runs_template, tmp_path, toy_registries, monkeypatch):
    """A private copy of the template runs directory; the working directory is its parent."""
    from catalogue import copy_runs

    monkeypatch.chdir(tmp_path)
    return copy_runs(toy_runs_template, tmp_path / "runs")


# Benchmarks run only under `tox -e bench` (BENCH_BENCHMARKS=1), never in the test suite.
import os  # noqa: E402

collect_ignore_glob = [] if os.environ.get("BENCH_BENCHMARKS") == "1" else ["benchmarks/*"]


@pytest.fixture(autouse=True)
def _no_committed_baseline(tmp_path_factory, monkeypatch):
    """Tests see an empty committed baseline and no user runs-dir setting unless they set one,
    so the repository's baseline/ never leaks into toy leaderboards."""
    monkeypatch.setenv("BENCH_BASELINE_DIR", str(tmp_path_factory.mktemp("no-baseline")))
    monkeypatch.delenv("BENCH_RUNS_DIR", raising=False)
    monkeypatch.setenv("BENCH_QUIET", "1")
    # Units run in the test process (whose toy registries a spawned process would not see);
    # tests/test_reproducibility.py starts the pinned process itself.
    monkeypatch.setenv("BENCH_PIN_KERNELS", "0")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Tests never download weights (the download tests serve them from a loopback server)."""
    monkeypatch.setenv("BENCH_OFFLINE", "1")
