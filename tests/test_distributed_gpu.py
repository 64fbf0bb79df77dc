"""GPU scheduling on Ray, on a machine without a GPU: a local Ray instance that declares one.

Ray accepts a declared GPU count without the hardware and hands the GPU's id to the tasks that
ask for it (``ray.get_gpu_ids()``), setting CUDA_VISIBLE_DEVICES; torch then still sees no CUDA,
so the GPU-capable models and metrics fall back to the CPU and the records equal an in-process
run's. (A cluster without GPUs, where none may be asked for, is tests/test_distributed.py's.)
"""

from __future__ import annotations

import os

import pytest
from test_distributed import _run, _same_results, _units

from bench import devices
from bench.execution.distributed import RayExecutor
from bench.execution.executors import InProcessExecutor
from bench.discovery.loader import registries
from bench.execution.records import read_record

ray = pytest.importorskip("ray")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ray_with_a_gpu(tmp_path_factory):
    saved = dict(os.environ)
    os.environ["BENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False,
             object_store_memory=100 * 2**20, logging_level="WARNING")
    yield
    ray.shutdown()
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.slow  # about 30 s with the instance's start-up; runs in CI
def test_gpu_capable_units_are_given_the_gpu_and_compute_on_cpu_without_cuda(ray_with_a_gpu,
                                                                            tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the shards would compute on it, not on the CPU")

    def units(runs):  # a GPU-capable method and metric, and a unit that needs no GPU
        return (_units(runs, ["wav2lip"], "talking-faces-synthetic", ("ssim", "lse-c"),
                       task="talking-face", limit=2)
                + _units(runs, ["static-reference"], "talking-faces-synthetic", ("psnr",),
                         task="talking-face", limit=2))

    local = _run(InProcessExecutor(), units(tmp_path / "a"))
    on_ray = _run(RayExecutor(shard_size=1), units(tmp_path / "b"))
    assert ray.cluster_resources()["GPU"] == 1
    for a, b in zip(local, on_ray):
        _same_results(a, b)
    gpu, cpu = (read_record(p)["execution"] for p in on_ray)
    # each shard asked for the GPU, Ray gave it one (ray.get_gpu_ids() in the task), and torch,
    # seeing no CUDA, computed on the CPU
    assert gpu["gpus_per_shard"] == 1 and gpu["shards"] == 2
    assert gpu["shards_with_gpu"] == 2 and gpu["devices"] == {"cpu": 2}
    assert read_record(on_ray[0])["metrics"]["lse-c"]["value"] is not None
    assert cpu["gpus_per_shard"] == 0 and cpu["shards_with_gpu"] == 0
    assert cpu["devices"] == {"cpu": 2}


def test_the_device_is_chosen_in_one_place():
    assert devices.current() == "cpu"  # in-process runs: always the CPU
    assert devices.for_assigned_gpus([]) == "cpu"
    assert devices.for_assigned_gpus([0]) == ("cuda" if torch.cuda.is_available() else "cpu")
    with devices.using("cuda"):
        assert devices.current() == "cuda"
        with devices.using("cpu"):
            assert devices.current() == "cpu"
        assert devices.current() == "cuda"
    assert devices.current() == "cpu"
    assert devices.describe("cpu") == "cpu"


def test_talking_face_models_and_their_network_metrics_can_use_a_gpu():
    regs = registries()
    can = {name for name in regs.methods.names() if regs.methods.get(name).resources.gpus}
    assert can == {"g4g", "wav2lip", "wav2lip-official"}
    can = {name for name in regs.metrics.names() if regs.metrics.get(name).resources.gpus}
    assert can == {"lse-c", "lse-d", "lse-c-v2", "lse-d-v2", "fid", "lpips"}
