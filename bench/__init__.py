"""bench: a plugin-based evaluation benchmark.

Plugins implement hooks marked with :data:`hookimpl`; see :mod:`bench.hookspecs`.
"""

from bench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
