"""``bench new-method``: write a pip-installable plugin package for a new method."""

from __future__ import annotations

import importlib.resources
import os
import re
import sys
from pathlib import Path
from string import Template

from bench.errors import BenchError

TEMPLATES = Path(__file__).parent / "templates"


def method_template(task: str) -> str:
    """The text of ``task``'s method template (its spec's ``method_template``)."""
    from bench.discovery.loader import registries

    tasks = registries().tasks
    with_template = sorted(t.name for t in tasks if t.method_template)
    if task not in tasks or not tasks.get(task).method_template:
        raise BenchError(f"unknown task {task!r}; choose one of {', '.join(with_template)}")
    package, _, name = tasks.get(task).method_template.partition(":")
    return importlib.resources.files(package).joinpath(name).read_text()


def _typed_path(path: str, start: str | Path) -> str:
    """``path`` relative to ``start`` when it is close by (a project's .venv), else absolute."""
    rel = os.path.relpath(path, os.path.abspath(start))
    return rel if rel.split(os.sep).count(os.pardir) <= 1 else path


def interpreter(start: str | Path = ".") -> str:
    """The python running bench, as a path to type from ``start``.

    Installing with this interpreter's ``-m pip`` puts the plugin in bench's own environment; a
    bare ``pip`` is often the system's (``externally-managed-environment``) or another venv's.
    """
    return _typed_path(os.path.abspath(sys.executable), start)


def bench_script(start: str | Path = ".") -> str:
    """The ``bench`` command of bench's environment, as a path to type from ``start``."""
    script = Path(os.path.abspath(sys.executable)).parent / "bench"
    return _typed_path(str(script), start) if script.exists() else "bench"


def install_command(target: str | Path, start: str | Path = ".") -> str:
    """``<bench's python> -m pip install -e <target>``, to type in ``start``."""
    return f"{interpreter(start)} -m pip install -e {target}"


def new_method(name: str, task: str, out_dir: str | Path) -> Path:
    """Create ``out_dir/bench-<name>/``; returns that folder."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise BenchError(f"method name {name!r}: use lower-case letters, digits and '-'")
    method_text = method_template(task)
    module = "bench_" + name.replace("-", "_")
    root = Path(out_dir) / f"bench-{name}"
    if root.exists():
        raise BenchError(f"{root} already exists")
    values = {"name": name, "module": module, "task": task,
              "install": install_command(".", root),
              "bench": bench_script(root),
              "cls": "".join(p.capitalize() for p in name.split("-")) + "Method"}
    def template(name: str) -> str:
        return (TEMPLATES / name).read_text()

    files = {
        "pyproject.toml": template("pyproject.toml.tmpl"),
        "README.md": template("README.md.tmpl"),
        f"{module}/__init__.py": "",
        f"{module}/method.py": method_text,
        f"{module}/plugin.py": template("plugin.py.tmpl"),
        f"tests/test_{module}.py": template("test_method.py.tmpl"),
    }
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(source).substitute(values))
    return root
