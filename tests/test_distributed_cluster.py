"""A two-node Ray cluster on this machine (`ray start --head` plus `ray start --address`), each
node in its own process group, driven by `bench run --executor ray --address`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import toy_plugin

from bench.execution.records import read_record

pytest.importorskip("ray")

RAY = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bench(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _kill_group(group: int) -> None:
    """SIGKILL a node's process group and wait until its daemons are gone."""
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path):
    """Head and worker node, one CPU each; both process groups are killed at the end."""
    if RAY is None:
        pytest.skip("the ray command is not installed")
    site = toy_plugin.install_as_distribution(tmp_path / "site")
    env = dict(os.environ, RAY_AUTH_MODE="token", BENCH_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH"))
                                          if p))
    port = _free_port()
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats",
              "--object-store-memory", str(100 * 2**20)]
    groups: list[int] = []
    try:
        for extra in (["--head", "--port", str(port), "--include-dashboard", "false"],
                      ["--address", f"127.0.0.1:{port}"]):
            proc = subprocess.Popen([RAY, "start", *extra, *common], env=env,
                                    start_new_session=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            groups.append(proc.pid)  # the node's daemons stay in this process group
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out
        yield f"127.0.0.1:{port}", env
    finally:
        for group in groups:
            _kill_group(group)
        # `ray start --head` notes its address for later `ray.init()` calls; ours is gone
        note = Path(tempfile.gettempdir(), "ray", "ray_current_cluster")
        if note.exists() and note.read_text().strip().endswith(f":{port}"):
            note.unlink()


def test_two_node_cluster_gives_the_in_process_result(cluster, tmp_path):
    address, env = cluster
    # a fifth of a second per sample, so that both nodes get shards
    args = ["run", "--task", "consonant-voicing", "--method", "toy-zcr", "--method-config",
            "toy-zcr.sleep=0.2", "--dataset", "toy-segments", "--bootstrap", "100",
            "--no-leaderboard"]
    local = _bench([*args, "--runs-dir", str(tmp_path / "a")], env, tmp_path)
    assert local.returncode == 0, local.stderr
    remote = _bench([*args, "--runs-dir", str(tmp_path / "b"), "--executor", "ray",
                     "--address", address, "--shard-size", "5"], env, tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert "2 node(s), 2 CPU" in remote.stderr
    [path_a] = Path(tmp_path / "a").glob("records/**/toy-zcr*.json")  # a variant: sleep is set
    path_b = tmp_path / "b" / path_a.relative_to(tmp_path / "a")
    a, b = read_record(path_a), read_record(path_b)
    assert b["execution"]["shards"] == 6 and b["execution"]["nodes"] == 2
    assert a["metrics"] == b["metrics"] and a["coverage"] == b["coverage"]
    samples = path_a.with_suffix(".samples.jsonl").relative_to(tmp_path / "a")
    assert (tmp_path / "a" / samples).read_text() == (tmp_path / "b" / samples).read_text()
