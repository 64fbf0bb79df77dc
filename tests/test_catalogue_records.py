"""Catalogue: what a run may replace. Smoke runs, variants and failures never shrink a result."""

from __future__ import annotations

import json
import shutil

import pytest
from catalogue import TOY, cli, expect, snapshot

BASE = "records/consonant-voicing/toy-segments/test"


def test_smoke_run_lives_beside_and_never_feeds_a_leaderboard(toy_runs):
    before = snapshot(toy_runs)
    res = cli(["run", *TOY, "--method", "toy-zcr", "--limit", "5", "--runs-dir", toy_runs])
    expect(res, 0, "smoke run (--limit 5)")
    assert snapshot(toy_runs) == {**before, **{k: v for k, v in snapshot(toy_runs).items()
                                               if "limit5" in k}}
    smoke = json.loads((toy_runs / BASE / "toy-zcr.limit5.json").read_text())
    assert smoke["kind"] == "smoke" and smoke["dataset"]["n_samples"] == 5
    expect(cli(["leaderboard", "--runs-dir", toy_runs]), 0)
    md = (toy_runs / "leaderboards" / "consonant-voicing.md").read_text()
    assert "--limit" not in md and "| 30 |" in md


@pytest.mark.parametrize("args,suffix", [
    (["--method-config", "toy-zcr.threshold=0.3"], "~"),
    (["--seed", "3"], "~"),
])
def test_variant_goes_beside_the_default_record(toy_runs, args, suffix):
    good = (toy_runs / BASE / "toy-zcr.json").read_bytes()
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, *args])
    expect(res, 0)
    assert (toy_runs / BASE / "toy-zcr.json").read_bytes() == good
    variants = [p for p in (toy_runs / BASE).glob(f"toy-zcr{suffix}*.json")]
    assert len(variants) == 1
    rec = json.loads(variants[0].read_text())
    assert rec["identity"]["variant"] and rec["identity"]["distribution"] == ""


def test_failed_rerun_keeps_the_good_record(toy_runs, monkeypatch):
    before = snapshot(toy_runs)
    shutil.rmtree(toy_runs / "cache")  # force a re-fit, which fails
    monkeypatch.setenv("BENCH_TOY_FAIL_FIT", "1")
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--no-leaderboard"])
    expect(res, 3, "the last good record", "toy-zcr.failed.json")
    after = snapshot(toy_runs)
    assert {k: after[k] for k in before} == before
    failure = json.loads((toy_runs / BASE / "toy-zcr.failed.json").read_text())
    assert failure["kind"] == "failure" and "fit exploded" in failure["coverage"]["status"]
    expect(cli(["leaderboard", "--runs-dir", toy_runs]), 0)
    assert "fit exploded" not in (toy_runs / "leaderboards" / "consonant-voicing.md").read_text()
    monkeypatch.delenv("BENCH_TOY_FAIL_FIT")
    expect(cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--no-leaderboard"]), 0)
    assert not (toy_runs / BASE / "toy-zcr.failed.json").exists()


@pytest.mark.parametrize("methods,code", [(["toy-zcr"], 0), (["toy-zcr", "toy-nan"], 1),
                                          (["toy-nan"], 3), (["toy-shape"], 3)])
def test_exit_status_says_what_was_evaluated(toy_runs, methods, code):
    args = [a for m in methods for a in ("--method", m)]
    res = cli(["run", *TOY, *args, "--runs-dir", toy_runs, "--no-leaderboard"])
    expect(res, code)
    if code:
        assert "could not be evaluated" in res.output


def test_record_from_another_distribution_is_not_replaced(toy_runs):
    from bench.execution.records import read_record, write_record

    path = toy_runs / BASE / "toy-zcr.json"
    rec = dict(read_record(path))
    rec["identity"] = {**rec["identity"], "distribution": "other-dist"}
    write_record(path, rec)  # type: ignore[arg-type]
    before = path.read_bytes()
    import dataclasses

    from bench.discovery import loader
    from bench.discovery.registry import Origin

    regs = loader._cached
    regs.methods._origins["toy-zcr"] = dataclasses.replace(regs.methods._origins["toy-zcr"],
                                                           distribution="toyplug", version="0.1")
    expect(cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs]), 0)
    assert path.read_bytes() == before
    beside = [p for p in (toy_runs / BASE).glob("toy-zcr~*.json")]
    assert len(beside) == 1 and json.loads(beside[0].read_text())["identity"]["distribution"] == "toyplug"
    assert Origin  # imported for the type of the replaced origin


