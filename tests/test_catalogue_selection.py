"""Catalogue: bad selections (names, task mismatches, directories) are refused before any work."""

from __future__ import annotations

import os

import pytest
from catalogue import TOY, cli, expect, snapshot

CASES = {
    "unknown-task": (["--task", "consonant-voicng", "--method", "toy-zcr"],
                     ["unknown task 'consonant-voicng'", "did you mean 'consonant-voicing'"]),
    "unknown-method": ([*TOY, "--method", "toy-zrc"], ["unknown method 'toy-zrc'", "'toy-zcr'"]),
    "unknown-dataset": (["--task", "consonant-voicing", "--dataset", "toy-segmnts",
                         "--method", "toy-zcr"], ["unknown dataset 'toy-segmnts'"]),
    "unknown-metric": ([*TOY, "--method", "toy-zcr", "--metric", "acuracy"],
                       ["unknown metric 'acuracy'", "did you mean 'accuracy'"]),
    "unknown-split": ([*TOY, "--method", "toy-zcr", "--split", "tset"],
                      ["no split 'tset'", "splits: train, test"]),
    "metric-of-other-task": ([*TOY, "--method", "toy-zcr", "--metric", "toy-mae"],
                             ["--metric toy-mae", "task 'talking-face'", "consonant-voicing"]),
    "ssim-on-consonants": ([*TOY, "--method", "toy-zcr", "--metric", "ssim"],
                           ["--metric ssim", "task 'talking-face'"]),
    "method-of-other-task": (["--task", "consonant-voicing", "--dataset", "toy-segments",
                              "--method", "toy-loop"], ["nothing to run"]),
    "dataset-of-other-task": (["--task", "consonant-voicing", "--dataset", "toy-clips",
                               "--method", "toy-zcr"], ["toy-clips", "talking-face"]),
    "publish-smoke-run": ([*TOY, "--method", "toy-zcr", "--limit", "5", "--publish"],
                          ["--publish with --limit"]),
    "dataset-option-unused": ([*TOY, "--method", "toy-zcr", "--dataset-option",
                               "timit.root=/data/TIMIT"], ["timit", "not used by this run"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_selection(name, toy_runs):
    args, needles = CASES[name]
    before = snapshot(toy_runs)
    res = cli(["run", *args, "--runs-dir", toy_runs])
    expect(res, 2, *needles)
    assert snapshot(toy_runs) == before


def test_runs_dir_that_is_a_file_fails_before_fitting(toy_registries, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("BENCH_TOY_CALL_LOG", str(calls))
    target = tmp_path / "file"
    target.write_text("not a directory\n")
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", target])
    expect(res, 2, str(target), "is a file, not a directory")
    assert not calls.exists() and target.read_text() == "not a directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_runs_dir_fails_before_fitting(toy_registries, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("BENCH_TOY_CALL_LOG", str(calls))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", ro / "runs"])
    expect(res, 2, "not writable")
    assert not calls.exists()


def test_leaderboards_dir_that_is_a_file(toy_runs, tmp_path):
    target = tmp_path / "boards"
    target.write_text("x")
    before = snapshot(toy_runs)
    res = cli(["run", *TOY, "--method", "toy-zcr", "--runs-dir", toy_runs,
               "--leaderboards-dir", target])
    expect(res, 2, str(target), "is a file")
    assert snapshot(toy_runs) == before


def test_leaderboard_with_a_mistyped_runs_dir(toy_runs, tmp_path):
    res = cli(["leaderboard", "--runs-dir", tmp_path / "rnus"])
    expect(res, 2, "--runs-dir", "rnus", "no such directory")
    assert not (tmp_path / "rnus").exists()


def test_leaderboard_of_a_dir_without_records(toy_runs, tmp_path):
    (tmp_path / "empty").mkdir()
    res = cli(["leaderboard", "--runs-dir", tmp_path / "empty"])
    expect(res, 2, "no run records")
    assert not (tmp_path / "empty" / "leaderboards").exists()


OTHER = {
    "show-missing": (["show", "consonant-voicing/toy-segments/test/toy-nope"], ["no run record"]),
    "compare-missing": (["compare", "a/b/c/d", "a/b/c/e"], ["no run record"]),
    "list-unknown-kind": (["list", "metods"], ["metods"]),
    "train-unknown": (["train", "toy-zrc"], ["unknown trainable model 'toy-zrc'"]),
    "weights-fetch-unknown": (["weights", "fetch", "syncnet-v3"], ["unknown weights 'syncnet-v3'"]),
    "validate-unknown": (["validate-plugin", "toy-zrc"], ["unknown method 'toy-zrc'"]),
}


@pytest.mark.parametrize("name", sorted(OTHER))
def test_bad_names_in_other_commands(name, toy_runs):
    args, needles = OTHER[name]
    before = snapshot(toy_runs)
    res = cli(args)
    expect(res, 2, *needles)
    assert snapshot(toy_runs) == before
