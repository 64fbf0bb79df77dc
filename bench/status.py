"""The words a record uses for how a result came out and which way a metric is better.

Both are ``str`` enums: a member *is* its JSON string (``Status.OK == "ok"``), so records written
before these types existed load and compare unchanged, and new records are byte-identical.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable


class _StrEnum(str, enum.Enum):
    """``str(member)`` and f-strings give the value, as ``enum.StrEnum`` does (Python >= 3.11)."""

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]


class Status(_StrEnum):
    """Status of a sample, a metric result or a method (see :mod:`bench.execution.records`).

    ``ok``: every sample scored. ``partial``: some samples failed or their files were unusable
    (coverage says which). ``failed``: nothing could be scored (the message says why).
    ``unavailable``: a needed weights file or library is absent (the message says how to get
    it); never computed on substitutes. ``n/a``: the metric does not apply to these samples
    (e.g. a ground-truth metric under cross-dub): not a failure.
    """

    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"
    NOT_APPLICABLE = "n/a"


class Direction(_StrEnum):
    """Which way a metric is better."""

    HIGHER = "higher"
    LOWER = "lower"

    @property
    def higher_is_better(self) -> bool:
        return self is Direction.HIGHER

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def best(self, values: Iterable[float]) -> float:
        return max(values) if self.higher_is_better else min(values)

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


def direction_of(value: str | None) -> Direction:
    """A record's direction field (absent in some old records: higher)."""
    return Direction(value or Direction.HIGHER)


@dataclass(frozen=True)
class MethodStatus:
    """Why a method produced nothing at all (it failed as a whole, or its weights are absent).

    ``text`` is what records show: ``"<status>: <reason>"``.
    """

    status: Status
    reason: str

    @property
    def text(self) -> str:
        return f"{self.status}: {self.reason}"