def test_corrupt_record_is_refused_by_the_leaderboard_and_left_alone(toy_runs):
    path = toy_runs / BASE / "toy-zcr.json"
    data = json.loads(path.read_text())
    data["metrics"]["accuracy"]["value"] = 0.5
    path.write_text(json.dumps(data))
    before = snapshot(toy_runs)
    expect(cli(["leaderboard", "--runs-dir", toy_runs]), 2, str(path), "checksum mismatch")
    assert snapshot(toy_runs) == before


def test_corrupt_sample_line_is_recomputed_to_the_same_record(toy_runs):
    rec = json.loads((toy_runs / BASE / "toy-zcr.json").read_text())
    pred = toy_runs / "cache/predictions" / rec["keys"]["predictions"] / "predictions.jsonl"
    lines = pred.read_text().splitlines()
    pred.write_text("\n".join(lines[:5] + ["{torn"] + lines[6:]) + "\n")
    expect(cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--resume",
                "--no-leaderboard"]), 0)
    new = json.loads((toy_runs / BASE / "toy-zcr.json").read_text())
    assert new["metrics"] == rec["metrics"]


@pytest.mark.parametrize("mode", ["badcol", "unnormalised"])
def test_probabilities_are_checked_in_both_columns(toy_runs, mode):
    before = snapshot(toy_runs)
    res = cli(["run", *TOY, "--method", "toy-zcr", "--method-config", f"toy-zcr.mode={mode}",
               "--runs-dir", toy_runs, "--no-leaderboard"])
    expect(res, 3, "could not be evaluated")
    rec = json.loads(next((toy_runs / BASE).glob("toy-zcr~*.json")).read_text())
    assert rec["coverage"]["n_ok"] == 0
    assert "is not a probability pair" in rec["coverage"]["failures"][0]["message"]
    assert {k: v for k, v in snapshot(toy_runs).items() if k in before} == before


def test_check_writes_its_own_records(toy_runs, toy_registries, monkeypatch):
    import dataclasses

    spec = toy_registries.methods.get("toy-zcr")
    monkeypatch.setitem(toy_registries.methods._items, "toy-zcr",
                        dataclasses.replace(spec, reference=True))
    before = snapshot(toy_runs)
    res = cli(["check", "--method", "toy-zcr", "--leaderboards-dir", toy_runs / "leaderboards",
               "--runs-dir", toy_runs])
    expect(res, 0, "[holds] toy-zcr")
    assert snapshot(toy_runs) == before
    rec = json.loads(next((toy_runs / "check" / "records").rglob("toy-zcr.json")).read_text())
    assert rec["kind"] == "check" and set(rec["metrics"]) == {
        "accuracy", "balanced-accuracy", "f1", "roc-auc"}


def test_run_of_fewer_metrics_keeps_the_others(toy_runs):
    path = toy_runs / BASE / "toy-zcr.json"
    old = json.loads(path.read_text())
    res = cli(["run", *TOY, "--method", "toy-zcr", "--metric", "f1", "--runs-dir", toy_runs])
    expect(res, 0)
    new = json.loads(path.read_text())
    assert new["metrics"] == old["metrics"] and new["metric_order"] == old["metric_order"]
    from bench.execution.store import SampleLog

    scores = SampleLog(path.with_suffix(".samples.jsonl")).read()
    assert set(next(iter(scores.values()))["scores"]) == set(old["metrics"])
    assert "accuracy" in (toy_runs / "leaderboards" / "consonant-voicing.md").read_text()


def _unavailable(*a, **k):
    from bench.errors import Unavailable

    raise Unavailable("weights x are not installed", install="bench weights fetch x")


@pytest.mark.parametrize("which", [["accuracy"], ["accuracy", "balanced-accuracy", "f1", "roc-auc"]])
def test_metrics_unavailable_now_do_not_erase_their_values(toy_runs, toy_registries, monkeypatch,
                                                           which):
    import dataclasses

    for name in which:
        spec = toy_registries.metrics.get(name)
        monkeypatch.setitem(toy_registries.metrics._items, name,
                            dataclasses.replace(spec, factory=_unavailable))
    path = toy_runs / BASE / "toy-zcr.json"
    old = json.loads(path.read_text())
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--no-leaderboard"])
    new = json.loads(path.read_text())
    assert {m: r["value"] for m, r in new["metrics"].items()} == {
        m: r["value"] for m, r in old["metrics"].items()}
    if len(which) == 1:
        expect(res, 0)
        assert "weights x are not installed" in new["metrics"]["accuracy"]["details"]["unavailable_now"]
    else:
        expect(res, 3, "the last good record")
        assert new == old
        assert (toy_runs / BASE / "toy-zcr.failed.json").exists()
