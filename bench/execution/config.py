"""Run configuration: defaults, a TOML file, then command-line overrides, in that order.

The file has a ``[run]`` table with the fields of :class:`RunConfig`, optional
``[methods.<name>]`` tables that override a method's registered config, and optional
``[datasets.<name>]`` tables of options for a dataset's loader (e.g. ``root`` of a real corpus). Unknown keys are errors
with a suggestion, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError, did_you_mean
from bench.execution.layout import RunsLayout

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class RunConfig:
    tasks: list[str] = field(default_factory=list)  # empty: every registered task
    methods: list[str] = field(default_factory=list)  # empty: every method of each task
    datasets: dict[str, str] = field(default_factory=dict)  # task -> dataset
    splits: list[str] = field(default_factory=list)  # empty: the dataset's eval splits
    metrics: list[str] = field(default_factory=list)  # empty: the task's default metrics
    seed: int = 0
    bootstrap: int = 1000
    runs_dir: str = field(default_factory=lambda: default_runs_dir())
    leaderboards_dir: str = ""  # default: RUNS_DIR/leaderboards
    # overlap: `workers` units at once, pinned ones in pinned processes (README, "The main job")
    executor: str = "overlap"  # overlap | inprocess | pool | ray
    workers: int = 2  # pool processes, or units overlap runs at once
    address: str = ""  # ray: an existing cluster ("auto", "HOST:PORT", "ray://HOST:PORT")
    shard_size: int = 0  # ray: samples per task (0: the task's choice)
    resume: bool = False
    limit: int = 0  # score only the first N samples of each split (0: all); for smoke runs
    method_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolved(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RUN_KEYS = {f.name for f in dataclasses.fields(RunConfig)} - {"method_config", "dataset_options"}


RUNS_ENV = "BENCH_RUNS_DIR"


def default_runs_dir() -> str:
    """The runs directory every command uses unless told otherwise: ``$BENCH_RUNS_DIR``, else
    ``runs`` in the current directory (git-ignored in the repository)."""
    return os.environ.get(RUNS_ENV) or "runs"


def leaderboards_dir_for(runs_dir: str) -> str:
    """Where leaderboards built from ``runs_dir`` go when no directory is given: beside its
    records. Only ``--publish`` writes the committed ``leaderboards/``."""
    return str(RunsLayout(runs_dir).leaderboards)


def _unknown(path: Path, table: str, key: str, known: set[str]) -> BenchError:
    hint = did_you_mean(key, known)
    tip = f" (did you mean {hint!r}?)" if hint else f"; known keys: {', '.join(sorted(known))}"
    return BenchError(f"config file {path}: unknown key {key!r} in [{table}]{tip}")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Build a RunConfig from a TOML file (optional) and overrides (None values are ignored)."""
    cfg = RunConfig()
    given: set[str] = set()
    if path is not None:
        path = Path(path)
        data = read_toml(path, "config file")
        for table in data:
            if table not in ("run", "methods", "datasets"):
                raise _unknown(path, "top level", table, {"run", "methods", "datasets"})
        if not isinstance(data.get("run", {}), dict):
            raise BenchError(f"config file {path}: [run] must be a table")
        for key, value in data.get("run", {}).items():
            if key not in RUN_KEYS:
                raise _unknown(path, "run", key, RUN_KEYS)
            _set(cfg, key, value, f"config file {path}")
            given.add(key)
        for name, table in data.get("methods", {}).items():
            if not isinstance(table, dict):
                raise BenchError(f"config file {path}: [methods.{name}] must be a table")
            cfg.method_config[name] = dict(table)
        for name, table in data.get("datasets", {}).items():
            if not isinstance(table, dict):
                raise BenchError(f"config file {path}: [datasets.{name}] must be a table")
            cfg.dataset_options[name] = dict(table)
    for key, value in (overrides or {}).items():
        if value is None or value == () or value == []:
            continue
        if key not in RUN_KEYS:
            raise BenchError(f"unknown run option {key!r}")
        _set(cfg, key, value, "command line")
        given.add(key)
    if "leaderboards_dir" not in given:
        cfg.leaderboards_dir = leaderboards_dir_for(cfg.runs_dir)
    return cfg


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file's tables; every way it can be unreadable is one error naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise BenchError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise BenchError(f"{what} {path} is a directory, not a TOML file") from None
    except PermissionError:
        raise BenchError(f"{what} {path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise BenchError(f"{what} {path} cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise BenchError(f"{what} {path} is not UTF-8 text (byte {exc.start}); "
                         "TOML files must be UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{what} {path}: invalid TOML ({exc})") from None


# Lower bounds of numeric run options; below them a run would silently do something else.
EXECUTORS = ("overlap", "inprocess", "pool", "ray")
MINIMUM = {"bootstrap": 0, "limit": 0, "workers": 1, "seed": 0, "shard_size": 0}


def _set(cfg: RunConfig, key: str, value: Any, where: str) -> None:
    current = getattr(cfg, key)
    if isinstance(current, list) and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(current, list):
        value = list(value)
    expected = type(current)
    if expected is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise BenchError(f"{where}: {key} must be {expected.__name__}, got {value!r}")
    if key in MINIMUM and value < MINIMUM[key]:
        raise BenchError(f"{where}: {key} must be >= {MINIMUM[key]}, got {value}")
    if key == "executor" and value not in EXECUTORS:
        raise BenchError(f"{where}: executor must be one of {', '.join(EXECUTORS)}, "
                         f"got {value!r}")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise BenchError(f"{where}: {key} must be a list of names, got {value!r}")
    setattr(cfg, key, value)
