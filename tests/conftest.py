from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

import toy_plugin  # noqa: E402

from bench import plugins  # noqa: E402


@pytest.fixture
def toy_registries(monkeypatch):
    """Installed plugins plus the toy plugin, as the process-wide registries."""
    regs = plugins.load_registries(extra_plugins=[("toy", toy_plugin)])
    monkeypatch.setattr(plugins, "_cached", regs)
    return regs


# Benchmarks run only under `tox -e bench` (BENCH_BENCHMARKS=1), never in the test suite.
import os  # noqa: E402

collect_ignore_glob = [] if os.environ.get("BENCH_BENCHMARKS") == "1" else ["benchmarks/*"]
