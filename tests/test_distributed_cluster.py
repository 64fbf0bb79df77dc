"""Ray clusters on this machine, started with `ray start`, each node in its own process group,
driven by `bench run --executor ray --address`: two nodes (a head and a worker) reached by the
head's address, and a head reached through its Ray Client server (`ray://`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
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


@contextmanager
def _nodes(tmp_path, port, *nodes):
    """Nodes started with `ray start ARGS` (one CPU each), in order; yields the environment
    that finds the toy plugin. Every node's process group is killed at the end."""
    if RAY is None:
        pytest.skip("the ray command is not installed")
    site = toy_plugin.install_as_distribution(tmp_path / "site")
    env = dict(os.environ, RAY_AUTH_MODE="token", BENCH_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH"))
                                          if p))
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats",
              "--object-store-memory", str(100 * 2**20)]
    groups: list[int] = []
    try:
        for extra in nodes:
            proc = subprocess.Popen([RAY, "start", *extra, *common], env=env,
                                    start_new_session=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            groups.append(proc.pid)  # the node's daemons stay in this process group
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out
        yield env
    finally:
        for group in groups:
            _kill_group(group)
        # `ray start --head` notes its address for later `ray.init()` calls; ours is gone
        note = Path(tempfile.gettempdir(), "ray", "ray_current_cluster")
        if note.exists() and note.read_text().strip().endswith(f":{port}"):
            note.unlink()


HEAD = ["--head", "--include-dashboard", "false"]


@pytest.fixture
def cluster(tmp_path):
    """Head and worker node, one CPU each."""
    port = _free_port()
    with _nodes(tmp_path, port, [*HEAD, "--port", str(port)],
                ["--address", f"127.0.0.1:{port}"]) as env:
        yield f"127.0.0.1:{port}", env


@pytest.fixture
def client_head(tmp_path):
    """A head node with a Ray Client server, in its own temporary directory; yields its
    ``ray://`` address."""
    pytest.importorskip("grpc", reason="the ray:// client needs 'ray[client]' (grpcio)")
    port, client = _free_port(), _free_port()
    temp = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths must stay short
    try:
        with _nodes(tmp_path, port, [*HEAD, "--port", str(port), "--ray-client-server-port",
                                     str(client), "--temp-dir", temp]) as env:
            yield f"ray://127.0.0.1:{client}", env, Path(temp)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _client_server_logs(temp: Path | None) -> str:
    """The tails of the head's Ray Client server logs: why a ``ray://`` run failed to start."""
    if temp is None:
        return ""
    return "".join(f"\n--- {log.name}:\n{log.read_text(errors='replace')[-3000:]}"
                   for log in sorted(temp.glob("session_*/logs/ray_client_server*"))
                   if not log.parents[1].is_symlink())  # session_latest: the same files


def _in_process_and_on(address, env, tmp_path, *extra, temp=None):
    """The toy-zcr records (and per-sample files) of an in-process run and of one on
    ``address``, and the latter's stderr; ``temp``: the head's Ray temporary directory, whose
    client server logs a failure message carries."""
    args = ["run", "--task", "consonant-voicing", "--method", "toy-zcr", "--dataset",
            "toy-segments", "--bootstrap", "100", "--no-leaderboard", *extra]
    local = _bench([*args, "--runs-dir", str(tmp_path / "a")], env, tmp_path)
    assert local.returncode == 0, local.stderr
    remote = _bench([*args, "--runs-dir", str(tmp_path / "b"), "--executor", "ray",
                     "--address", address, "--shard-size", "5"], env, tmp_path)
    assert remote.returncode == 0, remote.stderr + _client_server_logs(temp)
    [path_a] = Path(tmp_path / "a").glob("records/**/toy-zcr*.json")
    path_b = tmp_path / "b" / path_a.relative_to(tmp_path / "a")
    samples = path_a.with_suffix(".samples.jsonl").relative_to(tmp_path / "a")
    assert (tmp_path / "a" / samples).read_text() == (tmp_path / "b" / samples).read_text()
    return read_record(path_a), read_record(path_b), remote.stderr


def test_two_node_cluster_gives_the_in_process_result(cluster, tmp_path):
    address, env = cluster
    # a fifth of a second per sample, so that both nodes get shards
    a, b, stderr = _in_process_and_on(address, env, tmp_path, "--method-config",
                                      "toy-zcr.sleep=0.2")
    assert "2 node(s), 2 CPU" in stderr
    assert b["execution"]["shards"] == 6 and b["execution"]["nodes"] == 2
    assert a["metrics"] == b["metrics"] and a["coverage"] == b["coverage"]


@pytest.mark.slow  # about 20 s with the head's start-up; runs in CI
def test_ray_client_address_gives_the_in_process_result(client_head, tmp_path):
    address, env, temp = client_head
    a, b, stderr = _in_process_and_on(address, env, tmp_path, temp=temp)
    assert "1 node(s), 1 CPU" in stderr
    assert b["execution"]["shards"] == 6 and b["execution"]["nodes"] == 1
    assert a["metrics"] == b["metrics"] and a["coverage"] == b["coverage"]
