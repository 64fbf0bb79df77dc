"""The persistent per-sample feature cache shared across methods and runs."""

from __future__ import annotations

import json

from bench.feature_cache import JsonDiskCache


def _cache(tmp_path):
    return JsonDiskCache("demo", encode=list, decode=tuple, root=tmp_path)


def test_values_persist_across_instances(tmp_path):
    _cache(tmp_path)["v2:abc"] = (0.25, 0.5)
    again = _cache(tmp_path)
    assert "v2:abc" in again and again["v2:abc"] == (0.25, 0.5)
    assert "v2:other" not in again


def test_a_tampered_entry_is_treated_as_missing(tmp_path):
    _cache(tmp_path)["v2:abc"] = (0.25, 0.5)
    (path,) = list((tmp_path / "demo").glob("*/*.json"))
    body = json.loads(path.read_text())
    body["value"] = [9.0, 9.0]
    path.write_text(json.dumps(body))
    assert "v2:abc" not in _cache(tmp_path)
    path.write_text("{torn")
    assert "v2:abc" not in _cache(tmp_path)
