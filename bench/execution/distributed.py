"""Units on a Ray cluster: the method is prepared (fitted) once per unit, its samples are
predicted and scored in shards, and the driver alone writes the runs directory.

The driver plans each unit exactly as a local run does (same cache keys, same logs), sends the
work out, and appends what comes back to the same per-sample logs and artifact store, so the
record and the per-sample files equal those of an in-process run. Workers need the same code
and data as the driver (the embedded datasets ship with the package) but no shared file system.

A task whose worker process or node dies is sent again, at most ``max_retries`` times; the
record's ``execution`` block says how many times that happened. Samples of a shard that keeps
failing are recorded as failed and not logged, so ``--resume`` computes them again.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from bench import devices
from bench.execution import progress
from bench.errors import BenchError
from bench.interfaces import ShardedRunner
from bench.lazy import resolve
from bench.execution.runner import (
    Computed,
    Computed1,
    Unit,
    UnitPlan,
    _arrays,
    batch_size,
    compute_backend,
    failed_scores,
    finish_metrics,
    metric_states,
    method_failure,
    open_predictions,
    predict_samples,
    prepare_method,
    score_sample,
    seed_everything,
    store_arrays,
    write_meta,
)
from bench.specs import Resources
from bench.status import Status

log = logging.getLogger(__name__)
CLIENT_CONNECT_ATTEMPTS = 3  # connections to a ray:// address (see RayBackend._connect)

INSTALL_HINT = ("the ray executor needs Ray, which is not installed: "
                "pip install 'bench[ray]' (or: pip install ray)")
DEFAULT_SHARD_SIZE = 32  # for task runners that do not choose one


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BenchError(INSTALL_HINT) from None
    return ray


# ---- what runs on the workers ----

@dataclass
class ShardJob:
    """Samples of one unit for one task: which to predict, and which metrics each still needs.

    ``given`` holds the predictions (plain values and arrays) of samples that only need scoring,
    so a worker never reads the driver's files.
    """

    ids: list[str]
    predict: list[str]
    given: dict[str, dict[str, Any]]
    metrics: dict[str, list[str]]


@dataclass
class ShardResult:
    predictions: list[Computed1] = field(default_factory=list)
    scores: dict[str, list[Computed1]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    node: str = ""  # the Ray node that computed it
    device: str = devices.CPU  # where its torch code ran (bench.devices.describe)
    gpu_ids: list[Any] = field(default_factory=list)  # the GPUs Ray gave the task


_worker_cache: dict[str, Any] = {}


def _worker_split(unit: Unit) -> tuple[Any, Any, Any]:
    """(task runner, dataset, split) of a unit, loaded once per worker process."""
    from bench.discovery.loader import registries

    key = json.dumps([unit.task, unit.dataset, unit.split, dict(unit.dataset_options)],
                     sort_keys=True, default=str)
    if key not in _worker_cache:
        regs = registries()
        dataset = resolve(regs.datasets.get(unit.dataset).loader)(**dict(unit.dataset_options))
        runner = resolve(regs.tasks.get(unit.task).runner)()
        _worker_cache.clear()  # one split at a time is enough; datasets can be large
        _worker_cache[key] = (runner, dataset, dataset.split(unit.split))
    return _worker_cache[key]


_worker_metrics: dict[tuple[str, str], Any] = {}


def _worker_metric(name: str) -> Any:
    """The metric, built once per worker process and device (it builds its networks there)."""
    from bench.discovery.loader import registries

    key = (name, devices.current())
    if key not in _worker_metrics:
        spec = registries().metrics.get(name)
        _worker_metrics[key] = resolve(spec.factory)(**dict(spec.options))
    return _worker_metrics[key]


def _task_device() -> tuple[str, list[Any]]:
    """The device this Ray task computes on, and the GPU ids Ray gave it."""
    import ray

    gpu_ids = list(ray.get_gpu_ids())
    return devices.for_assigned_gpus(gpu_ids), gpu_ids


def prepare_task(unit: Unit) -> tuple[Any, Mapping[str, Any]]:
    """Build and prepare (fit) the method of a unit; the driver shares it with the shards."""
    from bench.discovery.loader import registries

    regs = registries()
    _, dataset, split = _worker_split(unit)
    mspec = regs.methods.get(unit.method)
    config = {**dict(mspec.config), **dict(unit.method_config)}
    with devices.using(_task_device()[0]):
        _, method, prep = prepare_method(unit, regs.tasks.get(unit.task), mspec, config,
                                         dataset, split)
    return method, prep


def _writable(values: dict[str, Any]) -> dict[str, Any]:
    """Arrays read from Ray's object store are read-only views; give the metrics copies."""
    return {k: v.copy() if isinstance(v, np.ndarray) and not v.flags.writeable else v
            for k, v in values.items()}


