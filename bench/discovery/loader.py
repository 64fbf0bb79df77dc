"""Plugin discovery through the ``bench`` entry-point group, with each plugin isolated.

A plugin that fails to import or to register is recorded with its error and the rest keep
working. Names are owned: plugins load in a fixed order (the built-in distribution first, then
the others by distribution and entry-point name), the first to register a name keeps it, and a
later plugin that registers the same name is rejected with an error naming both distributions;
the owner is never disabled. ``BENCH_PLUGINS`` (comma-separated allow list), ``BENCH_DISABLE_PLUGINS`` (block list)
and ``BENCH_TRACE_PLUGINS=1`` (log every hook call to stderr) control loading.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from bench import hookspecs
from bench.errors import UnknownNameError, did_you_mean
from bench.discovery.registry import Origin, Registry
from bench.specs import (
    DatasetSpec,
    MethodSpec,
    MetricSpec,
    ReporterSpec,
    TaskSpec,
    WeightsSpec,
)

ENTRY_POINT_GROUP = "bench"
BUILTIN_DISTRIBUTION = "bench"

# hook name -> (registry attribute, spec type)
HOOKS: dict[str, tuple[str, type]] = {
    "bench_register_tasks": ("tasks", TaskSpec),
    "bench_register_datasets": ("datasets", DatasetSpec),
    "bench_register_methods": ("methods", MethodSpec),
    "bench_register_metrics": ("metrics", MetricSpec),
    "bench_register_weights": ("weights", WeightsSpec),
    "bench_register_reporters": ("reporters", ReporterSpec),
}


@dataclass
class PluginInfo:
    """What ``bench plugins`` shows for one plugin."""

    name: str
    origin: Origin
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    status: str = "ok"  # ok | failed | blocked


@dataclass
class Registries:
    """Everything the loaded plugins registered, plus the plugin table."""

    tasks: Registry[TaskSpec] = field(default_factory=lambda: Registry("task"))
    datasets: Registry[DatasetSpec] = field(default_factory=lambda: Registry("dataset"))
    methods: Registry[MethodSpec] = field(default_factory=lambda: Registry("method"))
    metrics: Registry[MetricSpec] = field(default_factory=lambda: Registry("metric"))
    weights: Registry[WeightsSpec] = field(default_factory=lambda: Registry("weights"))
    reporters: Registry[ReporterSpec] = field(default_factory=lambda: Registry("reporter"))
    plugins: list[PluginInfo] = field(default_factory=list)

    def failed(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status == "failed"]

    def plugin_versions(self) -> dict[str, str]:
        return {p.name: p.origin.version for p in self.plugins if p.status == "ok"}

    def producer(self, kind: str, name: str) -> dict[str, str]:
        """The plugin, distribution and version that registered ``name`` in registry ``kind``."""
        origin = getattr(self, kind).origin(name)
        return {"plugin": origin.plugin, "distribution": origin.distribution,
                "version": origin.version}


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {x.strip() for x in raw.split(",") if x.strip()}


def _dist_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return dist.metadata["Name"] or "", dist.version or ""


def _short_error(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _constant(obj: Any) -> Callable[[], Any]:
    return lambda: obj


def _trace(hook_name: str, hook_impls: Any, kwargs: Any) -> None:
    names = ", ".join(getattr(i, "plugin_name", "?") for i in hook_impls)
    print(f"[bench trace] {hook_name} -> {names}", file=sys.stderr)


def load_registries(
    extra_plugins: Iterable[tuple[str, ModuleType | object]] = (),
    entry_points: bool = True,
) -> Registries:
    """Discover plugins and collect what they register.

    ``extra_plugins`` are (name, module-or-object) pairs registered in-process as if they came
    from entry points (tests use this); the allow/block lists apply to them as well.
    """
    allow = _env_list("BENCH_PLUGINS")
    block = _env_list("BENCH_DISABLE_PLUGINS") or set()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if os.environ.get("BENCH_TRACE_PLUGINS") == "1":
        pm.add_hookcall_monitoring(_trace, lambda *a: None)
    regs = Registries()

    candidates: list[tuple[str, Callable[[], Any], Origin]] = []
    if entry_points:
        found = []
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist, version = _dist_of(ep)
            found.append((ep.name, ep.load, Origin(ep.name, dist, version, ep.value)))
        # built-ins first, so a third-party name can never take over a built-in one
        found.sort(key=lambda c: (c[2].distribution != BUILTIN_DISTRIBUTION,
                                  c[2].distribution, c[0]))
        candidates.extend(found)
    for name, obj in extra_plugins:
        module = getattr(obj, "__name__", type(obj).__name__)
        candidates.append((name, _constant(obj), Origin(name, "", "", module)))
    for env, names in (("BENCH_PLUGINS", allow), ("BENCH_DISABLE_PLUGINS", block)):
        known = {c[0] for c in candidates}
        for unknown in sorted((names or set()) - known):
            raise UnknownNameError(f"plugin in {env}", unknown, known)

    seen: set[str] = set()
    for name, load, origin in candidates:
        info = PluginInfo(name=name, origin=origin)
        regs.plugins.append(info)
        if name in seen:
            info.status, info.error = "failed", f"another plugin is already named {name!r}"
            continue
        seen.add(name)
        if (allow is not None and name not in allow) or name in block:
            info.status = "blocked"
            continue
        try:
            plugin = load()
            pm.register(plugin, name=name)
        except Exception as exc:  # a broken plugin must not break the others
            info.status, info.error = "failed", _short_error(exc)
            continue
        unknown = _unknown_hooks(pm)
        if unknown:  # a misspelled hook would otherwise load as "ok" and register nothing
            pm.unregister(plugin)
            info.status, info.error = "failed", unknown
            continue
        _collect(pm, plugin, info, regs)
    return regs


def _unknown_hooks(pm: pluggy.PluginManager) -> str:
    """pluggy's check_pending, as one line with a suggestion ("" when every hook is known)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        names = sorted(n for n in vars(pm.hook) if not n.startswith("_")
                       and not getattr(pm.hook, n).has_spec())
        hints = []
        for n in names:
            close = did_you_mean(n, HOOKS)
            hints.append(f"{n!r}" + (f" (did you mean {close!r}?)" if close else ""))
        return f"unknown hook {', '.join(hints)}; known hooks: {', '.join(HOOKS)}"
    return ""


