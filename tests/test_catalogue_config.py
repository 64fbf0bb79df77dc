"""Catalogue: bad configuration files and option values are refused before any work."""

from __future__ import annotations

import pytest
from catalogue import TOY, cli, expect, snapshot

RUN = ["run", *TOY, "--method", "toy-zcr"]

# (file content or None, extra args, needles); "{cfg}" in a needle is the config file's path
FILE_CASES = {
    "invalid-toml": ("[run\nseed = 1\n", [], ["{cfg}", "invalid TOML"]),
    "unknown-table": ("[runs]\nseed = 1\n", [], ["{cfg}", "unknown key 'runs'", "'run'"]),
    "unknown-run-key": ("[run]\nbootstarp = 10\n", [], ["{cfg}", "did you mean 'bootstrap'"]),
    "seed-string": ('[run]\nseed = "x"\n', [], ["{cfg}", "seed must be int"]),
    "limit-negative": ("[run]\nlimit = -1\n", [], ["{cfg}", "limit must be >= 0"]),
    "bootstrap-negative": ("[run]\nbootstrap = -5\n", [], ["{cfg}", "bootstrap must be >= 0"]),
    "workers-zero": ("[run]\nworkers = 0\n", [], ["{cfg}", "workers must be >= 1"]),
    "executor-unknown": ('[run]\nexecutor = "threads"\n', [], ["{cfg}", "executor must be"]),
    "methods-not-names": ("[run]\nmethods = [1, 2]\n", [], ["{cfg}", "methods must be a list"]),
    "resume-string": ('[run]\nresume = "yes"\n', [], ["{cfg}", "resume must be bool"]),
    "run-not-table": ("run = 3\n", [], ["{cfg}", "[run] must be a table"]),
    "method-not-table": ("[methods]\ntoy-zcr = 3\n", [], ["{cfg}", "[methods.toy-zcr] must be a table"]),
    "dataset-not-table": ("[datasets]\ntimit = 3\n", [], ["{cfg}", "[datasets.timit] must be a table"]),
    "bootstrap-float": ("[run]\nbootstrap = 1.5\n", [], ["{cfg}", "bootstrap must be int"]),
    "limit-bool": ("[run]\nlimit = true\n", [], ["{cfg}", "limit must be int"]),
    "method-config-type": ('[methods.toy-zcr]\nthreshold = "high"\n', [],
                           ["toy-zcr.threshold", "expected float"]),
    "method-config-typo": ("[methods.toy-zcr]\ntreshold = 0.2\n", [],
                           ["toy-zcr.treshold", "did you mean 'threshold'"]),
    "unused-dataset-table": ('[datasets.timit]\nroot = "/data/TIMIT"\n', [],
                             ["timit", "not used by this run", "--dataset timit"]),
}


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_bad_config_file(name, toy_runs, tmp_path):
    text, extra, needles = FILE_CASES[name]
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    before = snapshot(toy_runs)
    res = cli([*RUN, "--runs-dir", toy_runs, "--config", cfg, *extra])
    expect(res, 2, *[n.replace("{cfg}", str(cfg)) for n in needles])
    assert snapshot(toy_runs) == before


def test_config_file_missing(toy_runs, tmp_path):
    res = cli([*RUN, "--runs-dir", toy_runs, "--config", tmp_path / "nope.toml"])
    expect(res, 2, str(tmp_path / "nope.toml"), "does not exist")


def test_config_file_is_a_directory(toy_runs, tmp_path):
    before = snapshot(toy_runs)
    res = cli([*RUN, "--runs-dir", toy_runs, "--config", tmp_path])
    expect(res, 2, str(tmp_path), "is a directory")
    assert snapshot(toy_runs) == before


def test_config_file_not_utf8(toy_runs, tmp_path):
    cfg = tmp_path / "latin1.toml"
    cfg.write_bytes("[run]\n# caf\u00e9\nseed = 1\n".encode("latin-1"))
    before = snapshot(toy_runs)
    res = cli([*RUN, "--runs-dir", toy_runs, "--config", cfg])
    expect(res, 2, str(cfg), "is not UTF-8")
    assert snapshot(toy_runs) == before


OPTION_CASES = {
    "limit-negative": (["--limit", "-5"], ["limit must be >= 0, got -5"]),
    "bootstrap-negative": (["--bootstrap", "-5"], ["bootstrap must be >= 0, got -5"]),
    "workers-zero": (["--workers", "0"], ["workers must be >= 1"]),
    "seed-negative": (["--seed", "-1"], ["seed must be >= 0"]),
    "limit-not-a-number": (["--limit", "abc"], ["--limit", "abc"]),
    "executor-unknown": (["--executor", "threads"], ["--executor", "threads"]),
    "method-config-no-equals": (["--method-config", "toy-zcr.threshold"],
                                ["--method-config", "expected NAME.KEY=VALUE"]),
    "method-config-no-dot": (["--method-config", "threshold=0.2"],
                             ["--method-config", "expected NAME.KEY=VALUE"]),
    "dataset-option-malformed": (["--dataset-option", "timit"],
                                 ["--dataset-option", "expected NAME.KEY=VALUE"]),
    "method-config-wrong-type": (["--method-config", "toy-zcr.threshold=abc"],
                                 ["--method-config toy-zcr.threshold='abc'", "expected float"]),
    "method-config-bool-type": (["--method-config", "toy-zcr.flaky=1"],
                                ["toy-zcr.flaky", "expected bool"]),
    "method-config-typo": (["--method-config", "toy-zcr.treshold=0.2"],
                           ["toy-zcr.treshold", "did you mean 'threshold'"]),
    "method-config-unknown-method": (["--method-config", "toy-zrc.threshold=0.2"],
                                     ["unknown method 'toy-zrc'", "did you mean 'toy-zcr'"]),
    "dataset-option-unused": (["--dataset-option", "timit.root=/data/TIMIT"],
                              ["--dataset-option timit.root", "not used by this run"]),
    "dataset-option-unknown-dataset": (["--dataset-option", "timt.root=/x"],
                                       ["unknown dataset 'timt'", "did you mean 'timit'"]),
    "dataset-option-unknown-key": (["--dataset-option", "toy-segments.rot=/x"],
                                   ["--dataset-option toy-segments.rot", "unknown option"]),
}


@pytest.mark.parametrize("name", sorted(OPTION_CASES))
def test_bad_option_value(name, toy_runs):
    args, needles = OPTION_CASES[name]
    before = snapshot(toy_runs)
    res = cli([*RUN, "--runs-dir", toy_runs, *args])
    expect(res, 2, *needles)
    assert snapshot(toy_runs) == before
    assert not list(toy_runs.glob("records/**/*limit*"))
