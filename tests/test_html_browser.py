"""The HTML leaderboard in a real headless Chromium: it renders, sorts, and a screenshot is kept."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.reporting.leaderboard import build_tables
from bench.reporting.reporters import html as html_rep
from bench.execution.runner import Unit, run_unit
from bench.reporting.significance import add_significance

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(.ci/run installs it)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def page(tmp_path, toy_registries) -> Path:
    for method in ("toy-zcr", "toy-flaky", "toy-coin", "toy-nan"):
        run_unit(Unit(task="consonant-voicing", method=method, dataset="toy-segments",
                      split="test", metrics=("accuracy", "roc-auc"), runs_dir=str(tmp_path),
                      bootstrap=100))
    tables = build_tables(tmp_path)
    add_significance(tables, toy_registries.metrics, resamples=100)
    path = tmp_path / "consonant-voicing.html"
    path.write_text(html_rep.render(tables))
    return path


def _methods_in_order(dom: str) -> list[str]:
    return re.findall(r'<td class="method" data-v="">([a-z-]+)', dom)


def test_page_renders_and_sorts_in_chromium(tmp_path, page):
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "toy-zcr" in dom and "⚠ 29/30 scored" in dom and "group a" in dom
    # ranked by the first metric: the two perfect-accuracy rows lead (one scored 29/30)
    assert set(_methods_in_order(dom)[:2]) == {"toy-zcr", "toy-flaky"}
    asc = _chromium(tmp_path, "--dump-dom", page.as_uri() + "?sort=accuracy&order=asc").stdout
    order = _methods_in_order(asc)
    assert order[0] == "toy-coin" and order[-1] == "toy-nan"  # worst first, n/a last
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "leaderboard.png"
    res = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,720", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 5000, res.stderr[-500:]
