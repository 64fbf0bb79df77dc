"""The two-stage runner: predict (cached per sample) then score (cached per sample and metric).

Cache keys hash the full identity of what produced a result, so a cached prediction is never
served for another method, config, weights file, task version or split, and re-scoring with a
new metric never re-runs a method.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from tqdm import tqdm

from bench import determinism, provenance
from bench.errors import BenchError, Unavailable
from bench.hashing import hash_json
from bench.interfaces import NotApplicable, SampleError
from bench.lazy import resolve
from bench.plugins import registries
from bench.integrity import (
    EmptySplitError,
    UnusableFileError,
    report_load_failures,
    report_unusable,
    store_record,
    unit_lock,
    unusable_files,
)
from bench.records import MetricResult, RunRecord
from bench.stats import bootstrap_ci
from bench.store import ArtifactStore, SampleLog, split_arrays
from bench.weights.registry import weights_identity

log = logging.getLogger(__name__)
HARNESS_CACHE_VERSION = 1


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

    A corpus ``root`` only says where the files are (the manifest hash says what they are).
    """
    overrides = {k: v for k, v in unit.method_config.items()
                 if defaults is None or k not in defaults or defaults[k] != v}
    options = {k: v for k, v in unit.dataset_options.items() if k != "root"}
    if not overrides and not options and unit.seed == 0:
        return ""
    return hash_json({"config": overrides, "dataset_options": options, "seed": unit.seed})[:8]


def record_stem(unit: Unit, defaults: Mapping[str, Any] | None = None) -> str:
    """The record's file name without ``.json``: method, variant, and ``limitN`` for smoke runs."""
    v = variant(unit, defaults)
    return unit.method + (f"~{v}" if v else "") + (f".limit{unit.limit}" if unit.limit else "")


def records_root(unit: Unit) -> Path:
    """Where a unit's records go: ``runs/records`` for runs, ``runs/<purpose>/records`` else."""
    base = Path(unit.runs_dir)
    return (base if unit.purpose == "run" else base / unit.purpose) / "records"


def record_path(runs_dir: str | Path, unit: Unit,
                defaults: Mapping[str, Any] | None = None) -> Path:
    root = records_root(dataclasses.replace(unit, runs_dir=str(runs_dir)))
    return (root / unit.task / unit.dataset / unit.split
            / f"{record_stem(unit, defaults)}.json")


def lock_path(unit: Unit, defaults: Mapping[str, Any] | None = None) -> Path:
    """One lock per unit identity, shared by run, check and verify (they share caches)."""
    return (Path(unit.runs_dir) / "locks" / unit.task / unit.dataset / unit.split
            / f"{record_stem(unit, defaults)}.lock")


def run_unit(unit: Unit) -> str:
    """Predict and score one unit; write its record; return the record path."""
    regs = registries()
    task = regs.tasks.get(unit.task)
    mspec = regs.methods.get(unit.method)
    dspec = regs.datasets.get(unit.dataset)
    if mspec.task != task.name or dspec.task != task.name:
        raise BenchError(f"method {mspec.name!r} (task {mspec.task}) and dataset {dspec.name!r} "
                         f"(task {dspec.task}) do not both belong to task {task.name!r}")
    if mspec.pin_kernels and not determinism.kernels_pinned():
        # The kernel paths are chosen when numpy and torch load: run in a process started pinned.
        return determinism.run_pinned(run_unit, unit)
    with unit_lock(lock_path(unit, mspec.config), unit):
        return _run_locked(unit, regs, task, mspec, dspec)


