"""The talking-face task runner, its contract checks and the sample-frame strips."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bench.cli import main
from bench.execution.records import read_record
from bench.execution.runner import Unit, run_unit


def _unit(tmp_path, method):
    return Unit(task="talking-face", method=method, dataset="toy-clips", split="test",
                metrics=("toy-mae",), runs_dir=str(tmp_path), bootstrap=50)


def test_frames_are_stored_and_scored(tmp_path, toy_registries):
    rec = read_record(Path(run_unit(_unit(tmp_path, "toy-loop"))))
    assert rec["metrics"]["toy-mae"]["value"] == 0.0  # looping the identity frames = target
    assert rec["metrics"]["toy-mae"]["n_scored"] == 4
    assert list((tmp_path / "cache/artifacts").glob("*/*.npz"))


def test_wrong_frame_count_is_a_contract_failure(tmp_path, toy_registries):
    rec = read_record(Path(run_unit(_unit(tmp_path, "toy-short"))))
    assert rec["coverage"]["n_failed"] == 4
    msg = rec["coverage"]["failures"][0]["message"]
    assert "shape (24, 32, 32, 3), expected (25, 32, 32, 3)" in msg
    assert "25 frames for 16000 audio samples" in msg


def test_leaderboard_gets_a_sample_strip_and_a_mouth_figure(tmp_path, toy_registries):
    runs, boards = tmp_path / "runs", tmp_path / "boards"
    res = CliRunner().invoke(main, ["run", "--task", "talking-face", "--dataset", "toy-clips",
                                    "--metric", "toy-mae", "--runs-dir", str(runs),
                                    "--leaderboards-dir", str(boards), "--bootstrap", "20"])
    assert res.exit_code == 1, res.output  # toy-short fails on purpose: some units failed
    strip = boards / "talking-face-test-samples.png"
    assert strip.exists() and strip.stat().st_size > 2000
    assert "talking-face-test-samples.png" in (boards / "talking-face.md").read_text()
    assert 'src="talking-face-test-samples.png"' in (boards / "talking-face.html").read_text()
    # the mouth-opening figure beside the sample strip, which keeps its place
    fig = boards / "talking-face-test-mouth.png"
    assert fig.exists() and fig.stat().st_size > 2000
    md = (boards / "talking-face.md").read_text()
    assert md.index("talking-face-test-samples.png") < md.index("talking-face-test-mouth.png")
    assert 'src="talking-face-test-mouth.png"' in (boards / "talking-face.html").read_text()
    plot = boards / "talking-face-test-intervals.png"
    assert plot.exists() and 'src="talking-face-test-intervals.png"' in \
        (boards / "talking-face.html").read_text()


def test_validate_plugin_on_talking_face_methods(toy_registries):
    res = CliRunner().invoke(main, ["validate-plugin", "toy-loop"])
    assert res.exit_code == 0 and res.output.count("PASS") == 6, res.output
    res = CliRunner().invoke(main, ["validate-plugin", "toy-short"])
    assert res.exit_code == 1
    assert "FAIL  output contract, 1 s audio: shape (24, 128, 128, 3), want (25, 128, 128, 3)" \
        in res.output


def test_ground_truth_metric_is_not_applicable_under_crossdub(tmp_path, toy_registries,
                                                            monkeypatch):
    import toy_plugin

    from bench.interfaces import NotApplicable

    def per_sample(self, clip, prediction):
        raise NotApplicable(f"clip {clip.id!r}: no ground truth under cross-dub")

    monkeypatch.setattr(toy_plugin.MeanAbsError, "per_sample", per_sample)
    rec = read_record(Path(run_unit(_unit(tmp_path, "toy-loop"))))
    m = rec["metrics"]["toy-mae"]
    assert m["status"] == "n/a" and m["n_failed"] == 0
    assert m["message"] == "no ground truth under cross-dub"


def test_method_with_nothing_to_say_is_not_a_failure(tmp_path, toy_registries, monkeypatch):
    import toy_plugin

    from bench.interfaces import NotApplicable

    def generate(self, clip):
        raise NotApplicable(f"clip {clip.id!r}: no ground-truth frames (cross-dub has none)")

    monkeypatch.setattr(toy_plugin.LoopFrames, "generate", generate)
    rec = read_record(Path(run_unit(_unit(tmp_path, "toy-loop"))))
    assert rec["coverage"]["n_failed"] == 0 and rec["coverage"]["n_ok"] == 0
    m = rec["metrics"]["toy-mae"]
    assert m["status"] == "n/a" and m["message"] == "no ground-truth frames (cross-dub has none)"
