"""The main job's executors side by side: in-process, overlap (the default) and the process pool.

Run: ``BENCH_BENCHMARKS=1 python -m pytest tests/benchmarks/test_bench_executors.py``.

Each round is one cold ``bench run`` in a fresh process (fresh runs directory, empty cache
directory, CPU kernels pinned as in a user's run) on a selection of both tracks that takes about
a minute: two consonant methods that train at run time (pinned units, one thread each) and three
talking-face methods scored with LSE-C/LSE-D, PSNR and SSIM on the first clips. Set
``BENCH_EXECUTORS_LIMIT`` for more clips. The records of every executor are checked against
the in-process run's (the values and CIs, which must be the same numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT = os.environ.get("BENCH_EXECUTORS_LIMIT", "4")
# --limit applies to the scored samples: the consonant methods still train on the whole
# training split
SELECTION = ["--method", "mfcc-svm", "--method", "topcap-logreg", "--method", "static-reference",
             "--method", "audio-energy-mouth", "--method", "ground-truth", "--limit", LIMIT]
ROOT = Path(__file__).resolve().parents[2]


def _run(executor: str, tmp: Path) -> dict[str, object]:
    """One cold run of the selection (both tracks in one process, as the main job)."""
    runs, cache = tmp / executor / "runs", tmp / executor / "cache"
    env = {**os.environ, "BENCH_CACHE_DIR": str(cache), "BENCH_PIN_KERNELS": "1",
           "PYTHONPATH": str(ROOT)}
    log = tmp / f"{executor}.log"
    with open(log, "w") as f:  # a file, not a pipe: joblib's idle workers may outlive the run
        out = subprocess.run([sys.executable, "-m", "bench.cli", "run", *SELECTION, "--executor",
                              executor, "--runs-dir", str(runs)],
                             env=env, stdout=f, stderr=subprocess.STDOUT, check=False, cwd=ROOT)
    assert out.returncode == 0, log.read_text()[-2000:]
    values = {}
    for path in sorted((runs / "records").rglob("*.json")):
        rec = json.loads(path.read_text())
        values[str(path.relative_to(runs))] = {m: (r.get("value"), r.get("ci"))
                                               for m, r in rec["metrics"].items()}
    return values


@pytest.fixture(scope="module")
def reference():
    return {}  # the first executor's values, which the others must equal


@pytest.mark.parametrize("executor", ["inprocess", "overlap", "pool"])
@pytest.mark.benchmark(group="main-job-selection-cold")
def test_bench_executor(benchmark, executor, tmp_path, reference):
    values = benchmark.pedantic(_run, args=(executor, tmp_path), rounds=1, iterations=1)
    assert len(values) == 8  # 2 consonant units, 3 talking-face methods on 2 splits
    reference.setdefault("inprocess", values)
    assert values == reference["inprocess"]
