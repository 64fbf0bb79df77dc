"""File digests remembered across processes: reused only while the file's stat stamp holds."""

from __future__ import annotations

import hashlib
import time

import pytest

from bench import hashing


@pytest.fixture
def memo(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(hashing, "_file_hashes", {})
    monkeypatch.setattr(hashing, "_known_hashes", {})
    return tmp_path / "cache" / "file-sha256.jsonl"


def _fresh_process(monkeypatch):
    """What a new process sees: nothing in memory, the memo file on disk."""
    monkeypatch.setattr(hashing, "_file_hashes", {})
    monkeypatch.setattr(hashing, "_known_hashes", {})


def test_a_digest_is_reused_across_processes_until_the_file_changes(memo, tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "RACY_S", 0.0)
    path = tmp_path / "big.bin"
    path.write_bytes(b"a" * hashing.PERSIST_MIN_BYTES)
    first = hashing.sha256_file(path)
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    assert memo.exists()

    _fresh_process(monkeypatch)
    reads = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        if str(file) == str(path):
            reads.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    assert hashing.sha256_file(path) == first and not reads  # from the memo, file not read

    time.sleep(0.05)  # past the file system's timestamp tick
    path.write_bytes(b"b" * hashing.PERSIST_MIN_BYTES)  # same size, new content
    _fresh_process(monkeypatch)
    assert hashing.sha256_file(path) == hashlib.sha256(b"b" * hashing.PERSIST_MIN_BYTES).hexdigest()
    assert reads


def test_a_file_written_just_now_is_not_remembered(memo, tmp_path):
    path = tmp_path / "new.bin"
    path.write_bytes(b"c" * hashing.PERSIST_MIN_BYTES)
    hashing.sha256_file(path)  # within RACY_S of the write: a same-tick change could hide
    assert not memo.exists() or str(path.resolve()) not in memo.read_text()


def test_small_files_and_a_disabled_memo_are_not_remembered(memo, tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "RACY_S", 0.0)
    small = tmp_path / "small.bin"
    small.write_bytes(b"d" * 10)
    hashing.sha256_file(small)
    monkeypatch.setenv("BENCH_HASH_MEMO", "0")
    big = tmp_path / "big.bin"
    big.write_bytes(b"e" * hashing.PERSIST_MIN_BYTES)
    hashing.sha256_file(big)
    assert not memo.exists()


def test_a_damaged_memo_line_is_ignored(memo, tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "RACY_S", 0.0)
    memo.parent.mkdir(parents=True)
    memo.write_text('["torn\n')
    path = tmp_path / "big.bin"
    path.write_bytes(b"f" * hashing.PERSIST_MIN_BYTES)
    assert hashing.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    _fresh_process(monkeypatch)
    assert hashing._known().get(hashing._stamp(str(path.resolve()), path.stat()))
