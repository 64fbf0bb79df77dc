"""What plugins implement for the harness: datasets, splits, task runners and metrics, and the
optional capabilities the harness uses when an object has them.

The interfaces a *method* implements for its task (``fit``/``predict_proba``, ``generate``) are
in :mod:`bench.protocols`; those are what a task's ``protocol`` names and ``bench validate-plugin``
checks a method against. Every optional capability is a runtime-checkable Protocol below, tested
with ``isinstance`` (never probed by attribute name) and checked by ``bench validate-plugin``.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable


class SampleError(Exception):
    """A sample that cannot be loaded or predicted; the message names the file and the problem."""


class NotApplicable(SampleError):
    """The metric does not apply to this sample (e.g. a ground-truth metric under cross-dub).

    Not a failure: a metric that applies to none of a split's samples is shown as n/a.
    """


class Split(Protocol):
    """One split of a dataset: sample ids in a fixed order and a content hash of its manifest."""

    name: str
    ids: Sequence[str]
    manifest_hash: str

    def get(self, sample_id: str) -> Any:
        """Return the sample; raise :class:`SampleError` naming the file if it cannot be read."""
        ...


class Dataset(Protocol):
    name: str
    version: str

    def split(self, name: str) -> Split: ...


@runtime_checkable
class TaskRunner(Protocol):
    """How a task runs a method on a split.

    ``prepare`` may fit the method (e.g. on the dataset's training split); ``predict`` returns a
    mapping of JSON-able values and numpy arrays for one sample; ``check`` raises
    :class:`SampleError` when a prediction breaks the contract (shape, dtype, range, NaN).
    """

    def prepare(self, method: Any, dataset: Dataset, split: Split, seed: int) -> Mapping[str, Any]: ...

    def predict(self, method: Any, sample: Any) -> Mapping[str, Any]: ...

    def check(self, sample: Any, prediction: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Metric(Protocol):
    """A metric computed in two steps so that bootstrap and paired tests work over samples.

    ``per_sample`` returns a mapping of numbers/arrays for one sample (raise SampleError to mark
    it failed); ``aggregate`` turns a list of those into the dataset value. ``fingerprint`` lists
    everything that changes the number (weights sha256, resize rule, ranges, ...).
    """

    def fingerprint(self) -> Mapping[str, Any]: ...

    def per_sample(self, sample: Any, prediction: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float: ...


@runtime_checkable
class BatchScoring(Protocol):
    """Optional metric capability: score many samples in one (vectorised) call.

    ``per_sample_batch`` returns exactly what ``per_sample`` would return for each sample, in
    order. The runner uses it when present and still writes one per-sample entry per sample; if
    the call raises, it falls back to ``per_sample`` so a bad sample is blamed alone.
    """

    def per_sample_batch(self, samples: Sequence[Any],
                         predictions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]: ...


@runtime_checkable
class ColumnAggregate(Protocol):
    """Optional metric capability: aggregate per-sample values held as columns.

    ``columns(values)`` turns the per-sample mappings into one array per key, once;
    ``aggregate_columns(columns)`` must equal ``aggregate(values)`` for the same samples. The
    bootstrap then resamples array indices instead of rebuilding arrays for every resample.
    """

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float: ...

    def columns(self, values: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...

    def aggregate_columns(self, columns: Mapping[str, Any]) -> float: ...


@runtime_checkable
class DrawAggregate(ColumnAggregate, Protocol):
    """Optional metric capability: a :class:`ColumnAggregate` over many bootstrap draws at once.

    ``aggregate_draws(columns, draws)``, with ``draws`` an (R, n) array of sample indices (one
    resample per row), returns R floats: row r equals ``aggregate_columns`` of the columns
    indexed by ``draws[r]``, to the last bit, and is NaN where that raises ValueError (a draw
    without a value, e.g. ROC-AUC of a one-class draw).
    """

    def aggregate_draws(self, columns: Mapping[str, Any], draws: Any) -> Any: ...


# Optional capabilities. A plugin object that has the members of one of these gets the behaviour.


@runtime_checkable
class BatchedRunner(Protocol):
    """A task runner whose predictions are made and logged ``batch_size`` samples at a time."""

    batch_size: int


@runtime_checkable
class BatchPredictor(Protocol):
    """A task runner that predicts several samples in one call.

    Returns one prediction (or the exception it raised) per sample, in order; if the call
    raises, the samples are predicted one by one so that a bad one fails alone.
    """

    def predict_batch(self, method: Any, samples: list[Any]) -> list[Any]: ...


@runtime_checkable
class ShardedRunner(Protocol):
    """A task runner that says how many samples make one task on a cluster."""

    shard_size: int


@runtime_checkable
class TrainSplitMapper(Protocol):
    """A dataset whose methods are fitted on another split than ``train`` for some splits."""

    def train_split_for(self, name: str) -> str: ...


@runtime_checkable
class SplitMeta(Protocol):
    """A split that describes itself; ``meta["unusable"]`` lists files it could not use."""

    meta: Mapping[str, Any]


@runtime_checkable
class ExplainsDrops(Protocol):
    """A method that may give NaN probabilities for some samples and says why for each."""

    last_drop_reasons_: Sequence[str | None]


@runtime_checkable
class BootstrapLimited(Protocol):
    """A metric whose aggregate is too costly for the run's bootstrap: at most this many."""

    bootstrap_resamples: int


@runtime_checkable
class ReportsDetails(Protocol):
    """A metric whose ``aggregate`` leaves details of the value (counts, settings) to record."""

    last_details: Mapping[str, Any]


CAPABILITIES: dict[str, tuple[type, ...]] = {
    "runner": (BatchedRunner, BatchPredictor, ShardedRunner),
    "dataset": (TrainSplitMapper,),
    "split": (SplitMeta,),
    "method": (ExplainsDrops,),
    "metric": (BootstrapLimited, ReportsDetails, BatchScoring, ColumnAggregate, DrawAggregate),
}
