"""Catalogue: one writer per unit, atomic rewrites, and resume after kill -9 at random points."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import toy_plugin
from catalogue import TOY, cli, expect, snapshot

from bench.execution.store import SampleLog

LOCK = "locks/consonant-voicing/toy-segments/test/toy-zcr.lock"


def _hold(lock: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the unit's lock, as a live run would."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    code = textwrap.dedent(f"""
        import filelock, os, sys, time
        lock = filelock.FileLock({str(lock)!r})
        lock.acquire()
        open({str(lock.with_suffix('.owner'))!r}, "w").write(f"pid {{os.getpid()}}")
        print("held", flush=True)
        time.sleep({seconds})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_resume_of_a_live_run_is_refused(toy_runs):
    holder = _hold(toy_runs / LOCK, 30)
    try:
        before = snapshot(toy_runs)
        res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--resume"])
        expect(res, 2, "--resume of a live run is refused", f"pid {holder.pid}", LOCK)
        assert snapshot(toy_runs) == before
    finally:
        holder.kill()
        holder.wait()


def test_second_run_waits_then_fails_clearly(toy_runs, monkeypatch):
    monkeypatch.setenv("BENCH_LOCK_TIMEOUT", "0.5")
    holder = _hold(toy_runs / LOCK, 30)
    try:
        before = snapshot(toy_runs)
        res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs])
        expect(res, 2, "waiting for toy-zcr", "still being run", "nothing was written")
        assert snapshot(toy_runs) == before
    finally:
        holder.kill()
        holder.wait()


def test_second_run_waits_and_proceeds_when_the_first_ends(toy_runs):
    holder = _hold(toy_runs / LOCK, 1.0)
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs, "--no-leaderboard"])
    holder.wait()
    expect(res, 0, "waiting for toy-zcr", "the other run finished")
    assert not (toy_runs / LOCK).with_suffix(".owner").exists()


def test_concurrent_rewrites_never_truncate(tmp_path):
    log = SampleLog(tmp_path / "x.samples.jsonl")
    entries = [{"id": f"s{i:03d}", "scores": {"a": i}} for i in range(300)]
    errors = []

    def writer():
        try:
            for _ in range(10):
                log.rewrite(entries)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(log.read()) == 300 and len(log.path.read_text().splitlines()) == 300
    assert [p.name for p in tmp_path.iterdir()] == ["x.samples.jsonl"]


def _env(tmp_path, **extra):
    site = toy_plugin.install_as_distribution(tmp_path / "site")
    return dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                **extra)


def _args(runs):
    return ["run", *TOY, "--method", "toy-zcr", "--runs-dir", str(runs)]


def test_two_processes_on_one_unit_keep_every_sample(tmp_path):
    env = _env(tmp_path, BENCH_TOY_SLEEP="0.02")
    runs = tmp_path / "runs"
    procs = [subprocess.Popen([sys.executable, "-m", "bench.cli", *_args(runs), "--no-leaderboard"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert any("waiting for toy-zcr" in err for _, err in outs)
    samples = next(runs.glob("records/**/toy-zcr.samples.jsonl"))
    assert len(SampleLog(samples).read()) == len(samples.read_text().splitlines()) == 30


def _stable(rec: dict) -> dict:
    return {k: rec[k] for k in ("metrics", "coverage", "dataset", "identity", "keys", "method")}


@pytest.mark.slow
def test_chaos_kill_9_at_random_points_then_resume_gives_the_same_record(tmp_path):
    """Seeded kills during prediction, scoring, record and leaderboard writing."""
    env = _env(tmp_path, BENCH_TOY_SLEEP="0.01")
    ref_runs, runs = tmp_path / "ref", tmp_path / "runs"
    started = time.monotonic()
    ref = subprocess.run([sys.executable, "-m", "bench.cli", *_args(ref_runs)], env=env,
                         capture_output=True, text=True, timeout=120)
    full = time.monotonic() - started
    assert ref.returncode == 0, ref.stderr
    rng = random.Random(13)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *_args(runs), "--resume"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(0.3, 1.0) * full)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run([sys.executable, "-m", "bench.cli", *_args(runs), "--resume"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rel = "records/consonant-voicing/toy-segments/test/toy-zcr"
    got = json.loads((runs / f"{rel}.json").read_text())
    want = json.loads((ref_runs / f"{rel}.json").read_text())
    assert _stable(got) == _stable(want)
    assert (runs / f"{rel}.samples.jsonl").read_bytes() == (ref_runs / f"{rel}.samples.jsonl").read_bytes()
    pred = runs / "cache/predictions" / got["keys"]["predictions"] / "predictions.jsonl"
    ids = [json.loads(x)["id"] for x in pred.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 30
    assert not list(runs.rglob("*.tmp"))
