"""Frozen specs that plugins register. Heavy objects are named by lazy references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from bench.lazy import LazyRef
from bench.status import Direction

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


# Torch models that run on whatever device bench.devices.current() gives them: one GPU on a
# cluster that has GPUs, the CPU otherwise.
GPU_IF_AVAILABLE = Resources(gpus=1)


@dataclass(frozen=True)
class TaskSpec:
    """A task: what methods must do (``protocol``) and how the harness runs them (``runner``).

    ``runner`` resolves to a class implementing :class:`bench.interfaces.TaskRunner`.
    ``validator`` resolves to ``validate(build, seed) -> list[bench.devtools.validate.Check]``: the contract
    checks ``bench validate-plugin`` runs on a method of this task (``build()`` makes one).
    ``method_template`` (``"package:file"``) is the ``string.Template`` of a method module that
    ``bench new-method --task NAME`` writes (``$cls`` is the class name). Both let a plugin add a
    task without touching ``bench/``.
    """

    name: str
    version: str
    description: str
    protocol: LazyRef
    runner: LazyRef
    default_metrics: tuple[str, ...] = ()
    default_dataset: str = ""
    validator: LazyRef | None = None
    method_template: str = ""

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
class Tolerance:
    """How far a recomputed value may lie from the committed one: ``abs + rel * |committed|``.

    The default is exact. A bound above zero says why in ``reason`` (what cannot be made
    deterministic), and ``bench check`` prints it beside the difference.
    """

    abs: float = 0.0
    rel: float = 0.0
    reason: str = ""
    # ``vendor``: the CPU vendor this bound holds on (/proc/cpuinfo's vendor_id, e.g.
    # "GenuineIntel"); on any other CPU ``elsewhere`` applies. Empty: the bound holds everywhere.
    vendor: str = ""
    elsewhere: Tolerance | None = None

    def __post_init__(self) -> None:
        if self.abs < 0 or self.rel < 0:
            raise ValueError(f"tolerance bounds must be >= 0, got abs={self.abs}, rel={self.rel}")
        if (self.abs or self.rel) and not self.reason:
            raise ValueError("a tolerance above zero needs a reason")
        if bool(self.vendor) != (self.elsewhere is not None):
            raise ValueError("a tolerance for one CPU vendor needs the bound elsewhere, and the "
                             "bound elsewhere needs the vendor")

    def bound(self, committed: float) -> float:
        return self.abs + self.rel * abs(committed)

    def on(self, vendor: str) -> Tolerance:
        """The tolerance that applies on a CPU of ``vendor``."""
        if self.elsewhere is not None and vendor != self.vendor:
            return self.elsewhere
        return self


EXACT = Tolerance()
# For a pretrained model's inference on float32 CPU kernels that the CPU type selects: a fresh
# machine of another CPU type reproduced the talking-face numbers to 5e-6 relative.
FLOAT32_INFERENCE = Tolerance(rel=1e-4, reason="float32 inference on CPU-selected kernels; "
                              "5e-6 relative measured across machines")
# For a network trained on the CPU with torch under pinned kernels: exact on Intel CPUs, where MKL
# keeps to the pinned AVX2 branch; on other vendors' CPUs MKL runs other code and training
# amplifies it (an AMD EPYC moved four consonant networks by up to 0.0048; 0.01 is twice that).
TORCH_TRAINED = Tolerance(vendor="GenuineIntel", elsewhere=Tolerance(
    abs=0.01, reason="trained with torch on a non-Intel CPU: MKL's code paths differ; "
                     "0.0048 measured on an AMD EPYC"))


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
    # Reproducibility (docs/reproducibility.md). ``threads``: torch/BLAS/OpenMP threads while the
    # method trains and predicts (None: left as they are). ``pin_kernels``: run in a process
    # started with the AVX2 kernel paths of bench.execution.determinism. ``tolerance``: metric name (or "*")
    # -> how far ``bench check`` lets a recomputed value stray from the committed one.
    threads: int | None = None
    pin_kernels: bool = False
    tolerance: Mapping[str, Tolerance] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _check_name("method", self.name)
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"method {self.name!r}: threads must be at least 1")

    def tolerance_for(self, metric: str) -> Tolerance:
        """The declared tolerance of ``metric``: its own entry, else "*", else exact."""
        return self.tolerance.get(metric) or self.tolerance.get("*") or EXACT


PAIRED_TESTS = ("bootstrap", "mcnemar", "none")


@dataclass(frozen=True)
class MetricSpec:
    """A metric; ``factory(**options)`` returns a :class:`bench.interfaces.Metric`.

    ``paired_test`` says how two methods are compared on their shared samples (significance
    groups, ``bench compare``): ``bootstrap`` resamples the metric's own aggregate; ``mcnemar``
    is the exact test on paired correctness, read from the per-sample values named by
    ``sample_keys`` = (label, P(positive)) at threshold 0.5; ``none`` ranks without tests.
    """

    name: str
    task: str
    direction: Direction  # a plain "higher" / "lower" is accepted and converted
    factory: LazyRef
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    resources: Resources = Resources()  # per task on a cluster; see docs/distributed.md
    paired_test: str = "bootstrap"
    sample_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("metric", self.name)
        if self.direction not in tuple(Direction):
            raise ValueError(f"metric {self.name!r}: direction must be 'higher' or 'lower'")
        object.__setattr__(self, "direction", Direction(self.direction))
        if self.paired_test not in PAIRED_TESTS:
            raise ValueError(f"metric {self.name!r}: paired_test must be one of "
                             f"{', '.join(PAIRED_TESTS)}, not {self.paired_test!r}")
        if self.paired_test == "mcnemar" and len(self.sample_keys) != 2:
            raise ValueError(f"metric {self.name!r}: paired_test 'mcnemar' needs sample_keys "
                             "(label key, probability key)")


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
