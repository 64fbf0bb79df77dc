"""Cached predictions made by other code under the same version are never used silently."""

from __future__ import annotations

import importlib
import json
import logging
import sys
import textwrap

import pytest
import toy_plugin

from bench.discovery import loader
from bench.execution import code_identity
from bench.execution.runner import Unit, run_unit

PLUGIN = '''
from bench import hookimpl
from bench.specs import MethodSpec
import toy_plugin

VERSION = "{version}"


def make(**config):  # {comment}
    return toy_plugin.make_method(**config)


@hookimpl
def bench_register_methods(register):
    register(MethodSpec(name="stale-zcr", task="consonant-voicing", version=VERSION,
                        factory="staleplug:make"))
'''


@pytest.fixture
def staleplug(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(version: str, comment: str):
        (tmp_path / "staleplug.py").write_text(textwrap.dedent(PLUGIN.format(
            version=version, comment=comment)))
        sys.modules.pop("staleplug", None)
        importlib.invalidate_caches()
        code_identity._hash.cache_clear()
        module = importlib.import_module("staleplug")
        regs = loader.load_registries(extra_plugins=[("toy", toy_plugin), ("stale", module)])
        monkeypatch.setattr(loader, "_cached", regs)

    return install


def _run(runs):
    unit = Unit(task="consonant-voicing", method="stale-zcr", dataset="toy-segments", split="test",
                metrics=("accuracy",), runs_dir=str(runs), bootstrap=20)
    return json.loads(open(run_unit(unit)).read())


def test_changed_code_with_the_same_version_warns_and_marks_the_record(tmp_path, staleplug,
                                                                       caplog):
    runs = tmp_path / "runs"
    staleplug("1", "first")
    first = _run(runs)
    assert first["method"]["code"]["packages"] == ["staleplug"]
    assert not first["method"]["code"].get("stale_cache")
    staleplug("1", "edited")  # code changed, version not bumped
    with caplog.at_level(logging.WARNING):
        second = _run(runs)
    assert second["method"]["code"]["stale_cache"] is True
    assert second["method"]["code"]["cached_with"] == first["method"]["code"]["sha256"]
    assert "stale-zcr: its code (staleplug) changed" in caplog.text
    assert "bump `version`" in caplog.text
    caplog.clear()
    staleplug("2", "edited")  # bumped: a fresh cache, no warning
    with caplog.at_level(logging.WARNING):
        third = _run(runs)
    assert not third["method"]["code"].get("stale_cache") and "changed since" not in caplog.text