def _collect(pm: pluggy.PluginManager, plugin: Any, info: PluginInfo, regs: Registries) -> None:
    """Call one plugin's hooks; keep its specs only if every hook succeeds."""
    others = [p for p in pm.get_plugins() if p is not plugin]
    staged: list[tuple[str, Any]] = []  # (registry attribute, spec)
    try:
        for hook_name, (attr, spec_type) in HOOKS.items():
            caller = pm.subset_hook_caller(hook_name, remove_plugins=others)

            def register(spec: Any, attr: str = attr, spec_type: Any = spec_type,
                         hook_name: str = hook_name) -> None:
                if not isinstance(spec, spec_type):
                    raise TypeError(
                        f"{hook_name} must register {spec_type.__name__}, got {type(spec).__name__}"
                    )
                registry = getattr(regs, attr)
                registry.check_new(spec.name, info.origin)
                if any(a == attr and s.name == spec.name for a, s in staged):
                    raise ValueError(f"{registry.kind} {spec.name!r} registered twice")
                staged.append((attr, spec))

            caller(register=register)
    except Exception as exc:
        info.status, info.error = "failed", _short_error(exc)
        pm.unregister(plugin)
        return
    for attr, spec in staged:
        getattr(regs, attr).add(spec, info.origin)
        info.registered.setdefault(attr, []).append(spec.name)


_cached: Registries | None = None


def registries() -> Registries:
    """The registries of the installed plugins, loaded once per process."""
    global _cached
    if _cached is None:
        _cached = load_registries()
    return _cached


def reset_cache() -> None:
    global _cached
    _cached = None
