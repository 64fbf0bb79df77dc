"""The two-stage runner: predict (cached per sample) then score (cached per sample and metric).

Cache keys hash the full identity of what produced a result, so a cached prediction is never
served for another method, config, weights file, task version or split, and re-scoring with a
new metric never re-runs a method.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol

import numpy as np

from bench.execution import determinism, progress, provenance
from bench.errors import BenchError, Unavailable
from bench.execution.code_identity import source_identity
from bench.hashing import hash_json
from bench.interfaces import BatchScoring, ColumnAggregate, NotApplicable, SampleError
from bench.lazy import resolve
from bench.interfaces import (
    BatchedRunner,
    BatchPredictor,
    BootstrapLimited,
    Dataset,
    Metric,
    ReportsDetails,
    Split,
    TaskRunner,
)
from bench.discovery.loader import Registries, registries
from bench.execution.integrity import (
    EmptySplitError,
    UnusableFileError,
    report_load_failures,
    report_unusable,
    store_record,
    unit_lock,
    unusable_files,
)
from bench.execution.records import MetricResult, RunRecord
from bench.specs import DatasetSpec, MethodSpec, MetricSpec, TaskSpec
from bench.status import MethodStatus, Status
from bench.execution.stats import bootstrap_ci, bootstrap_ci_columns
from bench.execution.store import ArtifactStore, SampleLog, split_arrays
from bench.weights.registry import weights_identity
from bench.execution.layout import RunsLayout

log = logging.getLogger(__name__)
HARNESS_CACHE_VERSION = 1
LOCATION_OPTIONS = ("root", "cache_dir")  # dataset options that say where, not what


@dataclass(frozen=True)
class Unit:
    """One method on one split of one dataset, scored by some metrics."""

    task: str
    method: str
    dataset: str
    split: str
    metrics: tuple[str, ...]
    seed: int = 0
    bootstrap: int = 1000
    runs_dir: str = "runs"
    resume: bool = False
    limit: int = 0
    method_config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    dataset_options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    command: str = ""
    strict: bool = False  # fail on the first unusable file instead of counting it
    purpose: str = "run"  # run | check | verify: check and verify records go to their own place


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def _generic_check(prediction: Mapping[str, Any]) -> None:
    for key, value in prediction.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
            raise SampleError(f"prediction {key!r} contains NaN or inf")
        if isinstance(value, float) and not math.isfinite(value):
            raise SampleError(f"prediction {key!r} is {value}")


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SampleError) else f"{type(exc).__name__}: {exc}"


def reproduce_command(unit: Unit) -> str:
    parts = ["bench run", f"--task {unit.task}", f"--method {unit.method}",
             f"--dataset {unit.dataset}", f"--split {unit.split}", f"--seed {unit.seed}"]
    for key, value in sorted(unit.method_config.items()):
        parts.append(f"--method-config {unit.method}.{key}={json.dumps(value)}")
    for key, value in sorted(unit.dataset_options.items()):
        parts.append(f"--dataset-option {unit.dataset}.{key}={json.dumps(value)}")
    if unit.limit:
        parts.append(f"--limit {unit.limit}")
    return " ".join(parts)


def variant(unit: Unit, defaults: Mapping[str, Any] | None = None) -> str:
    """"" for the method's registered config on the dataset's defaults with seed 0, else a short
    hash of what differs: such a run is another identity and never replaces the default record.

    A corpus ``root`` or ``cache_dir`` only says where files are (the manifest hash says what
    they are), so it does not make a variant.
    """
    overrides = {k: v for k, v in unit.method_config.items()
                 if defaults is None or k not in defaults or defaults[k] != v}
    options = {k: v for k, v in unit.dataset_options.items() if k not in LOCATION_OPTIONS}
    if not overrides and not options and unit.seed == 0:
        return ""
    return hash_json({"config": overrides, "dataset_options": options, "seed": unit.seed})[:8]


def record_stem(unit: Unit, defaults: Mapping[str, Any] | None = None) -> str:
    """The record's file name without ``.json``: method, variant, and ``limitN`` for smoke runs."""
    v = variant(unit, defaults)
    return unit.method + (f"~{v}" if v else "") + (f".limit{unit.limit}" if unit.limit else "")


