"""The tree is the architecture: which package may import which (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# bench's layers, lowest first: a layer imports only the layers below it (and the public API)
LAYERS = ["discovery", "execution", "reporting", "devtools"]
PUBLIC = {"__init__", "cli", "devices", "errors", "feature_cache", "hashing", "hookspecs",
          "interfaces", "lazy", "protocols", "results", "samples", "specs", "status"}


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth of the file (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def imports_under(package: str) -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): imported(p) for p in sorted((ROOT / package).rglob("*.py"))}


def _top(name: str) -> str:
    return name.split(".")[0]


def test_reference_models_never_import_the_harness_or_plugins():
    bad = {f: sorted(n for n in names if _top(n) in ("bench", "plugins"))
           for f, names in imports_under("reference_models").items()}
    assert not {f: n for f, n in bad.items() if n}


def test_bench_never_imports_plugins_or_reference_models():
    bad = {f: sorted(n for n in names if _top(n) in ("plugins", "reference_models"))
           for f, names in imports_under("bench").items()}
    assert not {f: n for f, n in bad.items() if n}


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_below_it(layer):
    above = {f"bench.{name}" for name in LAYERS[LAYERS.index(layer) + 1:]}
    bad = {f: sorted(n for n in names if any(n == a or n.startswith(a + ".") for a in above))
           for f, names in imports_under(f"bench/{layer}").items()}
    assert not {f: n for f, n in bad.items() if n}


def test_only_the_public_api_is_at_the_top_of_bench():
    modules = {p.stem for p in (ROOT / "bench").glob("*.py")}
    assert modules == PUBLIC
    assert not (ROOT / "bench" / "plugins.py").exists()  # discovery is bench.discovery
