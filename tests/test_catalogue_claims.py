"""Catalogue: claims files are checked completely before any unit runs; verify never edits records."""

from __future__ import annotations

import pytest
from catalogue import cli, expect, snapshot

NAMES = ('task = "consonant-voicing"\ndataset = "toy-segments"\nsplit = "test"\n'
         'method = "toy-zcr"\nmetric = "accuracy"\n')
GOOD = NAMES + 'within = "ci"\n'  # holds when the claimed value lies in the measured 95% CI

CASES = {
    "value-percent-string": (GOOD + 'value = "96%"\n', ["claim 1", "value must be a number", "96%"]),
    "value-bool": (GOOD + "value = true\n", ["claim 1", "value must be a number"]),
    "value-missing": (GOOD, ["claim 1", "lacks value"]),
    "tolerance-negative": (NAMES + "value = 0.9\ntolerance = -0.1\n", ["claim 1", "tolerance must be >= 0"]),
    "tolerance-string": (NAMES + 'value = 0.9\ntolerance = "5%"\n', ["claim 1", "tolerance must be a number"]),
    "tolerance-and-within": (GOOD + "value = 0.9\ntolerance = 0.1\n", ["claim 1", "not both"]),
    "within-unknown": (NAMES + 'value = 0.9\nwithin = "pi"\n', ["claim 1", "within = 'pi'"]),
    "unknown-key": (GOOD + "value = 0.9\nmetrc = 1\n", ["claim 1", "unknown key 'metrc'", "'metric'"]),
    "method-unknown": (GOOD.replace("toy-zcr", "toy-zrc") + "value = 0.9\n",
                       ["claim 1", "unknown method 'toy-zrc'"]),
    "metric-other-task": (GOOD.replace('"accuracy"', '"toy-mae"') + "value = 0.9\n",
                          ["claim 1", "metric 'toy-mae' belongs to task 'talking-face'"]),
    "split-unknown": (GOOD.replace('"test"', '"tset"') + "value = 0.9\n",
                      ["claim 1", "has no split 'tset'"]),
    "task-empty": (GOOD.replace('"consonant-voicing"', '""') + "value = 0.9\n",
                   ["claim 1", "task must be a non-empty string"]),
    "no-claims": ("title = 'x'\n", ["unknown top-level key"]),
    "empty-file": ("", ["no [[claim]] tables"]),
    "claim-not-table": ("claim = [1]\n", ["claim 1", "is not a table"]),
    "invalid-toml": ("[[claim]\n", ["invalid TOML"]),
}


def _claims(tmp_path, body: str, n: int = 1):
    path = tmp_path / "claims.toml"
    path.write_text("".join("[[claim]]\n" + body for _ in range(n)) if "[[claim]]" not in body
                    and not body.startswith(("title", "claim", "[[")) and body else body)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_claims_file_runs_nothing(name, toy_runs, tmp_path):
    body, needles = CASES[name]
    path = _claims(tmp_path, body)
    before = snapshot(toy_runs)
    res = cli(["verify", path, "--runs-dir", toy_runs])
    expect(res, 2, str(path), *needles)
    assert snapshot(toy_runs) == before
    assert not (toy_runs / "verify").exists() and not (toy_runs / "locks" / "x").exists()


def test_every_bad_claim_is_reported_at_once(toy_runs, tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text("[[claim]]\n" + GOOD + 'value = "96%"\n' + "[[claim]]\n" + GOOD + "value = 0.9\n"
                    + "[[claim]]\n" + NAMES + "value = 0.9\ntolerance = -1\n")
    res = cli(["verify", path, "--runs-dir", toy_runs])
    expect(res, 2, f"{path}: claim 1: value must be a number")
    assert "claim 3" in res.output and "claim 2" not in res.output


@pytest.mark.parametrize("kind", ["missing", "directory", "latin-1"])
def test_unreadable_claims_file(kind, toy_runs, tmp_path):
    path = tmp_path / "claims.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "latin-1":
        path.write_bytes(("[[claim]]\n# caf\u00e9\n" + GOOD + "value = 1.0\n").encode("latin-1"))
    res = cli(["verify", path, "--runs-dir", toy_runs])
    expect(res, 2, str(path), {"missing": "does not exist", "directory": "is a directory",
                               "latin-1": "not UTF-8"}[kind])


def test_verify_writes_its_own_records_and_leaves_results_alone(toy_runs, tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text("[[claim]]\n" + GOOD + "value = 1.0\n[[claim]]\n"
                    + GOOD.replace("accuracy", "roc-auc") + "value = 1.0\n")
    before = snapshot(toy_runs)
    res = cli(["verify", path, "--runs-dir", toy_runs])
    expect(res, 0, "[holds]")
    assert snapshot(toy_runs) == before
    import json

    rec = json.loads(next((toy_runs / "verify" / "records").rglob("toy-zcr.json")).read_text())
    assert set(rec["metrics"]) == {"accuracy", "roc-auc"} and rec["kind"] == "verify"


def test_claim_that_does_not_hold_exits_1(toy_runs, tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text("[[claim]]\n" + GOOD + "value = 0.5\n")
    before = snapshot(toy_runs)
    expect(cli(["verify", path, "--runs-dir", toy_runs]), 1, "[does not hold]")
    assert snapshot(toy_runs) == before
