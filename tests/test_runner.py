"""The two-stage runner: records, caching, failures, corruption and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import toy_plugin

from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit
from bench.execution.store import SampleLog

METRICS = ("accuracy", "balanced-accuracy", "f1", "roc-auc")


def _unit(tmp_path, method="toy-zcr", **kw):
    return Unit(task="consonant-voicing", method=method, dataset="toy-segments", split="test",
                metrics=METRICS, runs_dir=str(tmp_path), bootstrap=200, **kw)


def test_run_writes_a_complete_record(tmp_path, toy_registries):
    rec = read_record(Path(run_unit(_unit(tmp_path))))
    acc = rec["metrics"]["accuracy"]
    assert acc["value"] > 0.9 and acc["status"] == "ok"
    assert acc["ci"][0] <= acc["value"] <= acc["ci"][1]
    assert acc["n_scored"] == acc["n_total"] == 30
    assert rec["coverage"]["n_ok"] == 30
    assert rec["dataset"]["manifest_hash"] and rec["method"]["config_hash"]
    assert rec["environment"]["libraries"]["numpy"]
    assert rec["reproduce"].startswith("bench run --task consonant-voicing --method toy-zcr")
    assert set(rec["timing"]) >= {"load", "predict", "score"}
    samples = SampleLog(Path(run_unit(_unit(tmp_path))).with_suffix(".samples.jsonl")).read()
    assert len(samples) == 30 and "accuracy" in next(iter(samples.values()))["scores"]


def test_method_raising_on_one_sample_is_recorded_and_run_continues(tmp_path, toy_registries):
    rec = read_record(Path(run_unit(_unit(tmp_path, "toy-flaky"))))
    acc = rec["metrics"]["accuracy"]
    assert acc["status"] == "partial" and acc["n_scored"] == 29 and acc["n_failed"] == 1
    assert "cannot handle segment test-07" in acc["failures"][0]["message"]
    assert rec["coverage"]["failures"][0]["id"] == "test-07"


@pytest.mark.parametrize("method,message", [("toy-shape", "shape (1, 3)"), ("toy-nan", "no prediction (NaN probabilities)")])
def test_wrong_shape_or_nan_predictions_are_failures(tmp_path, toy_registries, method, message):
    rec = read_record(Path(run_unit(_unit(tmp_path, method))))
    assert rec["coverage"]["n_failed"] == 30
    assert message in rec["coverage"]["failures"][0]["message"]
    assert rec["metrics"]["accuracy"]["status"] == "failed"
    assert rec["metrics"]["accuracy"]["value"] is None


def test_unreadable_sample_is_recorded_with_its_file(tmp_path, toy_registries, monkeypatch):
    monkeypatch.setenv("BENCH_TOY_BAD_FILE", "1")
    rec = read_record(Path(run_unit(_unit(tmp_path))))
    fails = rec["coverage"]["failures"]
    assert fails == [{"id": "test-bad", "stage": "load",
                      "message": "toy/test-bad.wav: cannot decode audio (truncated file)"}]
    assert rec["metrics"]["accuracy"]["n_scored"] == 30


def test_predictions_are_cached_and_rescoring_does_not_rerun(tmp_path, toy_registries,
                                                              monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("BENCH_TOY_CALL_LOG", str(calls))
    run_unit(_unit(tmp_path))
    assert len(calls.read_text().split()) == 30
    unit = Unit(task="consonant-voicing", method="toy-zcr", dataset="toy-segments",
                split="test", metrics=("f1",), runs_dir=str(tmp_path), bootstrap=50)
    run_unit(unit)
    assert len(calls.read_text().split()) == 30  # new metric, no new predictions
    run_unit(_unit(tmp_path, method_config={"threshold": 0.2}))
    assert len(calls.read_text().split()) == 60  # a new config is a new identity


def test_corrupt_cache_entry_is_detected_and_recomputed(tmp_path, toy_registries, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("BENCH_TOY_CALL_LOG", str(calls))
    rec = read_record(Path(run_unit(_unit(tmp_path))))
    pred_file = tmp_path / "cache/predictions" / rec["keys"]["predictions"] / "predictions.jsonl"
    lines = pred_file.read_text().splitlines()
    entry = json.loads(lines[3])
    entry["data"]["proba"] = 1.0 - entry["data"]["proba"]  # tampered; checksum left as it was
    lines[3] = json.dumps(entry)
    pred_file.write_text("\n".join(lines) + "\n")
    rec2 = read_record(Path(run_unit(_unit(tmp_path, resume=True))))
    assert len(calls.read_text().split()) == 31  # exactly the tampered sample again
    assert rec2["metrics"]["accuracy"]["value"] == rec["metrics"]["accuracy"]["value"]


def test_corrupt_record_is_refused(tmp_path, toy_registries):
    from bench.execution.records import RecordError

    path = Path(run_unit(_unit(tmp_path)))
    data = json.loads(path.read_text())
    data["metrics"]["accuracy"]["value"] = 0.123
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="checksum mismatch"):
        read_record(path)


def _bench(args, env, cwd):
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_resume_after_kill_9_loses_and_duplicates_nothing(tmp_path):
    site = toy_plugin.install_as_distribution(tmp_path / "site")
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               BENCH_TOY_SLEEP="0.15", BENCH_TOY_CALL_LOG=str(tmp_path / "calls.txt"))
    args = ["run", "--task", "consonant-voicing", "--method", "toy-zcr", "--dataset",
            "toy-segments", "--runs-dir", str(tmp_path / "runs"), "--bootstrap", "50",
            "--no-leaderboard"]
    proc = _bench(args, env, tmp_path)
    pred_files = tmp_path / "runs/cache/predictions"
    deadline = time.time() + 60
    while time.time() < deadline:
        done = list(pred_files.glob("*/predictions.jsonl"))
        if done and len(done[0].read_text().splitlines()) >= 16:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len(done[0].read_text().splitlines())
    assert 16 <= before < 30
    env["BENCH_TOY_SLEEP"] = "0"
    out = _bench(args + ["--resume"], env, tmp_path)
    stdout, stderr = out.communicate(timeout=120)
    assert out.returncode == 0, stderr
    entries = SampleLog(done[0]).read()
    raw_ids = [json.loads(x)["id"] for x in done[0].read_text().splitlines()]
    assert len(entries) == 30 and len(raw_ids) == len(set(raw_ids)) == 30
    calls = (tmp_path / "calls.txt").read_text().split()
    # every sample predicted once, except those of the batch in flight when killed
    from bench.tasks.consonant import ConsonantRunner

    assert 30 <= len(calls) <= 30 + ConsonantRunner.batch_size
    assert set(calls) == set(raw_ids)
    rec = read_record(next((tmp_path / "runs/records").glob("**/toy-zcr.json")))
    assert rec["metrics"]["accuracy"]["n_scored"] == 30