def shard_task(unit: Unit, method_bytes: bytes | None, job: ShardJob) -> ShardResult:
    """Predict and score one shard on the task's device; return the entries and arrays, write
    nothing."""
    device, gpu_ids = _task_device()
    with devices.using(device):
        return _shard(unit, method_bytes, job, device, gpu_ids)


def _shard(unit: Unit, method_bytes: bytes | None, job: ShardJob, device: str,
           gpu_ids: list[Any]) -> ShardResult:
    """The method comes pickled: unpickling gives this task its own writable copy (objects
    taken from Ray's store share read-only buffers, which e.g. libsvm refuses)."""
    import ray
    from ray import cloudpickle

    method = cloudpickle.loads(method_bytes) if method_bytes is not None else None
    runner, _, split = _worker_split(unit)
    out = ShardResult(node=ray.get_runtime_context().get_node_id(),
                      device=devices.describe(device), gpu_ids=gpu_ids)
    predicted: dict[str, Computed1] = {}
    if job.predict:
        seed_everything(unit.seed)
        batch = batch_size(runner)
        for start in range(0, len(job.predict), batch):
            for entry, arrays in predict_samples(runner, method, split,
                                                 job.predict[start:start + batch]):
                predicted[entry["id"]] = (entry, arrays)
        out.predictions = [predicted[i] for i in job.predict]
    for sample_id in job.ids:
        pending = [m for m in job.metrics.get(sample_id, []) if m not in out.unavailable]
        if sample_id in predicted:
            entry, arrays = predicted[sample_id]
            if entry["status"] != Status.OK:
                continue
            prediction = {**entry["data"], **arrays}
        else:
            prediction = _writable(job.given[sample_id])
        if not pending:
            continue
        try:
            sample = split.get(sample_id)
        except Exception as exc:
            scored = failed_scores(sample_id, exc, pending)
        else:
            scored, unavailable = score_sample({m: _worker_metric(m) for m in pending},
                                               sample_id, sample, prediction)
            out.unavailable.update(unavailable)
        for name, computed in scored.items():
            out.scores.setdefault(name, []).append(computed)
    return out


# ---- the driver ----

def unit_resources(plan: UnitPlan, with_metrics: bool) -> Resources:
    """The method's resources, and the largest of the metrics' when the task also scores."""
    specs = [plan.mspec.resources]
    if with_metrics:
        specs += [plan.regs.metrics.get(m).resources for m in plan.unit.metrics]
    return Resources(cpus=max(r.cpus for r in specs), gpus=max(r.gpus for r in specs),
                     memory_mb=max(r.memory_mb for r in specs))


