"""Lazy references: ``"package.module:attribute"`` strings resolved on first use.

Specs hold these so that listing plugins never imports torch models.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Union

LazyRef = Union[str, Callable[..., Any]]


def resolve(ref: LazyRef) -> Any:
    """Import and return the object named by ``ref``; a callable is returned unchanged."""
    if not isinstance(ref, str):
        return ref
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"lazy reference {ref!r} must look like 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
