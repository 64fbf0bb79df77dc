"""Turn a RunConfig into units of work, validating every name first."""

from __future__ import annotations

import logging

from bench.config import RunConfig
from bench.errors import BenchError
from bench.plugins import Registries
from bench.runner import Unit

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
    return units