def record_path(runs_dir: str | Path, unit: Unit,
                defaults: Mapping[str, Any] | None = None) -> Path:
    """Where a unit's record goes (check and verify records have their own place)."""
    return RunsLayout(runs_dir).record(unit.task, unit.dataset, unit.split,
                                       record_stem(unit, defaults), unit.purpose)


def lock_path(unit: Unit, defaults: Mapping[str, Any] | None = None) -> Path:
    """One lock per unit identity, shared by run, check and verify (they share caches)."""
    return RunsLayout(unit.runs_dir).lock(unit.task, unit.dataset, unit.split,
                                          record_stem(unit, defaults))


Entries = dict[str, dict[str, Any]]  # log entries by sample id
Results = dict[str, tuple[MetricResult, dict[str, Any]]]  # per metric: result, values by id


@dataclass
class UnitPlan:
    """What the driver knows about a unit before anything is computed: the one context that
    the predict and score stages (here or on a cluster) read."""

    unit: Unit
    regs: Registries
    task: TaskSpec
    mspec: MethodSpec
    dspec: DatasetSpec
    dataset: Dataset
    split: Split
    ids: list[str]
    unusable: list[dict[str, Any]]
    config: dict[str, Any]
    pred_key: str
    runs: Path
    artifacts: ArtifactStore
    record: RunRecord
    timing: dict[str, float]
    method_status: MethodStatus | None


@dataclass
class Computed:
    """The outcome of both stages: predictions by id and, per metric, its result and values."""

    predictions: Entries
    method_status: MethodStatus | None
    results: Results
    execution: dict[str, Any] | None = None  # where and how it ran, when not in this process


class ComputeBackend(Protocol):
    """Runs both stages of a planned unit somewhere else (e.g. on a cluster)."""

    def compute(self, plan: UnitPlan) -> Computed: ...


_backend = threading.local()


@contextmanager
def compute_backend(backend: ComputeBackend | None) -> Iterator[None]:
    """Within this block, :func:`run_unit` in this thread hands its stages to ``backend``."""
    previous = getattr(_backend, "value", None)
    _backend.value = backend
    try:
        yield
    finally:
        _backend.value = previous


def _wants_pinning(mspec: MethodSpec) -> bool:
    """The method pins CPU kernels, pinning is on, and this process is not pinned yet."""
    return (bool(mspec.pin_kernels) and determinism.pinning_enabled()
            and not determinism.kernels_pinned())


def runs_pinned(unit: Unit) -> bool:
    """Whether :func:`run_unit` moves this unit to a process with pinned CPU kernels."""
    return (_wants_pinning(registries().methods.get(unit.method))
            and getattr(_backend, "value", None) is None)


def run_unit(unit: Unit) -> str:
    """Predict and score one unit; write its record; return the record path."""
    regs = registries()
    task = regs.tasks.get(unit.task)
    mspec = regs.methods.get(unit.method)
    dspec = regs.datasets.get(unit.dataset)
    if mspec.task != task.name or dspec.task != task.name:
        raise BenchError(f"method {mspec.name!r} (task {mspec.task}) and dataset {dspec.name!r} "
                         f"(task {dspec.task}) do not both belong to task {task.name!r}")
    backend: ComputeBackend | None = getattr(_backend, "value", None)
    if _wants_pinning(mspec):
        if backend is None:
            # The kernel paths are chosen when numpy and torch load: run in a process started
            # with them pinned.
            return determinism.run_pinned(run_unit, unit)
        log.warning("%s: CPU kernel paths are not pinned on a cluster; its numbers may differ "
                    "from the committed ones in the last bits", mspec.name)
    with unit_lock(lock_path(unit, mspec.config), unit):
        plan = plan_unit(unit, regs, task, mspec, dspec)
        computed = compute_here(plan) if backend is None else backend.compute(plan)
        return finish_unit(plan, computed)


