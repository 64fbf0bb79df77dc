"""The plugin hooks. Every hook receives a ``register`` callback and calls it once per spec.

A plugin is a module (or object) with functions marked ``@bench.hookimpl`` and named after
these hooks; it is found through the ``bench`` entry-point group.
"""

from __future__ import annotations

from typing import Callable

import pluggy

PROJECT = "bench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[object], None]


@hookspec
def bench_register_tasks(register: Register) -> None:
    """Register tasks: call ``register(TaskSpec(...))`` for each task the plugin provides."""


@hookspec
def bench_register_datasets(register: Register) -> None:
    """Register datasets and their standard splits: ``register(DatasetSpec(...))``."""


@hookspec
def bench_register_methods(register: Register) -> None:
    """Register methods: ``register(MethodSpec(...))``; the factory is imported only when run."""


@hookspec
def bench_register_metrics(register: Register) -> None:
    """Register metrics: ``register(MetricSpec(...))`` with direction and protocol fingerprint."""


@hookspec
def bench_register_weights(register: Register) -> None:
    """Register pretrained-weight files: ``register(WeightsSpec(...))`` with URL and sha256."""


@hookspec
def bench_register_reporters(register: Register) -> None:
    """Register leaderboard renderers: ``register(ReporterSpec(...))``."""
