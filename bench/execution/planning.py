"""Turn a RunConfig into units of work, validating every name, option and value first."""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Mapping

from bench.execution.config import RunConfig
from bench.errors import BenchError, did_you_mean
from bench.lazy import resolve
from bench.discovery.loader import Registries
from bench.execution.runner import Unit

log = logging.getLogger(__name__)


def plan_units(cfg: RunConfig, regs: Registries, command: str = "") -> list[Unit]:
    for name in cfg.tasks:
        regs.tasks.get(name)
    for name in cfg.methods:
        regs.methods.get(name)
    for name in cfg.metrics:
        regs.metrics.get(name)
    for task, dataset in cfg.datasets.items():
        regs.tasks.get(task)
        regs.datasets.get(dataset)
    for name in cfg.method_config:
        regs.methods.get(name)
    for name in cfg.dataset_options:
        regs.datasets.get(name)

    tasks = cfg.tasks or sorted({regs.methods.get(m).task for m in cfg.methods}) or regs.tasks.names()
    units: list[Unit] = []
    for task_name in tasks:
        task_spec = regs.tasks.get(task_name)
        dataset_name = cfg.datasets.get(task_name) or task_spec.default_dataset
        if dataset_name not in regs.datasets:
            msg = f"task {task_name!r}: dataset {dataset_name!r} is not registered"
            if cfg.tasks:
                raise BenchError(msg)
            log.warning("%s; skipping the task", msg)
            continue
        dspec = regs.datasets.get(dataset_name)
        if dspec.task != task_name:
            raise BenchError(f"dataset {dataset_name!r} belongs to task {dspec.task!r}, "
                             f"not {task_name!r}")
        methods = [m for m in cfg.methods if regs.methods.get(m).task == task_name]
        if not cfg.methods:
            methods = [m.name for m in regs.methods if m.task == task_name]
        metrics = [m for m in cfg.metrics if regs.metrics.get(m).task == task_name]
        if not cfg.metrics:
            metrics = [m for m in task_spec.default_metrics if m in regs.metrics]
            missing = [m for m in task_spec.default_metrics if m not in regs.metrics]
            if missing:
                log.warning("task %s: metrics %s are not registered", task_name, missing)
        splits = cfg.splits or list(dspec.eval_splits)
        for split in splits:
            if split not in dspec.splits:
                raise BenchError(f"dataset {dataset_name!r} has no split {split!r}; "
                                 f"splits: {', '.join(dspec.splits)}")
        for method in methods:
            for split in splits:
                units.append(Unit(
                    task=task_name, method=method, dataset=dataset_name, split=split,
                    metrics=tuple(metrics), seed=cfg.seed, bootstrap=cfg.bootstrap,
                    runs_dir=cfg.runs_dir, resume=cfg.resume, limit=cfg.limit,
                    method_config=dict(cfg.method_config.get(method, {})),
                    dataset_options=dict(cfg.dataset_options.get(dataset_name, {})),
                    command=command))
    if not units:
        raise BenchError("nothing to run: no method matches the selection")
    _check_selection(cfg, regs, units)
    return units


def _check_selection(cfg: RunConfig, regs: Registries, units: list[Unit]) -> None:
    """Every selected metric and dataset option is used, and every option is one that exists."""
    tasks = {u.task for u in units}
    for name in cfg.metrics:
        task = regs.metrics.get(name).task
        if task not in tasks:
            raise BenchError(f"--metric {name}: metric of task {task!r}, but this run is of "
                             f"{', '.join(sorted(tasks))}; choose that task's metrics")
    used = {u.dataset for u in units}
    for name, options in cfg.dataset_options.items():
        if name not in used:
            raise BenchError(f"--dataset-option {name}.{next(iter(options), 'KEY')}: dataset "
                             f"{name!r} is not used by this run (datasets: "
                             f"{', '.join(sorted(used))}); add --dataset {name}")
        _check_keys(f"--dataset-option {name}", options,
                    resolve(regs.datasets.get(name).loader), {})
    for method in sorted({u.method for u in units}):
        given = cfg.method_config.get(method)
        if given:
            spec = regs.methods.get(method)
            _check_keys(f"--method-config {method}", given, resolve(spec.factory), spec.config)


def _check_keys(where: str, given: Mapping[str, Any], func: Callable[..., Any],
                defaults: Mapping[str, Any]) -> None:
    """Keys ``func`` accepts (did-you-mean for others) with values of the defaults' types."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin or C callable: nothing to check against
        return
    open_ended = any(p.kind == p.VAR_KEYWORD for p in params.values())
    named = {n: p for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for key, value in given.items():
        if key not in named and key not in defaults and not open_ended:
            hint = did_you_mean(key, list(named))
            tip = f" (did you mean {hint!r}?)" if hint else f"; known: {', '.join(sorted(named))}"
            raise BenchError(f"{where}.{key}: unknown option{tip}")
        default = defaults.get(key, named[key].default if key in named else None)
        if default is inspect.Parameter.empty or default is None:
            continue
        if not _same_type(value, default):
            raise BenchError(f"{where}.{key}={value!r}: expected {type(default).__name__} "
                             f"(like the default {default!r}), got {type(value).__name__}")


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))