def plan_unit(unit: Unit, regs: Registries, task: TaskSpec, mspec: MethodSpec,
              dspec: DatasetSpec) -> UnitPlan:
    """Load the dataset and build the record header and the prediction cache key."""
    runs = Path(unit.runs_dir)
    artifacts = ArtifactStore(RunsLayout(runs).artifacts)
    timing: dict[str, float] = {}

    t0 = time.perf_counter()
    with progress.stage(f"load {dspec.name}/{unit.split}"):
        dataset = resolve(dspec.loader)(**dict(unit.dataset_options))
        split = dataset.split(unit.split)
    ids = list(split.ids[: unit.limit] if unit.limit else split.ids)
    unusable = unusable_files(dataset, split, unit.split)
    report_unusable(dspec.name, unit.split, unusable, strict=unit.strict)
    if not ids:
        raise EmptySplitError(
            f"dataset {dspec.name!r} split {unit.split!r} has no usable samples"
            + (f" ({len(unusable)} unusable file(s), e.g. {unusable[0]['id']}: "
               f"{unusable[0]['message']})" if unusable else ""))
    timing["load"] = time.perf_counter() - t0

    config = {**dict(mspec.config), **dict(unit.method_config)}
    record: RunRecord = {
        "task": {"name": task.name, "version": task.version},
        "dataset": {"name": dspec.name, "version": getattr(dataset, "version", dspec.version),
                    "split": unit.split, "manifest_hash": split.manifest_hash,
                    "options": dict(unit.dataset_options),
                    "n_samples": len(ids)},
        "method": {"name": mspec.name, "version": mspec.version, "config": config,
                   "code": source_identity(mspec.factory),
                   "config_hash": hash_json(config), "reference": mspec.reference,
                   "paper": mspec.paper, "plugin": str(regs.methods.origin(mspec.name)),
                   "producer": regs.producer("methods", mspec.name)},
        "seeds": {"run": unit.seed, "method": method_seed(unit, config),
                  "bootstrap": unit.seed + 1},
        "plugins": regs.plugin_versions(),
        "environment": provenance.environment(),
        "command": unit.command or reproduce_command(unit),
        "reproduce": reproduce_command(unit),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metrics": {},
        "metric_order": list(unit.metrics),
        "kind": ("smoke" if unit.limit else "full") if unit.purpose == "run" else unit.purpose,
        "identity": {
            "limit": unit.limit, "seed": unit.seed,
            "config_overrides": {k: v for k, v in unit.method_config.items()
                                 if mspec.config.get(k, object()) != v},
            "dataset_options": dict(unit.dataset_options),
            "variant": variant(unit, mspec.config),
            **regs.producer("methods", mspec.name),
        },
    }
    method_status: MethodStatus | None = None
    try:
        weights = {w: weights_identity(regs.weights.get(w)) for w in mspec.weights}
    except Unavailable as exc:
        weights, method_status = {}, MethodStatus(Status.UNAVAILABLE, str(exc))
    record["method"]["weights"] = weights
    record["environment"]["determinism"] = _determinism(mspec)
    identity = {
        "harness": HARNESS_CACHE_VERSION, "task": [task.name, task.version],
        "method": [mspec.name, mspec.version], "config": config, "weights": weights,
        "dataset": [dspec.name, record["dataset"]["version"]], "split": unit.split,
        "dataset_options": dict(unit.dataset_options),
        "manifest": split.manifest_hash, "ids": hash_json(ids), "seed": unit.seed,
    }
    if mspec.threads or mspec.pin_kernels:  # predictions made otherwise are not the same numbers
        identity["determinism"] = {"threads": mspec.threads, "pin_kernels": mspec.pin_kernels}
    pred_key = hash_json(identity)
    record["keys"] = {"predictions": pred_key}

    return UnitPlan(unit, regs, task, mspec, dspec, dataset, split, ids, unusable, config,
                    pred_key, runs, artifacts, record, timing, method_status)


def method_failure(exc: BaseException, plan: UnitPlan) -> MethodStatus:
    """The status of a method that failed as a whole (e.g. in fit); a BenchError is re-raised."""
    if isinstance(exc, Unavailable):
        return MethodStatus(Status.UNAVAILABLE, str(exc))
    if isinstance(exc, BenchError):
        raise exc
    log.error("%s on %s/%s failed: %s", plan.mspec.name, plan.dspec.name, plan.unit.split, exc)
    return MethodStatus(Status.FAILED, _error_text(exc))


