"""bench: a plugin-based evaluation benchmark.

Plugins implement hooks marked with :data:`hookimpl`; see :mod:`bench.hookspecs`.

The modules at this level are the public API, what plugins and notebooks import: ``hookspecs``,
``specs``, ``interfaces`` (what plugins implement for the harness), ``protocols`` (what a method
implements for its task), ``samples``, ``status``, ``errors``, ``lazy``, ``hashing``,
``devices`` (the torch device a task computes on), ``feature_cache``, ``results`` and the
``cli``. The subpackages are the harness's layers
(``discovery``, ``execution``, ``reporting``, ``devtools``) and its built-in capabilities
(``tasks``, ``datasets``, ``metrics``, ``video``, ``training``, ``weights``); see
docs/architecture.md.
"""

from bench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
