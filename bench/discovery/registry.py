"""Name-keyed registries of specs that remember which plugin registered each entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterator, TypeVar

from bench.errors import BenchError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where a spec came from: plugin name, its distribution and version, and module."""

    plugin: str
    distribution: str = ""
    version: str = ""
    module: str = ""

    def __str__(self) -> str:
        dist = (f"distribution {self.distribution} {self.version}" if self.distribution
                else "no distribution")
        return f"plugin {self.plugin!r} [{dist}] ({self.module})"


class DuplicateNameError(BenchError):
    pass


class Registry(Generic[T]):
    """Specs of one kind, keyed by ``spec.name``; duplicates are errors naming both origins."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, Origin] = {}

    def check_new(self, name: str, origin: Origin) -> None:
        if name in self._items:
            raise DuplicateNameError(
                f"{self.kind} {name!r} from {origin} is already registered by "
                f"{self._origins[name]}; the first registration keeps the name, so this "
                "plugin's registrations are rejected")

    def add(self, spec: T, origin: Origin) -> None:
        name: str = spec.name  # type: ignore[attr-defined]
        self.check_new(name, origin)
        self._items[name] = spec
        self._origins[name] = origin

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._items) from None

    def origin(self, name: str) -> Origin:
        self.get(name)
        return self._origins[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._items)