def compute_here(plan: UnitPlan) -> Computed:
    """Both stages in this process, one sample after another."""
    timing = plan.timing
    method_status = plan.method_status
    predictions: Entries = {}
    if method_status is None:
        t0 = time.perf_counter()
        try:
            predictions = _predict(plan)
        except Exception as exc:
            method_status = method_failure(exc, plan)
        timing["predict"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = _score(plan, predictions, method_status)
    timing["score"] = time.perf_counter() - t0
    return Computed(predictions, method_status, results)


def finish_unit(plan: UnitPlan, computed: Computed) -> str:
    """Write the record and its per-sample scores; return the record path."""
    unit, ids, record, unusable = plan.unit, plan.ids, plan.record, plan.unusable
    predictions, method_status = computed.predictions, computed.method_status
    failures = [{"id": i, "stage": p.get("stage", "predict"), "message": p["error"]}
                for i, p in predictions.items() if p["status"] == Status.FAILED]
    if unit.strict and failures:
        raise UnusableFileError(f"--strict: sample {failures[0]['id']}: {failures[0]['message']}")
    report_load_failures(plan.dspec.name, unit.split, failures)
    n_ok = sum(1 for p in predictions.values() if p["status"] == Status.OK)
    record["coverage"] = {"n_total": len(ids) + len(unusable), "n_ok": n_ok,
                          "n_failed": len(failures) + len(unusable),
                          "failures": unusable + failures,
                          "status": method_status.text if method_status else Status.OK,
                          "n_unusable_files": len(unusable)}

    per_sample: dict[str, dict[str, Any]] = {i: {} for i in ids}
    for metric_name, (result, values) in computed.results.items():
        if unusable and result.get("value") is not None:
            # coverage never lies: a file the corpus could not use is a sample not scored
            result["n_total"] = result.get("n_total", 0) + len(unusable)
            result["n_failed"] = result.get("n_failed", 0) + len(unusable)
            result["failures"] = unusable + list(result.get("failures", []))
            result["status"] = Status.PARTIAL
        record["metrics"][metric_name] = result
        record["keys"][f"score:{metric_name}"] = result.get("details", {}).pop("score_key", "")
        for sample_id, v in values.items():
            per_sample[sample_id][metric_name] = v
    record["timing"] = plan.timing
    # after the stages: whether torch was loaded (and its threads) is known only now
    record["environment"]["hardware"] = provenance.hardware()
    if computed.execution is not None:
        record["execution"] = computed.execution

    return str(store_record(record_path(plan.runs, unit, plan.mspec.config), record,
                            [{"id": i, "scores": per_sample[i]} for i in ids]))


def _determinism(mspec) -> dict[str, Any]:
    """What the record says about thread counts and kernel paths (docs/reproducibility.md)."""
    out: dict[str, Any] = {"threads": mspec.threads, "pin_kernels": mspec.pin_kernels,
                           "torch_deterministic_algorithms": bool(mspec.threads)}
    if mspec.pin_kernels:
        out["kernels"] = determinism.kernel_report()
    return out


def method_config(factory, config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The factory's arguments: the config, plus the run's seed when the factory takes one."""
    try:
        takes_seed = "seed" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: nothing to inspect
        takes_seed = False
    return {**config, "seed": seed} if takes_seed and "seed" not in config else dict(config)


def open_predictions(plan: UnitPlan) -> tuple[SampleLog, Path, Entries, bool]:
    """A unit's prediction log, its meta file, the verified entries it keeps, and whether the
    log was complete.

    An unfinished log is discarded unless the unit resumes; the log is rewritten to hold exactly
    the kept entries, in split order.
    """
    unit, ids, pred_key, code = plan.unit, plan.ids, plan.pred_key, plan.record["method"]["code"]
    layout = RunsLayout(plan.runs)
    pred_dir = layout.predictions(pred_key)
    plog = SampleLog(layout.prediction_log(pred_key), plan.artifacts)
    meta_path = layout.prediction_meta(pred_key)
    existing = plog.read()
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    complete = bool(meta.get("complete"))
    if existing and not complete and not unit.resume:
        log.warning("%s: discarding an unfinished run (pass --resume to continue it)", pred_dir)
        existing = {}
    existing = {i: e for i, e in existing.items() if i in set(ids)}
    plog.rewrite([existing[i] for i in ids if i in existing])
    _warn_if_stale(plan.mspec, meta, code, pred_dir, bool(existing))
    return plog, meta_path, existing, complete


def write_meta(meta_path: Path, complete: bool, code: dict[str, Any],
               prep: Mapping[str, Any] | None = None) -> None:
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"complete": complete}
    if prep is not None:
        body["prepare"] = prep
    body["code"] = code["sha256"]
    meta_path.write_text(json.dumps(body, default=str))


def method_seed(unit: Unit, config: Mapping[str, Any]) -> int:
    """The seed a method is built and trained with: the run seed unless its config sets one."""
    return int(config.get("seed", unit.seed))


def method_threads(mspec: Any) -> contextlib.AbstractContextManager[Any]:
    """The thread count a method declares, held while it is built, trained and predicts."""
    return determinism.fixed_threads(mspec.threads) if mspec.threads else contextlib.nullcontext()


def prepare_method(unit: Unit, task: TaskSpec, mspec: MethodSpec, config: Mapping[str, Any],
                   dataset: Dataset, split: Split) -> tuple[TaskRunner, Any, Mapping[str, Any]]:
    """Build the method from its factory and let the task runner prepare (e.g. fit) it."""
    runner = resolve(task.runner)()
    factory = resolve(mspec.factory)
    seed = method_seed(unit, config)
    seed_everything(seed)  # imports torch where it is installed, before the threads are fixed
    with method_threads(mspec):
        try:
            method = factory(**method_config(factory, config, seed))
        except TypeError as exc:
            raise BenchError(f"method {mspec.name!r}: bad config ({exc})") from None
        with progress.stage(f"prepare {mspec.name} for {unit.split}"):
            prep = runner.prepare(method, dataset, split, seed) or {}
    return runner, method, prep


def _predict(plan: UnitPlan) -> Entries:
    """Stage 1: per-sample predictions, appended as produced, resumable."""
    unit, mspec, split, artifacts = plan.unit, plan.mspec, plan.split, plan.artifacts
    code = plan.record["method"]["code"]
    plog, meta_path, existing, complete = open_predictions(plan)
    todo = [i for i in plan.ids if i not in existing]
    if todo:
        runner, method, prep = prepare_method(unit, plan.task, mspec, plan.config, plan.dataset,
                                              split)
        write_meta(meta_path, False, code, prep)
        batch = batch_size(runner)
        with progress.bar(len(todo), f"predict {mspec.name} {unit.split}") as bar, \
                method_threads(mspec):
            for start in range(0, len(todo), batch):
                for entry, arrays in predict_samples(runner, method, split,
                                                     todo[start:start + batch]):
                    entry = store_arrays(entry, arrays, artifacts)
                    plog.append(entry)
                    existing[entry["id"]] = entry
                    bar.update()
        write_meta(meta_path, True, code, prep)
    elif not complete:
        write_meta(meta_path, True, code)
    return existing


def _warn_if_stale(mspec: MethodSpec, meta: Mapping[str, Any], code: dict[str, Any],
                   pred_dir: Path, reused: bool) -> None:
    """Cached predictions from other source under the same version: warn, and mark the record
    (see bench.execution.code_identity for why this is a warning and not part of the cache key)."""
    cached = meta.get("code")
    if not reused or not cached or not code["sha256"] or cached == code["sha256"]:
        return
    code["stale_cache"] = True
    code["cached_with"] = cached
    log.warning("method %s: its code (%s) changed since these predictions were cached, but its "
                "version is still %s; the cached predictions are used as they are. If its "
                "outputs change, bump `version` in its plugin, or delete %s to recompute.",
                mspec.name, ", ".join(code["packages"]), mspec.version, pred_dir)


Computed1 = tuple[dict[str, Any], dict[str, np.ndarray]]  # a log entry and its arrays


def store_arrays(entry: dict[str, Any], arrays: Mapping[str, np.ndarray],
                 artifacts: ArtifactStore) -> dict[str, Any]:
    """The entry as logged: its arrays go to the artifact store, named by their checksum."""
    if arrays:
        entry = {**entry, "artifact": artifacts.put(arrays)}
    return entry


def batch_size(runner: TaskRunner) -> int:
    """How many samples are predicted (and logged) at a time: 1 unless the runner says."""
    return max(1, int(runner.batch_size)) if isinstance(runner, BatchedRunner) else 1


def predict_samples(runner: TaskRunner, method: Any, split: Split,
                    ids: list[str]) -> list[Computed1]:
    """Predict a few samples at once where the runner can batch; one entry per sample, in order.

    Nothing is written: ok entries come with their arrays, which the caller stores.
    """
    loaded: dict[str, Any] = {}
    entries: dict[str, Computed1] = {}
    for sample_id in ids:
        try:
            loaded[sample_id] = split.get(sample_id)
        except Exception as exc:
            entries[sample_id] = ({"id": sample_id, "status": Status.FAILED, "stage": "load",
                                   "error": _error_text(exc)}, {})
    outputs: dict[str, Any] = {}
    if len(loaded) > 1 and isinstance(runner, BatchPredictor):
        try:
            outputs = dict(zip(loaded, runner.predict_batch(method, list(loaded.values()))))
        except Exception:  # fall back to one by one, so one bad sample fails alone
            outputs = {}
    for sample_id, sample in loaded.items():
        try:
            prediction = outputs.get(sample_id)
            if prediction is None:
                prediction = runner.predict(method, sample)
            if isinstance(prediction, Exception):
                raise prediction
            _generic_check(prediction)
            runner.check(sample, prediction)
        except NotApplicable as exc:  # the method has nothing to say here; not a failure
            entries[sample_id] = ({"id": sample_id, "status": Status.NOT_APPLICABLE,
                                   "stage": "predict", "error": str(exc)}, {})
            continue
        except Exception as exc:  # one bad sample must not stop the run
            entries[sample_id] = ({"id": sample_id, "status": Status.FAILED, "stage": "predict",
                                   "error": _error_text(exc)}, {})
            continue
        plain, arrays = split_arrays(prediction)
        entries[sample_id] = ({"id": sample_id, "status": Status.OK, "data": plain}, arrays)
    return [entries[i] for i in ids]


def _empty_result(spec: MetricSpec, n_total: int, **extra: Any) -> MetricResult:
    """A metric result with no value yet (or ever, when ``extra`` says why)."""
    result = MetricResult(value=None, ci=None, direction=spec.direction, n_total=n_total,
                          n_scored=0, n_failed=0, failures=[], fingerprint={}, details={})
    result.update(extra)  # type: ignore[typeddict-item]
    return result


class _MetricState:
    """One metric's object, cache log and per-sample entries during scoring."""

    def __init__(self, name: str, spec: MetricSpec, plan: UnitPlan) -> None:
        self.name, self.spec = name, spec
        self.result = _empty_result(spec, len(plan.ids))
        self.metric: Metric = resolve(spec.factory)(**dict(spec.options))
        self.result["fingerprint"] = dict(self.metric.fingerprint())
        self.key = hash_json({"predictions": plan.pred_key, "metric": name,
                              "fingerprint": self.result["fingerprint"]})
        self.log = SampleLog(RunsLayout(plan.runs).score_log(self.key), plan.artifacts)
        self.cached = self.log.read()
        self.unavailable: str | None = None


def metric_states(plan: UnitPlan, method_status: MethodStatus | None
                  ) -> tuple[Results, list[_MetricState]]:
    """Each metric's state (object, score log, cached entries); results already known by name."""
    ids = plan.ids
    out: Results = {}
    states: list[_MetricState] = []
    for name in plan.unit.metrics:
        spec = plan.regs.metrics.get(name)
        if method_status:
            r = _empty_result(spec, len(ids), status=method_status.status,
                              message=method_status.text)
            out[name] = (r, {})
            continue
        try:
            states.append(_MetricState(name, spec, plan))
        except Unavailable as exc:
            r = _empty_result(spec, len(ids), status=Status.UNAVAILABLE, message=str(exc))
            out[name] = (r, {})
    return out, states


def failed_scores(sample_id: str, exc: BaseException, names: list[str]) -> dict[str, Computed1]:
    """The same failure for every metric (the sample or its prediction could not be loaded)."""
    return {n: ({"id": sample_id, "status": Status.FAILED, "error": _error_text(exc)}, {})
            for n in names}


def score_sample(metrics: Mapping[str, Metric], sample_id: str, sample: Any,
                 prediction: Mapping[str, Any]) -> tuple[dict[str, Computed1], dict[str, str]]:
    """Each metric's entry for one sample (arrays not yet stored), and the metrics that turned
    out to be unavailable (with why); nothing is written."""
    scored: dict[str, Computed1] = {}
    unavailable: dict[str, str] = {}
    for name, metric in metrics.items():
        arrays: dict[str, np.ndarray] = {}
        try:
            plain, arrays = split_arrays(metric.per_sample(sample, prediction))
            entry: dict[str, Any] = {"id": sample_id, "status": Status.OK, "values": plain}
        except Unavailable as exc:
            unavailable[name] = str(exc)
            continue
        except NotApplicable as exc:
            entry = {"id": sample_id, "status": Status.NOT_APPLICABLE, "error": str(exc)}
        except Exception as exc:
            entry = {"id": sample_id, "status": Status.FAILED, "error": _error_text(exc)}
        scored[name] = (entry, arrays)
    return scored, unavailable


def finish_metrics(plan: UnitPlan, states: list[_MetricState], out: Results,
                   predictions: Entries) -> Results:
    """Aggregate every metric (value, bootstrap CI) from its per-sample entries."""
    for st in states:
        out[st.name] = _finish(plan, st, predictions)
        _mark_unverified(st, out[st.name][0])
    return {name: out[name] for name in plan.unit.metrics}


def _score(plan: UnitPlan, predictions: Entries, method_status: MethodStatus | None) -> Results:
    """Stage 2: per-sample metric values, sample by sample so each sample is loaded once."""
    unit, split, ids, artifacts = plan.unit, plan.split, plan.ids, plan.artifacts
    out, states = metric_states(plan, method_status)
    by_name = {st.name: st for st in states}
    todo = [i for i in ids if predictions.get(i, {}).get("status") == Status.OK
            and any(i not in st.cached for st in states)]
    score_bar = progress.bar(len(todo), f"score {unit.method} {unit.split}")
    batched: dict[str, list[tuple[str, Any, Mapping[str, Any]]]] = {}
    for sample_id in todo:
        score_bar.update()
        pending = [st for st in states if st.unavailable is None and sample_id not in st.cached]
        if not pending:
            continue
        pred = predictions[sample_id]
        try:
            sample = split.get(sample_id)
            prediction = {**pred["data"], **_arrays(pred, artifacts)}
        except Exception as exc:
            for name, (entry, _) in failed_scores(sample_id, exc,
                                                  [st.name for st in pending]).items():
                _append(by_name[name], entry)
            continue
        for st in pending:
            if isinstance(st.metric, BatchScoring):
                batched.setdefault(st.name, []).append((sample_id, sample, prediction))
        scored, unavailable = score_sample({st.name: st.metric for st in pending
                                            if st.name not in batched}, sample_id,
                                           sample, prediction)
        for name, why in unavailable.items():
            by_name[name].unavailable = why
        for name, (entry, arrays) in scored.items():
            try:
                entry = store_arrays(entry, arrays, artifacts)
            except Exception as exc:
                entry = {"id": sample_id, "status": Status.FAILED, "error": _error_text(exc)}
            _append(by_name[name], entry)
    score_bar.close()
    for name, items in batched.items():
        score_batch(by_name[name], items, artifacts)
    return finish_metrics(plan, states, out, predictions)


def score_batch(st: _MetricState, items: list[tuple[str, Any, Mapping[str, Any]]],
                artifacts: ArtifactStore) -> None:
    """A :class:`BatchScoring` metric's entries for a whole split in one call and one log
    write; if the call fails, sample by sample so only the bad samples are marked failed."""
    metric = st.metric
    assert isinstance(metric, BatchScoring)  # the only metrics _score batches
    try:
        values = metric.per_sample_batch([s for _, s, _ in items], [p for _, _, p in items])
        if len(values) != len(items):
            raise ValueError(f"per_sample_batch returned {len(values)} values "
                             f"for {len(items)} samples")
        entries = [store_arrays({"id": i, "status": Status.OK, "values": plain}, arrays, artifacts)
                   for (i, _, _), (plain, arrays) in zip(items, map(split_arrays, values))]
    except Exception:  # includes Unavailable / NotApplicable: per_sample says which samples
        entries = None
    if entries is None:
        for sample_id, sample, prediction in items:
            scored, unavailable = score_sample({st.name: st.metric}, sample_id, sample, prediction)
            if unavailable:
                st.unavailable = unavailable[st.name]
                return
            entry, arrays = scored[st.name]
            try:
                entry = store_arrays(entry, arrays, artifacts)
            except Exception as exc:
                entry = {"id": sample_id, "status": Status.FAILED, "error": _error_text(exc)}
            _append(st, entry)
        return
    st.log.extend(entries)
    st.cached.update((e["id"], e) for e in entries)


def _mark_unverified(st: _MetricState, result: MetricResult) -> None:
    """A metric computed with weights imported by ``--force`` says so in its result."""
    from bench.weights import registry as weights_registry

    named = {w for w in weights_registry.UNVERIFIED_USED
             if w in json.dumps(st.result["fingerprint"], default=str)
             or w == st.spec.options.get("weights")}
    if named and result.get("value") is not None:
        result.setdefault("details", {})["unverified_weights"] = sorted(named)
        result["message"] = (f"computed with UNVERIFIED weights {', '.join(sorted(named))} "
                             "(imported with --force)")


def _append(st: _MetricState, entry: dict[str, Any]) -> None:
    st.log.append(entry)
    st.cached[entry["id"]] = entry


def _finish(plan: UnitPlan, st: _MetricState,
            predictions: Entries) -> tuple[MetricResult, dict[str, Any]]:
    unit, ids, artifacts = plan.unit, plan.ids, plan.artifacts
    result, cached = st.result, st.cached
    if st.unavailable:
        result.update(MetricResult(status=Status.UNAVAILABLE, message=st.unavailable))
        return result, {}
    ok_ids = [i for i in ids if cached.get(i, {}).get("status") == Status.OK
              and predictions.get(i, {}).get("status") == Status.OK]
    values = [{**cached[i]["values"], **_arrays(cached[i], artifacts)} for i in ok_ids]
    failures = [{"id": i, "stage": predictions[i].get("stage", "predict"),
                 "message": predictions[i]["error"]}
                for i in ids if predictions.get(i, {}).get("status") == Status.FAILED]
    failures += [{"id": i, "stage": "score", "message": cached[i]["error"]}
                 for i in ids if predictions.get(i, {}).get("status") == Status.OK
                 and cached.get(i, {}).get("status") == Status.FAILED]
    failures += [{"id": i, "stage": "predict", "message": "no prediction"}
                 for i in ids if i not in predictions]
    na = Status.NOT_APPLICABLE
    not_applicable = [i for i in ids if cached.get(i, {}).get("status") == na]
    not_applicable += [i for i in ids if predictions.get(i, {}).get("status") == na]
    result.update(MetricResult(n_scored=len(ok_ids), n_failed=len(failures),
                               failures=failures))
    result["details"] = {"score_key": st.key}
    if not_applicable and not ok_ids:
        first = cached.get(not_applicable[0]) or predictions[not_applicable[0]]
        result.update(MetricResult(status=Status.NOT_APPLICABLE,
                                   message=first["error"].split(": ", 1)[-1],
                                   n_failed=0, failures=[]))
        return result, {}
    if not_applicable:
        result["details"]["n_not_applicable"] = len(not_applicable)
    if not values:
        reasons = sorted({f["message"] for f in failures})
        result.update(MetricResult(status=Status.FAILED,
                                   message="; ".join(reasons[:3]) or "no samples"))
        return result, {}
    metric = st.metric
    try:
        value = float(metric.aggregate(values))
    except Exception as exc:
        result.update(MetricResult(status=Status.FAILED,
                                   message=f"aggregate: {_error_text(exc)}"))
        return result, {}
    # the details of this value, read before the bootstrap re-runs aggregate on resamples
    extra = dict(metric.last_details) if isinstance(metric, ReportsDetails) else {}
    resamples = unit.bootstrap
    if isinstance(metric, BootstrapLimited):
        resamples = min(metric.bootstrap_resamples, unit.bootstrap)
    if isinstance(metric, ColumnAggregate):
        ci = bootstrap_ci_columns(metric.columns(values), metric.aggregate_columns, resamples,
                                  seed=unit.seed + 1)
    else:
        ci = bootstrap_ci(values, metric.aggregate, resamples, seed=unit.seed + 1)
    result.update(MetricResult(value=value, status=Status.OK if len(ok_ids) == len(ids)
                               else Status.PARTIAL))
    if ci is not None:
        result.update(MetricResult(ci=[ci.low, ci.high], ci_level=ci.level, ci_method=ci.method))
        result["details"]["bootstrap_resamples"] = ci.resamples
    result["details"].update(extra)
    return result, {i: cached[i]["values"] for i in ok_ids}


def _arrays(entry: Mapping[str, Any], artifacts: ArtifactStore) -> dict[str, np.ndarray]:
    art = entry.get("artifact")
    return artifacts.get(art) if art else {}
