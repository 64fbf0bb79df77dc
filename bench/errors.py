"""Errors the CLI reports as one clear line."""

from __future__ import annotations

import difflib
from typing import Iterable


class BenchError(Exception):
    """An error caused by the user's input or environment; shown without a traceback."""


class UnknownNameError(BenchError, KeyError):
    """An unknown task, method, dataset, metric, weights or reporter name."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        hint = did_you_mean(name, known)
        msg = f"unknown {kind} {name!r}"
        msg += f" (did you mean {hint!r}?)" if hint else f"; known: {', '.join(known) or 'none'}"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Unavailable(BenchError):
    """A metric or method that cannot run here (e.g. its weights are absent).

    ``install`` is the command that makes it available.
    """

    def __init__(self, message: str, install: str = ""):
        super().__init__(message + (f"; install with: {install}" if install else ""))
        self.install = install


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The closest known name to ``name``, if any is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None
