"""A generic split over samples loaded on demand, with a manifest hash over ids and contents."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from bench.interfaces import SampleError


def manifest_hash(entries: Sequence[tuple[str, str]]) -> str:
    """sha256 over (sample id, content hash) pairs in order: the identity of a split."""
    payload = json.dumps([list(e) for e in entries], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class LazySplit:
    """A split whose samples are built by ``loaders[id]()`` when asked for.

    ``content_hashes[id]`` is the sha256 of the sample's source content (file bytes or
    parameters); together with the ids it forms ``manifest_hash``.
    """

    name: str
    ids: list[str]
    content_hashes: Mapping[str, str]
    loaders: Mapping[str, Callable[[], Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def manifest_hash(self) -> str:
        return manifest_hash([(i, self.content_hashes[i]) for i in self.ids])

    def get(self, sample_id: str) -> Any:
        try:
            loader = self.loaders[sample_id]
        except KeyError:
            raise SampleError(f"split {self.name!r} has no sample {sample_id!r}") from None
        return loader()
