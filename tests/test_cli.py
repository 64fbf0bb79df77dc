"""The command line: listing, errors as one line, config files."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bench.cli import main
from bench.execution.config import load_config


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_list_and_plugins(toy_registries):
    res = _run(["list", "methods"])
    assert res.exit_code == 0 and "toy-zcr" in res.output
    res = _run(["plugins"])
    assert "core [ok]" in res.output and "toy [ok]" in res.output


def test_unknown_method_is_one_line_with_suggestion(toy_registries, tmp_path):
    res = CliRunner().invoke(main, ["run", "--method", "toy-zrc", "--runs-dir", str(tmp_path)])
    assert res.exit_code == 2
    assert "error: unknown method 'toy-zrc' (did you mean 'toy-zcr'?)" in res.output
    assert "Traceback" not in res.output


def test_config_file_typo_is_an_error(tmp_path, toy_registries):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[run]\nsed = 3\n')
    res = CliRunner().invoke(main, ["run", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "unknown key 'sed' in [run] (did you mean 'seed'?)" in res.output
    assert str(cfg) in res.output


def test_config_file_and_overrides(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[run]\nseed = 3\nmethods = ["a"]\n[methods.a]\nC = 2.0\n')
    loaded = load_config(cfg, {"seed": 5, "splits": ("val",)})
    assert loaded.seed == 5 and loaded.methods == ["a"] and loaded.splits == ["val"]
    assert loaded.method_config == {"a": {"C": 2.0}}


def test_leaderboards_follow_a_side_runs_dir(tmp_path, monkeypatch):
    assert load_config().leaderboards_dir == "runs/leaderboards"  # never the committed tables
    monkeypatch.setenv("BENCH_RUNS_DIR", "/x/mine")
    assert load_config().runs_dir == "/x/mine"
    assert load_config().leaderboards_dir == "/x/mine/leaderboards"
    monkeypatch.delenv("BENCH_RUNS_DIR")
    assert load_config(None, {"runs_dir": "/x/side"}).leaderboards_dir == "/x/side/leaderboards"
    kept = load_config(None, {"runs_dir": "/x/side", "leaderboards_dir": "boards"})
    assert kept.leaderboards_dir == "boards"
    cfg = tmp_path / "run.toml"
    cfg.write_text('[run]\nruns_dir = "elsewhere"\n')
    assert load_config(cfg).leaderboards_dir == "elsewhere/leaderboards"


def test_side_run_does_not_overwrite_the_committed_leaderboards(tmp_path, toy_registries, monkeypatch):
    monkeypatch.chdir(tmp_path)
    committed = tmp_path / "leaderboards"
    committed.mkdir()
    (committed / "consonant-voicing.md").write_text("committed table\n")
    side = tmp_path / "side-runs"
    res = _run(["run", "--task", "consonant-voicing", "--dataset", "toy-segments",
                "--method", "toy-zcr", "--runs-dir", str(side), "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    assert (committed / "consonant-voicing.md").read_text() == "committed table\n"
    assert "toy-zcr" in (side / "leaderboards" / "consonant-voicing.md").read_text()
    res = _run(["leaderboard", "--runs-dir", str(side)])
    assert res.exit_code == 0, res.output
    assert (committed / "consonant-voicing.md").read_text() == "committed table\n"


def test_run_show_and_leaderboard_end_to_end(tmp_path, toy_registries):
    runs, boards = tmp_path / "runs", tmp_path / "boards"
    res = _run(["run", "--task", "consonant-voicing", "--dataset", "toy-segments",
                "--method", "toy-zcr", "--method", "toy-flaky", "--runs-dir", str(runs),
                "--leaderboards-dir", str(boards), "--bootstrap", "50",
                "--method-config", "toy-zcr.threshold=0.3"])
    assert res.exit_code == 0, res.output
    assert (boards / "consonant-voicing.md").exists()
    assert (boards / "consonant-voicing.html").exists()
    assert "--method-config toy-zcr.threshold=0.3" in (boards / "consonant-voicing.md").read_text()
    res = _run(["show", "consonant-voicing/toy-segments/test/toy-flaky", "--runs-dir", str(runs)])
    assert "predictions: 29 of 30 ok" in res.output and "reproduce: bench run" in res.output
    # a table, not Python reprs: a header row, one row per metric, timings in seconds
    lines = res.output.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["metric", "value"])
    assert "95% CI" in header and "scored" in header
    assert any(line.split()[:1] == ["accuracy"] and "29 of 30" in line for line in lines)
    assert "{" not in res.output and "time: load " in res.output
    res = _run(["show", "consonant-voicing/toy-segments/test/toy-flaky", "--runs-dir", str(runs),
                "--json"])
    assert json.loads(res.output)["coverage"]["n_ok"] == 29


def test_list_lines_fit_100_columns(toy_registries):
    res = _run(["list"])
    assert res.exit_code == 0
    assert max(len(line) for line in res.output.splitlines()) <= 100
    assert "consonants-synthetic" in res.output and "topcap-svm" in res.output


def test_progress_lines_for_loading_and_fitting(tmp_path, toy_registries, monkeypatch):
    monkeypatch.delenv("BENCH_QUIET")
    res = _run(["run", "--task", "consonant-voicing", "--dataset", "toy-segments",
                "--method", "toy-zcr", "--runs-dir", str(tmp_path), "--no-leaderboard",
                "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    assert "load toy-segments/test: done in" in res.output
    assert "prepare toy-zcr for test" in res.output and "fit on 40 train segments: done in" in res.output


def test_dataset_options_from_file_reach_the_loader(tmp_path, toy_registries):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[datasets.timit]\nroot = "/nonexistent/TIMIT"\n')
    loaded = load_config(cfg)
    assert loaded.dataset_options == {"timit": {"root": "/nonexistent/TIMIT"}}
    res = CliRunner().invoke(main, ["run", "--task", "consonant-voicing", "--dataset", "timit",
                                    "--method", "toy-zcr", "--runs-dir", str(tmp_path),
                                    "--dataset-option", "timit.root=/nonexistent/TIMIT"])
    assert res.exit_code == 2
    assert "/nonexistent/TIMIT" in res.output and "Traceback" not in res.output


def test_train_dispatches_to_the_registered_trainer(toy_registries, monkeypatch):
    import dataclasses

    got = []
    spec = toy_registries.methods.get("toy-zcr")
    monkeypatch.setitem(toy_registries.methods._items, "toy-zcr",
                        dataclasses.replace(spec, trainer=got.append))
    res = CliRunner().invoke(main, ["train", "toy-zcr", "--", "--steps", "3"])
    assert res.exit_code == 0, res.output
    assert got == [["--steps", "3"]]
    res = CliRunner().invoke(main, ["train", "toy-flaky"])
    assert res.exit_code == 2 and "has no trainer" in res.output
