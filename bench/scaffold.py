"""``bench new-method``: write a pip-installable plugin package for a new method."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from string import Template

from bench.errors import BenchError

TEMPLATES = Path(__file__).parent / "templates"
TASK_TEMPLATES = {"consonant-voicing": "consonant_method.py.tmpl",
                  "talking-face": "talking_face_method.py.tmpl"}


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
    if task not in TASK_TEMPLATES:
        raise BenchError(f"unknown task {task!r}; choose one of {', '.join(TASK_TEMPLATES)}")
    module = "bench_" + name.replace("-", "_")
    root = Path(out_dir) / f"bench-{name}"
    if root.exists():
        raise BenchError(f"{root} already exists")
    values = {"name": name, "module": module, "task": task,
              "install": install_command(".", root),
              "bench": bench_script(root),
              "cls": "".join(p.capitalize() for p in name.split("-")) + "Method"}
    files = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{module}/__init__.py": None,
        f"{module}/method.py": TASK_TEMPLATES[task],
        f"{module}/plugin.py": "plugin.py.tmpl",
        f"tests/test_{module}.py": "test_method.py.tmpl",
    }
    for rel, tmpl in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "" if tmpl is None else Template((TEMPLATES / tmpl).read_text()).substitute(values)
        path.write_text(text)
    return root