class RayBackend:
    """Connects to (or starts) a Ray instance and computes planned units on it."""

    def __init__(self, address: str = "", workers: int = 0, shard_size: int = 0,
                 max_retries: int = 3):
        if shard_size < 0 or max_retries < 0:
            raise BenchError("shard size and retries must not be negative")
        self.address, self.workers = address, workers
        self.shard_size, self.max_retries = shard_size, max_retries
        self.ray = import_ray()
        self.owned = False
        self.startup_s = 0.0

    def start(self) -> None:
        ray = self.ray
        t0 = time.perf_counter()
        if not ray.is_initialized():
            if self.address:
                self._connect()
            else:  # a local instance sized to the machine, or to --workers
                ray.init(address="local", num_cpus=self.workers or None,
                         include_dashboard=False, logging_level=logging.WARNING)
            self.owned = True
        self.startup_s = time.perf_counter() - t0
        self.resources = ray.cluster_resources()
        self.n_nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        # Tasks given a GPU run in a fresh worker each, as Ray does by default for functions
        # declared with GPUs: torch binds a process to the GPUs visible when it first touches
        # CUDA, and a reused worker would keep the previous task's GPU (and its memory).
        self._prepare = {False: ray.remote(max_retries=0)(prepare_task),
                         True: ray.remote(max_retries=0, max_calls=1)(prepare_task)}
        self._shard = {False: ray.remote(max_retries=0)(shard_task),
                       True: ray.remote(max_retries=0, max_calls=1)(shard_task)}

    def _connect(self) -> None:
        """``ray.init`` on the given address. A ``ray://`` head starts a server process per
        client, and that start can fail on a busy head ("Starting Ray client server failed");
        the client then disconnects cleanly, so the connection is tried again, after 1 and 2 s."""
        attempts = CLIENT_CONNECT_ATTEMPTS if self.address.startswith("ray://") else 1
        for attempt in range(attempts):
            try:
                self.ray.init(address=self.address, logging_level=logging.WARNING)
                return
            except ConnectionError as exc:  # ConnectionAbortedError from the client server
                if attempt == attempts - 1:
                    raise
                last_line = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                log.warning("connecting to %s failed (%s); trying again", self.address, last_line)
                time.sleep(2 ** attempt)

    def stop(self) -> None:
        if self.owned:
            self.ray.shutdown()
            self.owned = False

    def describe(self) -> str:
        r = self.resources
        return (f"{self.n_nodes} node(s), {r.get('CPU', 0):g} CPU, {r.get('GPU', 0):g} GPU, "
                f"{r.get('memory', 0) / 2**30:.1f} GiB memory")

    def _options(self, res: Resources) -> dict[str, Any]:
        opts: dict[str, Any] = {"num_cpus": res.cpus}
        if res.gpus and self.resources.get("GPU", 0) > 0:
            opts["num_gpus"] = res.gpus
        if res.memory_mb:
            opts["memory"] = res.memory_mb * 2**20
        return opts

    @staticmethod
    def _call(functions: dict[bool, Any], opts: dict[str, Any], *args: Any) -> Any:
        """Submit the task with these options; one given a GPU to a fresh worker."""
        return functions["num_gpus" in opts].options(**opts).remote(*args)

    def _is_system_failure(self, exc: BaseException) -> bool:
        """A worker or node that died, or an object lost with it: worth sending again."""
        errors = self.ray.exceptions
        return isinstance(exc, errors.RayError) and not isinstance(exc, errors.RayTaskError)

    def shard_size_for(self, plan: UnitPlan) -> int:
        if self.shard_size:
            return self.shard_size
        runner = resolve(plan.task.runner)()
        return int(runner.shard_size) if isinstance(runner, ShardedRunner) else DEFAULT_SHARD_SIZE

    def compute(self, plan: UnitPlan) -> Computed:
        ray, unit, ids = self.ray, plan.unit, plan.ids
        t0 = time.perf_counter()
        size = self.shard_size_for(plan)
        execution: dict[str, Any] = {"executor": "ray", "shard_size": size, "shards": 0,
                                     "nodes": 0, "retries": 0, "lost_shards": 0,
                                     "gpus_per_shard": 0, "shards_with_gpu": 0, "devices": {}}
        nodes: set[str] = set()
        artifacts = plan.artifacts
        if plan.method_status:
            out, _ = metric_states(plan, plan.method_status)
            return Computed({}, plan.method_status, out, execution)

        code = plan.record["method"]["code"]
        plog, meta_path, predictions, _ = open_predictions(plan)
        out, states = metric_states(plan, None)
        by_name = {st.name: st for st in states}
        to_predict = {i for i in ids if i not in predictions}
        needs = {i: [st.name for st in states if i not in st.cached] for i in ids}
        work = [i for i in ids if i in to_predict
                or (predictions[i]["status"] == Status.OK and needs[i])]

        method_ref = None
        if to_predict:
            try:
                method, prep = self._run_with_retries(
                    lambda: self._call(self._prepare, self._options(
                        unit_resources(plan, False)), unit), execution)
            except Exception as exc:
                status = method_failure(exc, plan)
                out, _ = metric_states(plan, status)
                plan.timing["predict"] = time.perf_counter() - t0
                return Computed({}, status, out, execution)
            write_meta(meta_path, False, code, prep)
            # Protocol 4: arrays (read-only here, as taken from Ray's store) unpickle writable.
            method_ref = ray.put(ray.cloudpickle.dumps(method, protocol=4))

        shards = [work[s:s + size] for s in range(0, len(work), size)]
        execution["shards"] = len(shards)
        opts = self._options(unit_resources(plan, True))
        execution["gpus_per_shard"] = opts.get("num_gpus", 0)
        jobs: dict[Any, tuple[ShardJob, int]] = {}

        def submit(job: ShardJob, attempt: int) -> None:
            ref = self._call(self._shard, opts, unit, method_ref, job)
            jobs[ref] = (job, attempt)

        for shard in shards:
            given = {}
            failed_given: list[str] = []
            for i in shard:
                if i in to_predict:
                    continue
                try:
                    pred = predictions[i]
                    given[i] = {**pred["data"], **_arrays(pred, artifacts)}
                except Exception as exc:  # as in a local run: a failure for each metric
                    failed_given.append(i)
                    for name, (entry, _) in failed_scores(i, exc, needs[i]).items():
                        by_name[name].log.append(entry)
                        by_name[name].cached[i] = entry
            job = ShardJob(ids=[i for i in shard if i not in failed_given],
                           predict=[i for i in shard if i in to_predict], given=given,
                           metrics={i: needs[i] for i in shard})
            submit(job, 0)

        lost = False
        unlogged: set[str] = set()  # predictions of lost shards: recorded, not logged
        unlogged_scores: dict[str, set[str]] = {st.name: set() for st in states}
        desc = f"{unit.method} {unit.dataset}/{unit.split}"
        with progress.bar(len(ids), desc) as bar:
            bar.update(len(ids) - sum(len(job.ids) for job, _ in jobs.values()))  # done before
            while jobs:
                [ref], _ = ray.wait(list(jobs), num_returns=1)
                job, attempt = jobs.pop(ref)
                try:
                    result: ShardResult = ray.get(ref)
                except Exception as exc:
                    if self._is_system_failure(exc) and attempt < self.max_retries:
                        log.warning("%s: a shard's worker was lost (%s); sending it again",
                                    desc, type(exc).__name__)
                        execution["retries"] += 1
                        submit(job, attempt + 1)
                        continue
                    lost = lost or self._is_system_failure(exc)
                    execution["lost_shards"] += int(self._is_system_failure(exc))
                    self._fail_shard(job, exc, attempt, predictions, by_name, unlogged,
                                     unlogged_scores)
                    bar.update(len(job.ids))
                    continue
                nodes.add(result.node)
                execution["nodes"] = len(nodes)
                self._count_device(execution, result, desc)
                # one write per shard and log: the driver keeps up with many workers
                stored = [store_arrays(e, arrays, artifacts) for e, arrays in result.predictions]
                plog.extend(stored)
                predictions.update((e["id"], e) for e in stored)
                for name, entries in result.scores.items():
                    st = by_name[name]
                    stored = [store_arrays(e, arrays, artifacts) for e, arrays in entries]
                    st.log.extend(stored)
                    st.cached.update((e["id"], e) for e in stored)
                for name, why in result.unavailable.items():
                    by_name[name].unavailable = by_name[name].unavailable or why
                bar.update(len(job.ids))
        plan.timing["predict"] = time.perf_counter() - t0

        # Merged in split order, so the logs and the record read exactly as a local run's.
        predictions = {i: predictions[i] for i in ids if i in predictions}
        plog.rewrite([predictions[i] for i in ids if i in predictions and i not in unlogged])
        for st in states:
            kept = [i for i in ids if i in st.cached and i not in unlogged_scores[st.name]]
            st.log.rewrite([st.cached[i] for i in kept])
        if not lost:
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            write_meta(meta_path, True, code, meta.get("prepare"))
        t0 = time.perf_counter()
        results = finish_metrics(plan, states, out, predictions)
        plan.timing["score"] = time.perf_counter() - t0
        return Computed(predictions, None, results, execution)

    @staticmethod
    def _count_device(execution: dict[str, Any], result: ShardResult, desc: str) -> None:
        """Shards per device, and how many Ray gave a GPU (torch may still not see it)."""
        found = execution["devices"]
        if result.gpu_ids and result.device == devices.CPU and not execution["shards_with_gpu"]:
            log.warning("%s: Ray gave a shard GPU %s but torch sees no CUDA device; it "
                        "computed on the CPU", desc, ",".join(map(str, result.gpu_ids)))
        execution["shards_with_gpu"] += int(bool(result.gpu_ids))
        found[result.device] = found.get(result.device, 0) + 1

    def _run_with_retries(self, make_ref: Callable[[], Any], execution: dict[str, Any]) -> Any:
        """ray.get of a task sent again (up to max_retries times) while its worker dies."""
        attempt = 0
        while True:
            try:
                return self.ray.get(make_ref())
            except self.ray.exceptions.RayTaskError as exc:
                raise _cause(exc) from None
            except Exception as exc:
                if not self._is_system_failure(exc):
                    raise
                if attempt >= self.max_retries:
                    raise RuntimeError(f"the worker preparing the method was lost {attempt + 1} "
                                       f"times ({type(exc).__name__})") from None
                attempt += 1
                execution["retries"] += 1
                log.warning("%s: the worker preparing the method was lost; sending it again",
                            type(exc).__name__)

    def _fail_shard(self, job: ShardJob, exc: BaseException, attempt: int,
                    predictions: dict[str, dict[str, Any]], by_name: dict[str, Any],
                    unlogged: set[str], unlogged_scores: dict[str, set[str]]) -> None:
        """Record a shard's samples as failed, without logging them (--resume retries them)."""
        if self._is_system_failure(exc):
            message = (f"the worker running this sample was lost {attempt + 1} times "
                       f"({type(exc).__name__})")
        else:
            cause = _cause(exc)
            if isinstance(cause, BenchError):
                raise cause
            message = f"{type(cause).__name__}: {cause}"
        for i in job.predict:
            predictions[i] = {"id": i, "status": Status.FAILED, "stage": "predict",
                              "error": message}
            unlogged.add(i)
        for i in job.ids:
            if i in job.predict:
                continue
            for name in job.metrics.get(i, []):
                by_name[name].cached[i] = {"id": i, "status": Status.FAILED, "error": message}
                unlogged_scores[name].add(i)


def _cause(exc: BaseException) -> BaseException:
    """The exception a task raised, without Ray's wrapper."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


# ---- the executor ----

class RayExecutor:
    """Runs units on Ray: each unit's driver runs in a thread here, its work on the cluster."""

    def __init__(self, address: str = "", workers: int = 0, shard_size: int = 0,
                 max_retries: int = 3):
        self.backend = RayBackend(address, workers, shard_size, max_retries)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        t0 = time.perf_counter()
        backend = self.backend
        backend.start()
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(len(items), 32))) as pool:
                futures = [pool.submit(_with_backend, backend, fn, item) for item in items]
                for future in futures:
                    yield future.result()
            # the run's summary line, not progress: printed even under BENCH_QUIET
            print(f"ray: {len(items)} unit(s) in {time.perf_counter() - t0:.1f} s wall "
                  f"(connecting took {backend.startup_s:.1f} s); cluster: {backend.describe()}",
                  file=sys.stderr)
        finally:
            backend.stop()


def _with_backend(backend: RayBackend, fn: Callable[[Any], Any], item: Any) -> Any:
    with compute_backend(backend):
        return fn(item)