def _run_locked(unit: Unit, regs, task, mspec, dspec) -> str:
    runs = Path(unit.runs_dir)
    artifacts = ArtifactStore(runs / "cache" / "artifacts")
    timing: dict[str, float] = {}

    t0 = time.perf_counter()
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
    method_seed = int(config.get("seed", unit.seed))  # the run seed unless the config pins one
    record: RunRecord = {
        "task": {"name": task.name, "version": task.version},
        "dataset": {"name": dspec.name, "version": getattr(dataset, "version", dspec.version),
                    "split": unit.split, "manifest_hash": split.manifest_hash,
                    "options": dict(unit.dataset_options),
                    "n_samples": len(ids)},
        "method": {"name": mspec.name, "version": mspec.version, "config": config,
                   "config_hash": hash_json(config), "reference": mspec.reference,
                   "paper": mspec.paper, "plugin": str(regs.methods.origin(mspec.name)),
                   "producer": regs.producer("methods", mspec.name)},
        "seeds": {"run": unit.seed, "method": method_seed, "bootstrap": unit.seed + 1},
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
    method_status: str | None = None
    try:
        weights = {w: weights_identity(regs.weights.get(w)) for w in mspec.weights}
    except Unavailable as exc:
        weights, method_status = {}, f"unavailable: {exc}"
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

    predictions: dict[str, dict[str, Any]] = {}
    if method_status is None:
        t0 = time.perf_counter()
        try:
            predictions = _predict(unit, task, mspec, config, method_seed, dataset, split, ids,
                                   pred_key, runs, artifacts)
        except Unavailable as exc:
            method_status = f"unavailable: {exc}"
        except BenchError:
            raise
        except Exception as exc:  # the method failed as a whole (e.g. in fit)
            method_status = f"failed: {_error_text(exc)}"
            log.error("%s on %s/%s failed: %s", mspec.name, dspec.name, unit.split, exc)
        timing["predict"] = time.perf_counter() - t0

    failures = [{"id": i, "stage": p.get("stage", "predict"), "message": p["error"]}
                for i, p in predictions.items() if p["status"] == "failed"]
    if unit.strict and failures:
        raise UnusableFileError(f"--strict: sample {failures[0]['id']}: {failures[0]['message']}")
    report_load_failures(dspec.name, unit.split, failures)
    n_ok = sum(1 for p in predictions.values() if p["status"] == "ok")
    record["coverage"] = {"n_total": len(ids) + len(unusable), "n_ok": n_ok,
                          "n_failed": len(failures) + len(unusable),
                          "failures": unusable + failures, "status": method_status or "ok",
                          "n_unusable_files": len(unusable)}

    t0 = time.perf_counter()
    per_sample: dict[str, dict[str, Any]] = {i: {} for i in ids}
    results = _score(unit, regs, split, ids, predictions, pred_key, runs, artifacts, method_status)
    for metric_name, (result, values) in results.items():
        if unusable and result.get("value") is not None:
            # coverage never lies: a file the corpus could not use is a sample not scored
            result["n_total"] = result.get("n_total", 0) + len(unusable)
            result["n_failed"] = result.get("n_failed", 0) + len(unusable)
            result["failures"] = unusable + list(result.get("failures", []))
            result["status"] = "partial"
        record["metrics"][metric_name] = result
        record["keys"][f"score:{metric_name}"] = result.get("details", {}).pop("score_key", "")
        for sample_id, v in values.items():
            per_sample[sample_id][metric_name] = v
    timing["score"] = time.perf_counter() - t0
    record["timing"] = timing

    return str(store_record(record_path(runs, unit, mspec.config), record,
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


def _predict(unit, task, mspec, config, method_seed, dataset, split, ids, pred_key, runs,
             artifacts):
    """Stage 1: per-sample predictions, appended as produced, resumable."""
    pred_dir = runs / "cache" / "predictions" / pred_key
    plog = SampleLog(pred_dir / "predictions.jsonl", artifacts)
    meta_path = pred_dir / "meta.json"
    existing = plog.read()
    complete = meta_path.exists() and json.loads(meta_path.read_text()).get("complete")
    if existing and not complete and not unit.resume:
        log.warning("%s: discarding an unfinished run (pass --resume to continue it)", pred_dir)
        existing = {}
    existing = {i: e for i, e in existing.items() if i in set(ids)}
    plog.rewrite([existing[i] for i in ids if i in existing])
    todo = [i for i in ids if i not in existing]
    if todo:
        runner = resolve(task.runner)()
        factory = resolve(mspec.factory)
        seed_everything(method_seed)  # imports torch where it is installed, before the threads
        threads = (determinism.fixed_threads(mspec.threads) if mspec.threads
                   else contextlib.nullcontext())
        with threads:
            try:
                method = factory(**method_config(factory, config, method_seed))
            except TypeError as exc:
                raise BenchError(f"method {mspec.name!r}: bad config ({exc})") from None
            prep = runner.prepare(method, dataset, split, method_seed) or {}
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            meta_path.write_text(json.dumps({"complete": False, "prepare": prep}, default=str))
            batch = max(1, int(getattr(runner, "batch_size", 1)))
            with tqdm(total=len(todo), desc=f"predict {mspec.name} {unit.split}",
                      leave=False) as bar:
                for start in range(0, len(todo), batch):
                    for entry in _predict_chunk(runner, method, split,
                                                todo[start:start + batch], artifacts):
                        plog.append(entry)
                        existing[entry["id"]] = entry
                        bar.update()
        meta_path.write_text(json.dumps({"complete": True, "prepare": prep}, default=str))
    elif not complete:
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps({"complete": True}))
    return existing


def _predict_chunk(runner, method, split, ids, artifacts) -> list[dict[str, Any]]:
    """Predict a few samples at once where the runner can batch; one entry per sample, in order."""
    loaded: dict[str, Any] = {}
    entries: dict[str, dict[str, Any]] = {}
    for sample_id in ids:
        try:
            loaded[sample_id] = split.get(sample_id)
        except Exception as exc:
            entries[sample_id] = {"id": sample_id, "status": "failed", "stage": "load",
                                  "error": _error_text(exc)}
    outputs: dict[str, Any] = {}
    if len(loaded) > 1 and hasattr(runner, "predict_batch"):
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
            entries[sample_id] = {"id": sample_id, "status": "n/a", "stage": "predict",
                                  "error": str(exc)}
            continue
        except Exception as exc:  # one bad sample must not stop the run
            entries[sample_id] = {"id": sample_id, "status": "failed", "stage": "predict",
                                  "error": _error_text(exc)}
            continue
        plain, arrays = split_arrays(prediction)
        entry: dict[str, Any] = {"id": sample_id, "status": "ok", "data": plain}
        if arrays:
            entry["artifact"] = artifacts.put(arrays)
        entries[sample_id] = entry
    return [entries[i] for i in ids]


def _empty_result(spec, n_total: int, **extra: Any) -> MetricResult:
    """A metric result with no value yet (or ever, when ``extra`` says why)."""
    result = MetricResult(value=None, ci=None, direction=spec.direction, n_total=n_total,
                          n_scored=0, n_failed=0, failures=[], fingerprint={}, details={})
    result.update(extra)  # type: ignore[typeddict-item]
    return result


class _MetricState:
    """One metric's object, cache log and per-sample entries during scoring."""

    def __init__(self, name, spec, ids, pred_key, runs, artifacts):
        self.name, self.spec = name, spec
        self.result = _empty_result(spec, len(ids))
        self.metric = resolve(spec.factory)(**dict(spec.options))
        self.result["fingerprint"] = dict(self.metric.fingerprint())
        self.key = hash_json({"predictions": pred_key, "metric": name,
                              "fingerprint": self.result["fingerprint"]})
        self.log = SampleLog(runs / "cache" / "scores" / f"{self.key}.jsonl", artifacts)
        self.cached = self.log.read()
        self.unavailable: str | None = None


def _score(unit, regs, split, ids, predictions, pred_key, runs, artifacts, method_status):
    """Stage 2: per-sample metric values, sample by sample so each sample is loaded once."""
    out: dict[str, tuple[MetricResult, dict[str, Any]]] = {}
    states: list[_MetricState] = []
    for name in unit.metrics:
        spec = regs.metrics.get(name)
        if method_status:
            r = _empty_result(spec, len(ids), status=method_status.split(":")[0],
                              message=method_status)
            out[name] = (r, {})
            continue
        try:
            states.append(_MetricState(name, spec, ids, pred_key, runs, artifacts))
        except Unavailable as exc:
            r = _empty_result(spec, len(ids), status="unavailable", message=str(exc))
            out[name] = (r, {})
    todo = [i for i in ids if predictions.get(i, {}).get("status") == "ok"
            and any(i not in st.cached for st in states)]
    for sample_id in tqdm(todo, desc=f"score {unit.method} {unit.split}", leave=False):
        pending = [st for st in states if st.unavailable is None and sample_id not in st.cached]
        if not pending:
            continue
        pred = predictions[sample_id]
        try:
            sample = split.get(sample_id)
            prediction = {**pred["data"], **_arrays(pred, artifacts)}
        except Exception as exc:
            for st in pending:
                _append(st, {"id": sample_id, "status": "failed", "error": _error_text(exc)})
            continue
        for st in pending:
            try:
                plain, arrays = split_arrays(st.metric.per_sample(sample, prediction))
                entry: dict[str, Any] = {"id": sample_id, "status": "ok", "values": plain}
                if arrays:
                    entry["artifact"] = artifacts.put(arrays)
            except Unavailable as exc:
                st.unavailable = str(exc)
                continue
            except NotApplicable as exc:
                entry = {"id": sample_id, "status": "n/a", "error": str(exc)}
            except Exception as exc:
                entry = {"id": sample_id, "status": "failed", "error": _error_text(exc)}
            _append(st, entry)
    for st in states:
        out[st.name] = _finish(unit, st, ids, predictions, artifacts)
        _mark_unverified(st, out[st.name][0])
    return {name: out[name] for name in unit.metrics}


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


def _finish(unit, st: _MetricState, ids, predictions, artifacts):
    result, cached = st.result, st.cached
    if st.unavailable:
        result.update(status="unavailable", message=st.unavailable)
        return result, {}
    ok_ids = [i for i in ids if cached.get(i, {}).get("status") == "ok"
              and predictions.get(i, {}).get("status") == "ok"]
    values = [{**cached[i]["values"], **_arrays(cached[i], artifacts)} for i in ok_ids]
    failures = [{"id": i, "stage": predictions[i].get("stage", "predict"),
                 "message": predictions[i]["error"]}
                for i in ids if predictions.get(i, {}).get("status") == "failed"]
    failures += [{"id": i, "stage": "score", "message": cached[i]["error"]}
                 for i in ids if predictions.get(i, {}).get("status") == "ok"
                 and cached.get(i, {}).get("status") == "failed"]
    failures += [{"id": i, "stage": "predict", "message": "no prediction"}
                 for i in ids if i not in predictions]
    not_applicable = [i for i in ids if cached.get(i, {}).get("status") == "n/a"]
    not_applicable += [i for i in ids if predictions.get(i, {}).get("status") == "n/a"]
    result.update(n_scored=len(ok_ids), n_failed=len(failures), failures=failures)
    result["details"] = {"score_key": st.key}
    if not_applicable and not ok_ids:
        first = cached.get(not_applicable[0]) or predictions[not_applicable[0]]
        result.update(status="n/a", message=first["error"].split(": ", 1)[-1],
                      n_failed=0, failures=[])
        return result, {}
    if not_applicable:
        result["details"]["n_not_applicable"] = len(not_applicable)
    if not values:
        reasons = sorted({f["message"] for f in failures})
        result.update(status="failed", message="; ".join(reasons[:3]) or "no samples")
        return result, {}
    metric = st.metric
    try:
        value = float(metric.aggregate(values))
    except Exception as exc:
        result.update(status="failed", message=f"aggregate: {_error_text(exc)}")
        return result, {}
    resamples = min(getattr(metric, "bootstrap_resamples", unit.bootstrap), unit.bootstrap)
    ci = bootstrap_ci(values, metric.aggregate, resamples, seed=unit.seed + 1)
    result.update(value=value, status="ok" if len(ok_ids) == len(ids) else "partial")
    if ci is not None:
        result.update(ci=[ci.low, ci.high], ci_level=ci.level, ci_method=ci.method)
        result["details"]["bootstrap_resamples"] = ci.resamples
    extra = getattr(metric, "last_details", None)
    if isinstance(extra, dict):
        result["details"].update(extra)
    return result, {i: cached[i]["values"] for i in ok_ids}


def _arrays(entry: Mapping[str, Any], artifacts: ArtifactStore) -> dict[str, np.ndarray]:
    art = entry.get("artifact")
    return artifacts.get(art) if art else {}
