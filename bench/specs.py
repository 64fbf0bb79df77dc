"""Frozen specs that plugins register. Heavy objects are named by lazy references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from bench.lazy import LazyRef

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _check_name(kind: str, name: str) -> None:
    if not NAME_RE.match(name):
        raise ValueError(
            f"{kind} name {name!r} must be lower-case letters, digits, '.', '_' or '-'"
        )


@dataclass(frozen=True)
class Resources:
    """What one task of a unit needs when it runs on a cluster (``bench run --executor ray``).

    ``gpus`` is asked for only when the cluster has GPUs; on a cluster without any the unit runs
    on CPU. ``memory_mb`` (0: no reservation) lets the scheduler keep large models apart.
    """

    cpus: float = 1.0
    gpus: float = 0.0
    memory_mb: int = 0

    def __post_init__(self) -> None:
        if self.cpus <= 0 or self.gpus < 0 or self.memory_mb < 0:
            raise ValueError(f"resources must be positive (cpus) or non-negative, got {self}")


@dataclass(frozen=True)
class TaskSpec:
    """A task: what methods must do (``protocol``) and how the harness runs them (``runner``).

    ``runner`` resolves to a class implementing :class:`bench.interfaces.TaskRunner`.
    """

    name: str
    version: str
    description: str
    protocol: LazyRef
    runner: LazyRef
    default_metrics: tuple[str, ...] = ()
    default_dataset: str = ""

    def __post_init__(self) -> None:
        _check_name("task", self.name)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset with standard splits; ``loader(**options)`` returns a :class:`bench.interfaces.Dataset`."""

    name: str
    task: str
    version: str
    description: str
    loader: LazyRef
    splits: tuple[str, ...]
    eval_splits: tuple[str, ...] = ("test",)
    embedded: bool = False
    citation: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        _check_name("dataset", self.name)


@dataclass(frozen=True)
class MethodSpec:
    """A method; ``factory(**config)`` builds an object satisfying the task's protocol.

    ``weights`` names entries of the weights registry whose sha256 enters the cache key.
    ``reference`` marks maintained reference models tracked for regressions.
    """

    name: str
    task: str
    version: str
    factory: LazyRef
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    weights: tuple[str, ...] = ()
    reference: bool = False
    paper: str = ""
    trainer: LazyRef | None = None  # ``train(argv)`` that reproduces the shipped checkpoint
    resources: Resources = Resources()  # per task on a cluster; see docs/distributed.md

    def __post_init__(self) -> None:
        _check_name("method", self.name)


@dataclass(frozen=True)
class MetricSpec:
    """A metric; ``factory(**options)`` returns a :class:`bench.interfaces.Metric`."""

    name: str
    task: str
    direction: Literal["higher", "lower"]
    factory: LazyRef
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    resources: Resources = Resources()  # per task on a cluster; see docs/distributed.md

    def __post_init__(self) -> None:
        _check_name("metric", self.name)
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"metric {self.name!r}: direction must be 'higher' or 'lower'")


@dataclass(frozen=True)
class WeightsSpec:
    """A pretrained-weights file: where it comes from, its checksum, where it lives on disk."""

    name: str
    url: str
    sha256: str | None
    size: int | None
    filename: str
    license: str = ""
    description: str = ""
    cache_dir: str = "hub/checkpoints"
    loader: LazyRef | None = None
    shipped_path: str | None = None
    trainer: LazyRef | None = None  # ``train(argv)`` that reproduces a shipped file

    def __post_init__(self) -> None:
        _check_name("weights", self.name)


@dataclass(frozen=True)
class ReporterSpec:
    """A leaderboard renderer: ``render(table) -> str`` written to ``<task>.<extension>``."""

    name: str
    extension: str
    render: LazyRef
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("reporter", self.name)
