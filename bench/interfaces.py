"""Runtime interfaces behind the specs: datasets, task runners and metrics."""

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


class TaskRunner(Protocol):
    """How a task runs a method on a split.

    ``prepare`` may fit the method (e.g. on the dataset's training split); ``predict`` returns a
    mapping of JSON-able values and numpy arrays for one sample; ``check`` raises
    :class:`SampleError` when a prediction breaks the contract (shape, dtype, range, NaN).
    """

    def prepare(self, method: Any, dataset: Dataset, split: Split, seed: int) -> Mapping[str, Any]: ...

    def predict(self, method: Any, sample: Any) -> Mapping[str, Any]: ...

    def check(self, sample: Any, prediction: Mapping[str, Any]) -> None: ...


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
