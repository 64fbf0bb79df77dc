"""Runs on a local Ray instance give the same records and per-sample files as in-process runs.

One Ray instance (2 CPUs, no dashboard) serves the whole module. Its workers find the toy plugin
through PYTHONPATH, as a third-party plugin installed on a cluster's nodes would be found.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import toy_plugin
from click.testing import CliRunner

from bench.cli import main
from bench.execution.distributed import RayExecutor
from bench.execution.executors import InProcessExecutor
from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit
from bench.execution.store import SampleLog

ray = pytest.importorskip("ray")

CLASSIFICATION = ("accuracy", "balanced-accuracy", "f1", "roc-auc")
VOLATILE = ("timing", "created", "environment", "command", "execution", "sha256")


@pytest.fixture(scope="module")
def ray_local(tmp_path_factory):
    site = toy_plugin.install_as_distribution(tmp_path_factory.mktemp("site"))
    saved = dict(os.environ)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), saved.get("PYTHONPATH", "")) if p)
    os.environ["BENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["BENCH_TOY_CALL_LOG"] = str(tmp_path_factory.mktemp("calls") / "calls.txt")
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=100 * 2**20, logging_level="WARNING")
    yield Path(os.environ["BENCH_TOY_CALL_LOG"])
    ray.shutdown()
    os.environ.clear()
    os.environ.update(saved)


def _units(runs, methods, dataset="toy-segments", metrics=CLASSIFICATION, **kw):
    return [Unit(task=kw.pop("task", "consonant-voicing"), method=m, dataset=dataset,
                 split="test", metrics=metrics, runs_dir=str(runs), bootstrap=200, **kw)
            for m in methods]


def _run(executor, units):
    return [Path(p) for p in executor.map(run_unit, units)]


def _same_results(path_a: Path, path_b: Path) -> None:
    """Records equal but for timings, hardware and where they ran; per-sample files equal."""
    a, b = read_record(path_a), read_record(path_b)
    for key in VOLATILE:
        a.pop(key, None)  # type: ignore[misc]
        b.pop(key, None)  # type: ignore[misc]
    assert a == b
    samples = path_a.with_suffix(".samples.jsonl")
    assert samples.read_text() == path_b.with_suffix(".samples.jsonl").read_text()
    key = a["keys"]["predictions"]
    log_a = SampleLog(path_a.parents[4] / "cache/predictions" / key / "predictions.jsonl").read()
    log_b = SampleLog(path_b.parents[4] / "cache/predictions" / key / "predictions.jsonl").read()
    strip = lambda log: {i: {k: v for k, v in e.items() if k != "artifact"} for i, e in log.items()}
    assert list(log_a) == list(log_b) and strip(log_a) == strip(log_b)


def test_ray_run_equals_the_in_process_run(ray_local, toy_registries, tmp_path):
    def units(runs):
        return (_units(runs, ["topcap-svm", "mfcc-svm"], "toy-consonants")
                + _units(runs, ["toy-flaky"])
                + _units(runs, ["static-reference"], "talking-faces-synthetic",
                         ("ssim", "psnr", "lse-c"), task="talking-face", limit=2))

    local = _run(InProcessExecutor(), units(tmp_path / "a"))
    on_ray = _run(RayExecutor(shard_size=7), units(tmp_path / "b"))
    for a, b in zip(local, on_ray):
        _same_results(a, b)
    topcap = read_record(on_ray[0])
    assert topcap["metrics"]["accuracy"]["value"] is not None
    assert topcap["execution"] == {"executor": "ray", "shard_size": 7, "shards": 4,
                                   "nodes": 1, "retries": 0, "lost_shards": 0,
                                   "gpus_per_shard": 0, "shards_with_gpu": 0,
                                   "devices": {"cpu": 4}}
    assert topcap["coverage"]["n_ok"] > 0 and read_record(on_ray[1])["coverage"]["n_ok"] == 24
    assert read_record(on_ray[2])["coverage"]["n_failed"] == 1  # toy-flaky fails on one sample
    faces = read_record(on_ray[3])
    assert faces["metrics"]["lse-c"]["value"] is not None
    # LSE-C can use a GPU, but this instance has none: none is asked for (the shard would wait
    # for one forever), and the shard ran on the CPU
    assert ray.cluster_resources().get("GPU", 0) == 0
    assert faces["execution"]["gpus_per_shard"] == 0 and faces["execution"]["shards_with_gpu"] == 0
    assert faces["execution"]["devices"] == {"cpu": 1}


def test_shard_sizes_give_identical_results(ray_local, toy_registries, tmp_path):
    paths = [_run(RayExecutor(shard_size=size), _units(tmp_path / str(size), ["toy-coin"]))[0]
             for size in (1, 7, 1000)]
    assert [read_record(p)["execution"]["shards"] for p in paths] == [30, 5, 1]
    _same_results(paths[0], paths[1])
    _same_results(paths[0], paths[2])


def test_resume_sends_only_missing_samples(ray_local, toy_registries, tmp_path):
    first = _run(RayExecutor(shard_size=4), _units(tmp_path, ["toy-zcr"]))[0]
    rec = read_record(first)
    pred_dir = tmp_path / "cache/predictions" / rec["keys"]["predictions"]
    kept = (pred_dir / "predictions.jsonl").read_text().splitlines()[:12]
    (pred_dir / "predictions.jsonl").write_text("\n".join(kept) + "\n")
    (pred_dir / "meta.json").write_text(json.dumps({"complete": False}))
    ray_local.write_text("")
    again = _run(RayExecutor(shard_size=4), _units(tmp_path, ["toy-zcr"], resume=True))[0]
    calls = ray_local.read_text().split()
    assert sorted(calls) == sorted(f"test-{i:02d}" for i in range(12, 30))
    assert read_record(again)["metrics"] == rec["metrics"]


def _kill_first_predicting_worker(pid_dir: Path, killed: list[int]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline and not killed:
        for f in pid_dir.iterdir():
            os.kill(int(f.name), signal.SIGKILL)
            killed.append(int(f.name))
            return
        time.sleep(0.01)


@pytest.mark.parametrize("retries", [3, 0])
def test_killed_worker_is_retried_or_its_samples_recorded_failed(ray_local, toy_registries,
                                                                 tmp_path, retries):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    config = {"sleep": 0.1, "pid_dir": str(pid_dir)}
    undisturbed = _run(InProcessExecutor(),
                       _units(tmp_path / "a", ["toy-zcr"], method_config=config))[0]
    for f in pid_dir.iterdir():
        f.unlink()
    killed: list[int] = []
    killer = threading.Thread(target=_kill_first_predicting_worker, args=(pid_dir, killed))
    killer.start()
    executor = RayExecutor(shard_size=5)
    executor.backend.max_retries = retries
    path = _run(executor, _units(tmp_path / "b", ["toy-zcr"], method_config=config))[0]
    killer.join()
    assert killed and killed[0] != os.getpid()
    rec = read_record(path)
    log = tmp_path / "b/cache/predictions" / rec["keys"]["predictions"] / "predictions.jsonl"
    raw_ids = [json.loads(line)["id"] for line in log.read_text().splitlines()]
    assert len(raw_ids) == len(set(raw_ids))  # nothing duplicated
    if retries:
        assert rec["execution"]["retries"] == 1 and rec["execution"]["lost_shards"] == 0
        _same_results(undisturbed, path)
        return
    # no retries: the lost shard's samples are failed, not logged; the other shards finished
    assert rec["execution"]["lost_shards"] == 1
    failed = [f for f in rec["coverage"]["failures"] if "was lost" in f["message"]]
    assert len(failed) == 5 and rec["coverage"]["n_ok"] == 25 and len(raw_ids) == 25
    assert rec["metrics"]["accuracy"]["status"] == "partial"
    resumed = _run(RayExecutor(shard_size=5),
                   _units(tmp_path / "b", ["toy-zcr"], method_config=config, resume=True))[0]
    _same_results(undisturbed, resumed)


def test_cli_runs_on_ray_and_says_so(ray_local, toy_registries, tmp_path):
    result = CliRunner().invoke(main, [
        "run", "--executor", "ray", "--shard-size", "8", "--task", "consonant-voicing",
        "--method", "toy-zcr", "--dataset", "toy-segments", "--runs-dir", str(tmp_path),
        "--bootstrap", "50", "--no-leaderboard"])
    assert result.exit_code == 0, result.output
    assert "toy-zcr on toy-segments/test: accuracy=" in result.output
    assert "ray: 1 unit(s) in" in result.output and "2 CPU" in result.output
    rec = read_record(next(tmp_path.glob("records/**/toy-zcr.json")))
    assert rec["execution"]["shards"] == 4


def test_without_ray_the_executor_is_one_line_saying_how_to_install(toy_registries, tmp_path,
                                                                    monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    result = CliRunner().invoke(main, ["run", "--executor", "ray", "--method", "toy-zcr",
                                       "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: the ray executor needs Ray, which is not installed: "
        "pip install 'bench[ray]' (or: pip install ray)"]


def test_resources_ask_for_a_gpu_only_where_the_cluster_has_one():
    from types import SimpleNamespace

    from bench.execution.distributed import RayBackend, unit_resources
    from bench.specs import Resources

    specs = {"m1": SimpleNamespace(resources=Resources(gpus=1)),
             "m2": SimpleNamespace(resources=Resources(cpus=3, memory_mb=512))}
    plan = SimpleNamespace(mspec=SimpleNamespace(resources=Resources(cpus=2)),
                           unit=SimpleNamespace(metrics=("m1", "m2")),
                           regs=SimpleNamespace(metrics=SimpleNamespace(get=specs.__getitem__)))
    assert unit_resources(plan, False) == Resources(cpus=2)  # preparing: the method alone
    shard = unit_resources(plan, True)
    assert shard == Resources(cpus=3, gpus=1, memory_mb=512)
    backend = RayBackend()
    backend.resources = {"CPU": 8.0}
    assert backend._options(shard) == {"num_cpus": 3, "memory": 512 * 2**20}
    backend.resources = {"CPU": 8.0, "GPU": 2.0}
    assert backend._options(shard) == {"num_cpus": 3, "num_gpus": 1, "memory": 512 * 2**20}
    with pytest.raises(ValueError, match="resources"):
        Resources(cpus=0)


def test_sample_log_extend_writes_verified_lines_and_survives_a_torn_tail(tmp_path):
    log = SampleLog(tmp_path / "log.jsonl")
    log.extend([{"id": "a", "v": 1}, {"id": "b", "v": 2}])
    log.extend([])
    with open(log.path, "a") as f:
        f.write('{"id": "c", "v": 3, "sha2')  # a crash in the middle of the next write
    assert log.read() == {"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 2}}


class _FlakyRay:
    """``ray.init`` failing ``failures`` times as a busy ray:// head's client server does."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, []

    def init(self, address, **kwargs):
        self.calls.append(address)
        if len(self.calls) <= self.failures:
            raise ConnectionAbortedError("Initialization failure from server:\nRuntimeError: "
                                         "Starting Ray client server failed.")


def test_connecting_to_a_ray_client_head_is_tried_again_after_a_failed_start(monkeypatch, caplog):
    from bench.execution import distributed

    monkeypatch.setattr(distributed.time, "sleep", lambda s: None)
    backend = distributed.RayBackend(address="ray://head:10001")
    backend.ray = _FlakyRay(failures=2)
    backend._connect()
    assert backend.ray.calls == ["ray://head:10001"] * 3
    assert "Starting Ray client server failed" in caplog.text
    backend.ray = _FlakyRay(failures=3)  # the last failure is the user's error
    with pytest.raises(ConnectionAbortedError, match="client server failed"):
        backend._connect()
    # a plain head address is one attempt: nothing on the head starts per client
    backend = distributed.RayBackend(address="127.0.0.1:6379")
    backend.ray = _FlakyRay(failures=1)
    with pytest.raises(ConnectionAbortedError):
        backend._connect()
    assert backend.ray.calls == ["127.0.0.1:6379"]
