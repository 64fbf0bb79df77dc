"""Reproducibility: declared tolerances, the committed-number check, seeds, threads, kernel pinning."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from bench.execution import determinism
from bench.cli import main
from bench.execution.runner import Unit, run_unit
from bench.specs import EXACT, MethodSpec, Tolerance
from bench.reporting.verify import Claim, judge


def test_tolerance_is_exact_unless_declared_and_a_bound_needs_a_reason():
    spec = MethodSpec(name="m", task="t", version="1", factory="x:y")
    assert spec.tolerance_for("accuracy") == EXACT and EXACT.bound(0.9) == 0.0
    loose = Tolerance(abs=0.01, rel=0.001, reason="sampling")
    spec = dataclasses.replace(spec, tolerance={"*": loose, "f1": EXACT})
    assert spec.tolerance_for("accuracy") is loose and spec.tolerance_for("f1") == EXACT
    assert loose.bound(-2.0) == pytest.approx(0.012)
    with pytest.raises(ValueError, match="reason"):
        Tolerance(abs=0.1)
    with pytest.raises(ValueError, match=">= 0"):
        Tolerance(rel=-1, reason="x")


def test_a_tolerance_for_one_cpu_vendor_widens_only_elsewhere(monkeypatch):
    from bench.execution import provenance
    from bench.reporting.verify import committed_claims
    from bench.specs import TORCH_TRAINED

    assert TORCH_TRAINED.on("GenuineIntel") is TORCH_TRAINED
    assert TORCH_TRAINED.on("GenuineIntel").bound(0.9) == 0.0
    assert TORCH_TRAINED.on("AuthenticAMD").bound(0.9) == 0.01
    with pytest.raises(ValueError, match="vendor"):
        Tolerance(vendor="GenuineIntel")
    with pytest.raises(ValueError, match="vendor"):
        Tolerance(elsewhere=Tolerance(abs=0.1, reason="x"))
    # bench check reads this machine's vendor: exact on Intel, the wider bound on AMD
    spec = MethodSpec(name="m", task="t", version="1", factory="x:y",
                      tolerance={"*": TORCH_TRAINED})
    run = type("Run", (), {"file": "f", "record": {
        "task": {"name": "t"}, "dataset": {"name": "d", "split": "test"}, "method": {"name": "m"},
        "metrics": {"accuracy": {"value": 0.9}}}})()
    for vendor, bound in (("GenuineIntel", 0.0), ("AuthenticAMD", 0.01), ("", 0.01)):
        monkeypatch.setattr(provenance, "cpu_vendor", lambda v=vendor: v)
        claim, = committed_claims([run], {"m": spec})
        assert claim.tolerance == bound
        verdict = judge(claim, {"value": 0.905, "ci": [0.8, 1.0]})
        assert verdict.status == ("holds" if bound else "does not hold")


def test_cpu_vendor_reads_proc_cpuinfo():
    from bench.execution.provenance import cpu_vendor

    vendor = cpu_vendor()
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        assert vendor == ""
        return
    assert (vendor in text) if vendor else "vendor_id" not in text


def test_a_committed_number_is_judged_by_its_difference_and_bound():
    exact = Claim("t", "d", "s", "m", "accuracy", 0.9, committed=True)
    same = judge(exact, {"value": 0.9, "ci": [0.8, 1.0]})
    assert same.status == "holds" and "difference +0" in same.message
    assert "bound 0 (exact)" in same.message
    # inside the run's CI but not the same number: an exact claim does not hold
    off = judge(exact, {"value": 0.9 + 1e-12, "ci": [0.8, 1.0]})
    assert off.status == "does not hold" and "difference +1e-12" in off.message
    loose = dataclasses.replace(exact, tolerance=0.01, reason="float32 noise")
    v = judge(loose, {"value": 0.905, "ci": [0.8, 1.0]})
    assert v.status == "holds" and "bound 0.01 (float32 noise)" in v.message
    assert judge(loose, {"value": 0.92, "ci": [0.8, 1.0]}).status == "does not hold"


class SeedRecorder:
    """A consonant method that remembers the seed and the torch settings it ran under."""

    seen: list[dict] = []

    def __init__(self, seed: int = -1):
        self.seed = seed

    def fit(self, segments, labels):
        SeedRecorder.seen.append({"seed": self.seed, "threads": torch.get_num_threads(),
                                  "deterministic": torch.are_deterministic_algorithms_enabled()})
        return self

    def predict_proba(self, segments):
        return np.tile([0.5, 0.5], (len(segments), 1))


def test_runner_seeds_the_method_with_the_run_seed_and_fixes_its_threads(tmp_path,
                                                                          toy_registries,
                                                                          monkeypatch):
    spec = dataclasses.replace(toy_registries.methods.get("toy-zcr"), factory=SeedRecorder,
                               config={}, threads=1)
    monkeypatch.setitem(toy_registries.methods._items, "toy-zcr", spec)
    SeedRecorder.seen.clear()
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    path = run_unit(Unit(task="consonant-voicing", method="toy-zcr", dataset="toy-segments",
                         split="test", metrics=("accuracy",), seed=3, bootstrap=20,
                         runs_dir=str(tmp_path)))
    assert SeedRecorder.seen == [{"seed": 3, "threads": 1, "deterministic": True}]
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before
    record = json.loads(open(path).read())
    assert record["seeds"]["method"] == 3
    assert record["environment"]["determinism"]["threads"] == 1
    # a seed the config sets is the one used and recorded
    path = run_unit(Unit(task="consonant-voicing", method="toy-zcr", dataset="toy-segments",
                         split="test", metrics=("accuracy",), seed=3, bootstrap=20,
                         runs_dir=str(tmp_path), method_config={"seed": 7}))
    assert SeedRecorder.seen[-1]["seed"] == 7
    assert json.loads(open(path).read())["seeds"]["method"] == 7


def test_check_prints_difference_and_bound(tmp_path, toy_registries, monkeypatch):
    spec = toy_registries.methods.get("toy-zcr")
    monkeypatch.setitem(toy_registries.methods._items, "toy-zcr",
                        dataclasses.replace(spec, reference=True))
    runs, boards = tmp_path / "runs", tmp_path / "boards"
    res = CliRunner().invoke(main, ["run", "--task", "consonant-voicing", "--dataset",
                                    "toy-segments", "--method", "toy-zcr", "--runs-dir",
                                    str(runs), "--bootstrap", "50", "--leaderboards-dir",
                                    str(boards)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["check", "--leaderboards-dir", str(boards),
                                    "--runs-dir", str(tmp_path / "fresh")])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if "[holds] toy-zcr" in x]
    import csv

    committed = [r for r in csv.DictReader((boards / "consonant-voicing.csv").open())
                 if r["method"] == "toy-zcr" and r["value"]]
    assert len(lines) == len(committed) >= 3
    assert all("difference +0, bound 0 (exact)" in x for x in lines)


def test_fixed_threads_sets_and_restores_torch_and_blas():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    with determinism.fixed_threads(1) as settings:
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
        assert all(p["num_threads"] == 1 for p in threadpool_info())
        assert settings["threads"] == 1
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before
    with pytest.raises(ValueError):
        with determinism.fixed_threads(0):
            pass


def _child_report() -> dict:
    import numpy  # noqa: F401  (loads OpenBLAS, so its kernel path shows)

    return determinism.kernel_report()


@pytest.mark.slow  # starts a process
def test_run_pinned_starts_a_process_with_the_avx2_kernel_paths():
    import os

    before = {k: os.environ.get(k) for k in determinism.PINNED_KERNELS}
    report = determinism.run_pinned(_call, _child_report)
    assert report["pinned"] and report["env"] == determinism.PINNED_KERNELS
    assert report["blas"] and all(b == "openblas:Haswell" for b in report["blas"])
    assert {k: os.environ.get(k) for k in determinism.PINNED_KERNELS} == before  # left as it was


def _call(fn):
    return fn()


def test_an_error_in_the_pinned_process_comes_back_as_a_clear_error(monkeypatch):
    from bench.errors import BenchError

    monkeypatch.setattr(determinism, "PINNED_KERNELS", {"BENCH_TEST_PIN": "1"})
    assert not determinism.pinning_enabled()  # the suite runs units unpinned (conftest)
    with pytest.raises(BenchError, match="boom"):
        determinism.run_pinned(_call, _unpicklable_failure)


class _Unpicklable(Exception):
    def __init__(self, message, extra):
        super().__init__(message)
        self.extra = extra


def _unpicklable_failure():
    raise _Unpicklable("boom", extra=1)


@pytest.mark.slow  # starts a process
def test_pinned_units_share_one_process_and_a_dead_one_is_replaced():
    import os
    import signal

    from bench.errors import BenchError

    first = determinism.run_pinned(_call, os.getpid)
    assert first != os.getpid()
    assert determinism.run_pinned(_call, os.getpid) == first  # no new spawn per unit
    with pytest.raises(BenchError, match="ended without a result"):
        determinism.run_pinned(_kill_self, signal.SIGKILL)
    again = determinism.run_pinned(_call, os.getpid)
    assert again != first
    assert determinism.run_pinned(_call, determinism.kernels_pinned)


def _kill_self(sig):
    import os

    os.kill(os.getpid(), sig)
