"""The committed baseline: export round-trip, checksums, user rows beside committed rows,
compare against committed runs, and check reading the baseline."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest
from click.testing import CliRunner

from bench.reporting import baseline
from bench.cli import main
from bench.reporting.compare import format_p
from bench.hashing import sha256_file
from bench.execution.records import find_records, read_record
from bench.reporting.significance import load_sample_scores


def _invoke(args):
    return CliRunner().invoke(main, args)


def _run_toy(runs, *methods):
    args = ["run", "--task", "consonant-voicing", "--dataset", "toy-segments", "--runs-dir",
            str(runs), "--bootstrap", "30", "--no-leaderboard"]
    for m in methods:
        args += ["--method", m]
    res = _invoke(args)
    assert res.exit_code == 0, res.output


@pytest.fixture
def committed(tmp_path, toy_registries, monkeypatch):
    """A baseline exported from a maintainer run of toy-zcr and toy-flaky."""
    ref_runs, out = tmp_path / "runs-ref", tmp_path / "baseline"
    _run_toy(ref_runs, "toy-zcr", "toy-flaky")
    baseline.export(ref_runs, out, source="test")
    monkeypatch.setenv("BENCH_BASELINE_DIR", str(out))
    return ref_runs, out


def test_export_round_trips_records_and_scores(committed):
    ref_runs, out = committed
    runs = {r.key[3]: r for r in baseline.load(out)}
    assert set(runs) == {"toy-zcr", "toy-flaky"}
    for path in find_records(ref_runs):
        rec = read_record(path)
        got = runs[rec["method"]["name"]]
        assert got.record == rec
        assert got.samples == load_sample_scores(path) and len(got.samples) == 30
    manifest = baseline.read_manifest(out)
    entry = manifest["files"]["consonant-voicing.jsonl.gz"]
    assert entry["sha256"] == sha256_file(out / "consonant-voicing.jsonl.gz")
    assert entry["records"] == 2 and entry["bytes"] < 20_000
    before = entry["sha256"]
    baseline.export(ref_runs, out)  # same records, same bytes: diffs show only real changes
    assert baseline.read_manifest(out)["files"]["consonant-voicing.jsonl.gz"]["sha256"] == before


def test_a_modified_baseline_is_refused(committed, tmp_path, monkeypatch):
    _, out = committed
    monkeypatch.chdir(tmp_path)
    data = out / "consonant-voicing.jsonl.gz"
    lines = gzip.decompress(data.read_bytes()).decode().splitlines()
    body = json.loads(lines[0])
    body["record"]["metrics"]["accuracy"]["value"] = 0.99  # a hand-edited number
    lines[0] = json.dumps(body)
    data.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    baseline._cache.clear()
    with pytest.raises(baseline.BaselineError, match="does not match the manifest"):
        baseline.load(out)
    manifest = json.loads((out / "manifest.json").read_text())  # even with the manifest redone
    manifest["files"]["consonant-voicing.jsonl.gz"]["sha256"] = sha256_file(data)
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(baseline.BaselineError, match="line 1: the record's checksum"):
        baseline.load(out)
    res = _invoke(["leaderboard"])  # the default runs dir, empty: committed rows only
    assert res.exit_code == 2 and "checksum" in res.output


def test_user_rows_appear_beside_committed_rows_without_rewriting_them(committed, tmp_path,
                                                                     monkeypatch):
    """Step 4 of docs/adding-a-method.md, run with the defaults, in a fresh clone."""
    monkeypatch.chdir(tmp_path)
    published = tmp_path / "leaderboards"
    published.mkdir()
    (published / "consonant-voicing.md").write_text("committed table\n")
    res = _invoke(["run", "--task", "consonant-voicing", "--dataset", "toy-segments",
                   "--method", "toy-coin", "--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    assert (published / "consonant-voicing.md").read_text() == "committed table\n"
    md = (tmp_path / "runs" / "leaderboards" / "consonant-voicing.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| toy-")]
    assert len(rows) == 3
    assert any(r.startswith("| toy-coin **(your run)**") for r in rows)
    assert any(r.startswith("| toy-zcr |") for r in rows)  # committed, not re-run
    assert "toy-coin **(your run)**" in res.output  # printed too
    csv_rows = (tmp_path / "runs" / "leaderboards" / "consonant-voicing.csv").read_text()
    assert ",run\n" in csv_rows and ",committed\n" in csv_rows
    # the reproduce command of a row does not rewrite the committed tables either
    reproduce = [r for r in rows if r.startswith("| toy-zcr")][0].rsplit("`", 2)[1]
    res = _invoke(reproduce.split()[1:] + ["--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    assert (published / "consonant-voicing.md").read_text() == "committed table\n"


def test_runs_dir_setting_is_read_by_every_command(committed, tmp_path, monkeypatch):
    mine = tmp_path / "my-runs"
    monkeypatch.setenv("BENCH_RUNS_DIR", str(mine))
    monkeypatch.chdir(tmp_path)
    res = _invoke(["run", "--task", "consonant-voicing", "--dataset", "toy-segments",
                   "--method", "toy-coin", "--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    assert (mine / "records" / "consonant-voicing" / "toy-segments" / "test" / "toy-coin.json").exists()
    assert (mine / "leaderboards" / "consonant-voicing.md").exists()
    assert _invoke(["show", "consonant-voicing/toy-segments/test/toy-coin"]).exit_code == 0
    assert _invoke(["leaderboard"]).exit_code == 0
    assert _invoke(["compare", "toy-zcr", "toy-coin"]).exit_code == 1  # found in mine
    res = _invoke(["show", "consonant-voicing/toy-segments/test/toy-nan"])
    assert res.exit_code == 2 and "BENCH_RUNS_DIR" in res.output  # the error says where it looked


def test_compare_by_method_names_against_committed_runs(committed, tmp_path):
    runs = tmp_path / "mine"
    _run_toy(runs, "toy-coin", "toy-zcr")
    res = _invoke(["compare", "toy-zcr", "toy-coin", "--runs-dir", str(runs)])
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    header = next(line for line in lines if line.strip().startswith("metric"))
    assert "toy-zcr" in header and "toy-coin" in header and "paired n" in header
    assert " A " not in header and " B " not in header
    acc = next(line for line in lines if line.strip().startswith("accuracy "))
    assert " 30 " in acc and "< 1e-4" in acc and acc.rstrip().endswith("worse")
    # the committed run against the user's re-run of the same method
    res = _invoke(["compare", "committed:toy-zcr", "toy-zcr", "--runs-dir", str(runs)])
    assert res.exit_code == 0, res.output
    assert "toy-zcr [committed]" in res.output and "toy-zcr [your run]" in res.output
    assert "same" in res.output
    # run ids and record files work the same way
    rec = runs / "records" / "consonant-voicing" / "toy-segments" / "test" / "toy-coin.json"
    res = _invoke(["compare", "consonant-voicing/toy-segments/test/toy-zcr", str(rec),
                   "--runs-dir", str(runs)])
    assert res.exit_code == 1 and "record file" in res.output


def test_compare_fails_in_one_line_without_per_sample_scores(committed, tmp_path):
    runs = tmp_path / "mine"
    _run_toy(runs, "toy-coin")
    rec = runs / "records" / "consonant-voicing" / "toy-segments" / "test" / "toy-coin.json"
    rec.with_suffix(".samples.jsonl").unlink()
    res = _invoke(["compare", "committed:toy-zcr", str(rec)])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "no per-sample scores" in res.output
    res = _invoke(["compare", "toy-zcr", "toy-nope", "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "unknown method 'toy-nope'" in res.output


def test_small_p_values_are_printed_as_bounds():
    assert format_p(0.0) == "< 1e-4" and format_p(3e-17) == "< 1e-4"
    assert format_p(0.0312) == "0.0312" and format_p(None) == "-"


def test_check_reads_the_baseline_and_names_what_it_cannot_check(committed, tmp_path,
                                                                   toy_registries, monkeypatch):
    spec = toy_registries.methods.get("toy-zcr")
    monkeypatch.setitem(toy_registries.methods._items, "toy-zcr",
                        dataclasses.replace(spec, reference=True))
    runs = tmp_path / "fresh"
    res = _invoke(["check", "--runs-dir", str(runs)])
    assert res.exit_code == 0, res.output
    assert "[holds] toy-zcr" in res.output and "30 of 30 scored" in res.output
    res = _invoke(["check", "--method", "toy-coin", "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "'toy-coin' is not a reference method" in res.output
    res = _invoke(["check", "--method", "toy-zrc", "--runs-dir", str(runs)])
    assert res.exit_code == 2 and "unknown method 'toy-zrc' (did you mean 'toy-zcr'?)" in res.output


def test_publish_writes_the_baseline_and_the_committed_tables(tmp_path, toy_registries,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BENCH_BASELINE_DIR", str(tmp_path / "baseline"))
    runs = tmp_path / "runs-ref"
    _run_toy(runs, "toy-zcr")
    res = _invoke(["leaderboard", "--runs-dir", str(runs), "--publish"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "baseline" / "manifest.json").exists()
    md = (tmp_path / "leaderboards" / "consonant-voicing.md").read_text()
    assert "| toy-zcr |" in md and "your run" not in md


def test_the_documented_before_and_after_workflow(tmp_path, toy_registries, monkeypatch):
    """docs/adding-a-method.md step 5: copy the records, run again, compare file vs name."""
    import shutil

    monkeypatch.chdir(tmp_path)
    _run_toy("runs", "toy-zcr")
    shutil.copytree("runs/records", "before")
    _run_toy("runs", "toy-zcr")
    res = _invoke(["compare", "before/consonant-voicing/toy-segments/test/toy-zcr.json", "toy-zcr"])
    assert res.exit_code == 0, res.output
    assert "toy-zcr [before]" in res.output and "toy-zcr [your run]" in res.output
    assert "same" in res.output and "worse" not in res.output


def test_the_shipped_baseline_verifies_and_stays_small():
    """baseline/ as committed: every file matches its manifest checksum, every record its own,
    and per-sample scores ship for every scored run (compare and significance need them)."""
    shipped = baseline.DEFAULT_DIR
    manifest = baseline.read_manifest(shipped)
    assert manifest is not None, "baseline/manifest.json is missing"
    total = sum(f["bytes"] for f in manifest["files"].values())
    assert total < 5_000_000
    runs = baseline.load(shipped)
    assert len(runs) == sum(f["records"] for f in manifest["files"].values())
    assert len({r.key for r in runs}) == len(runs)
    for run in runs:
        scored = [m for m in run.record["metrics"].values() if m.get("value") is not None]
        if scored:
            assert len(run.samples) == run.record["dataset"]["n_samples"], run.key
    assert any(r.key[3] == "topcap-svm" and r.record["method"]["reference"] for r in runs)
