"""Catalogue: talking-face corpora with unusable videos; every one is counted and named."""

from __future__ import annotations

import json
import logging

import pytest
from catalogue import cli, expect

BAD_VIDEOS = {
    "zero-byte": b"",
    "random-bytes": bytes(range(256)) * 16,
    "text": b"this is a text file renamed to mp4\n",
    "truncated-header": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
}


def _run(tmp_path, dataset, root, *extra):
    return cli(["run", "--task", "talking-face", "--dataset", dataset, "--method", "toy-loop",
                "--metric", "toy-mae", "--dataset-option", f"{dataset}.root={root}",
                "--dataset-option", f"{dataset}.cache_dir={tmp_path / 'cache'}",
                "--runs-dir", tmp_path / "runs", "--no-leaderboard", *extra])


@pytest.mark.parametrize("kind", sorted(BAD_VIDEOS))
def test_unusable_video_is_counted_and_named(kind, tmp_path, toy_registries, caplog):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(BAD_VIDEOS[kind])
    (folder / "b.mp4").write_bytes(BAD_VIDEOS[kind])
    with caplog.at_level(logging.WARNING):
        res = _run(tmp_path, "video-folder", folder)
    expect(res, 3, "could not be evaluated")
    rec = json.loads(next((tmp_path / "runs/records").rglob("toy-loop.json")).read_text())
    cov = rec["coverage"]
    assert cov["n_total"] == 2 and cov["n_ok"] == 0
    assert {f["id"] for f in cov["failures"]} == {"a", "b"}
    assert all("a.mp4" in f["message"] or "b.mp4" in f["message"] for f in cov["failures"])
    lines = [r.getMessage() for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(lines) == 1 and "2 sample(s) could not be loaded" in lines[0]


def test_strict_stops_at_the_first_unloadable_video(tmp_path, toy_registries):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"")
    res = _run(tmp_path, "video-folder", folder, "--strict")
    expect(res, 2, "--strict", "a.mp4")
    assert not (tmp_path / "runs/records").exists()


def test_empty_video_folder_is_an_error(tmp_path, toy_registries):
    folder = tmp_path / "videos"
    folder.mkdir()
    expect(_run(tmp_path, "video-folder", folder), 2, "no .mp4 files", str(folder))


def test_lrs2_filelist_naming_a_missing_video(tmp_path, toy_registries):
    root = tmp_path / "lrs2"
    (root / "main").mkdir(parents=True)
    (root / "test.txt").write_text("spk1/00001\n")
    res = _run(tmp_path, "lrs2", root)
    expect(res, 3)
    rec = json.loads(next((tmp_path / "runs/records").rglob("toy-loop.json")).read_text())
    assert "file not found (listed as 'spk1/00001')" in rec["coverage"]["failures"][0]["message"]


def test_video_root_that_does_not_exist(tmp_path, toy_registries):
    expect(_run(tmp_path, "video-folder", tmp_path / "nope"), 2, "nope", "not a directory")
