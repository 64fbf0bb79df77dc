"""Plugin discovery, isolation, allow/block lists, tracing and the hook docs."""

from __future__ import annotations

import inspect
import types

import pytest
import toy_plugin

from bench import hookimpl, hookspecs
from bench.discovery import loader
from bench.errors import UnknownNameError
from bench.specs import MethodSpec


def test_every_hook_is_documented():
    hooks = [f for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if n.startswith("bench_register_")]
    assert len(hooks) == 6
    for f in hooks:
        assert f.__doc__ and "register" in f.__doc__, f.__name__
        assert list(inspect.signature(f).parameters) == ["register"]


def test_builtin_plugins_register_through_entry_points():
    regs = loader.load_registries()
    core = [p for p in regs.plugins if p.name == "core"]
    assert core and core[0].status == "ok" and core[0].origin.distribution == "bench"
    assert "consonant-voicing" in regs.tasks and "markdown" in regs.reporters


def _broken_module():
    mod = types.ModuleType("broken")

    @hookimpl
    def bench_register_methods(register):
        raise RuntimeError("registration exploded")

    mod.bench_register_methods = bench_register_methods
    return mod


def test_plugin_that_fails_to_register_is_isolated():
    regs = loader.load_registries(extra_plugins=[("broken", _broken_module()),
                                                  ("toy", toy_plugin)])
    info = {p.name: p for p in regs.plugins}
    assert info["broken"].status == "failed"
    assert "registration exploded" in info["broken"].error
    assert info["toy"].status == "ok" and "toy-zcr" in regs.methods


def test_plugin_that_fails_to_import_is_isolated(tmp_path, monkeypatch):
    site = toy_plugin.install_as_distribution(
        tmp_path, {"badplug": "raise ImportError('needs a missing library')\n"})
    monkeypatch.syspath_prepend(str(site))
    regs = loader.load_registries()
    info = {p.name: p for p in regs.plugins}
    assert info["badplug"].status == "failed"
    assert "needs a missing library" in info["badplug"].error
    assert info["toy"].status == "ok" and info["toy"].origin.distribution == "toyplug"
    assert "toy-segments" in regs.datasets


def test_duplicate_names_are_errors_naming_both_origins():
    dup = types.ModuleType("dup")

    @hookimpl
    def bench_register_methods(register):
        register(MethodSpec(name="toy-zcr", task="consonant-voicing", version="9",
                            factory=toy_plugin.make_method))

    dup.bench_register_methods = bench_register_methods
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin), ("dup", dup)])
    info = {p.name: p for p in regs.plugins}
    assert info["dup"].status == "failed"
    assert "'toy'" in info["dup"].error and "'dup'" in info["dup"].error
    assert regs.methods.get("toy-zcr").version == "1"


def test_allow_and_block_lists(monkeypatch):
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "toy")
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    assert "toy-zcr" not in regs.methods
    assert {p.name: p.status for p in regs.plugins}["toy"] == "blocked"
    monkeypatch.delenv("BENCH_DISABLE_PLUGINS")
    monkeypatch.setenv("BENCH_PLUGINS", "toy")
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    assert "toy-zcr" in regs.methods and "consonant-voicing" not in regs.tasks


def test_trace_logs_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("BENCH_TRACE_PLUGINS", "1")
    loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    err = capsys.readouterr().err
    assert "bench_register_methods" in err and "toy" in err


def test_unknown_name_suggests_the_closest():
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin)])
    with pytest.raises(UnknownNameError, match="did you mean 'toy-zcr'"):
        regs.methods.get("toy-zrc")


def test_register_rejects_wrong_spec_type():
    bad = types.ModuleType("badtype")

    @hookimpl
    def bench_register_tasks(register):
        register({"name": "not-a-spec"})

    bad.bench_register_tasks = bench_register_tasks
    regs = loader.load_registries(extra_plugins=[("badtype", bad)])
    assert "must register TaskSpec" in {p.name: p for p in regs.plugins}["badtype"].error


def test_misspelled_hook_is_a_plugin_error_not_a_silent_ok():
    mod = types.ModuleType("typo")

    @hookimpl
    def bench_register_method(register):  # missing the final "s"
        register(MethodSpec(name="never", task="consonant-voicing", factory="x:y"))

    mod.bench_register_method = bench_register_method
    regs = loader.load_registries(extra_plugins=[("typo", mod)], entry_points=False)
    info = regs.plugins[0]
    assert info.status == "failed"
    assert "'bench_register_method'" in info.error
    assert "did you mean 'bench_register_methods'" in info.error
    assert "never" not in regs.methods
    # the next plugin is checked on its own, not blamed for the earlier typo
    regs = loader.load_registries(extra_plugins=[("typo", mod), ("toy", toy_plugin)],
                                   entry_points=False)
    assert [p.status for p in regs.plugins] == ["failed", "ok"]
