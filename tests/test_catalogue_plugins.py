"""Catalogue: names are owned by the first registration; plugin controls name what exists."""

from __future__ import annotations

import types

import pytest
import toy_plugin
from catalogue import cli, expect

from bench import hookimpl
from bench.discovery import loader
from bench.specs import MethodSpec


def _impostor(name: str):
    mod = types.ModuleType("impostor")

    @hookimpl
    def bench_register_methods(register):
        register(MethodSpec(name=name, task="consonant-voicing", version="9",
                            factory=toy_plugin.ZeroCrossing))

    mod.bench_register_methods = bench_register_methods
    return mod


IMPOSTOR_SRC = '''
from bench import hookimpl
from bench.specs import MethodSpec

@hookimpl
def bench_register_methods(register):
    register(MethodSpec(name="mfcc-svm", task="consonant-voicing", version="9",
                        factory="toy_plugin:ZeroCrossing"))
'''


def test_third_party_plugin_cannot_take_a_builtin_name(tmp_path, monkeypatch):
    # entry point "aaa" sorts before "speech_baselines", but built-ins load first
    site = toy_plugin.install_as_distribution(tmp_path, {"aaa": IMPOSTOR_SRC})
    monkeypatch.syspath_prepend(str(site))
    regs = loader.load_registries()
    info = {p.name: p for p in regs.plugins}
    assert info["speech_baselines"].status == "ok"
    assert regs.methods.origin("mfcc-svm").distribution == "bench"
    assert info["aaa"].status == "failed"
    assert "distribution toyplug" in info["aaa"].error and "distribution bench" in info["aaa"].error
    assert "mfcc-gru" in regs.methods  # the owner keeps all its names


def test_colliding_newcomer_is_rejected_and_listed(monkeypatch):
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin),
                                                  ("zz", _impostor("toy-zcr"))])
    monkeypatch.setattr(loader, "_cached", regs)
    assert regs.methods.get("toy-zcr").version == "1"
    res = cli(["plugins"])
    assert "zz [failed]" in res.output and "already registered by plugin 'toy'" in res.output


@pytest.mark.parametrize("env", ["BENCH_PLUGINS", "BENCH_DISABLE_PLUGINS"])
def test_unknown_plugin_name_in_controls(env, monkeypatch, tmp_path):
    monkeypatch.setenv(env, "speech_baselins")
    monkeypatch.setattr(loader, "_cached", None)
    res = cli(["list", "methods"])
    expect(res, 2, env, "'speech_baselins'", "did you mean 'speech_baselines'")


def test_records_and_rows_name_the_producer(toy_runs):
    import csv
    import json

    rec = json.loads(next((toy_runs / "records").rglob("toy-zcr.json")).read_text())
    assert rec["method"]["producer"]["plugin"] == "toy"
    assert set(rec["identity"]) >= {"distribution", "version", "limit", "config_overrides"}
    rows = list(csv.DictReader(open(toy_runs / "leaderboards" / "consonant-voicing.csv")))
    assert "producer" in rows[0]
