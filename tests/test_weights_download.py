"""Weights download themselves on first use, from a loopback HTTP server this test starts.

The server serves generated files in the official formats (torch state dicts saved by
``torch.save``, named torch-hub style with their sha256 prefix), a file whose bytes do not match
the registered checksum, and a download that stops half way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from click.testing import CliRunner

from bench.cli import main
from bench.errors import Unavailable
from bench.specs import WeightsSpec
from bench.weights import catalog, registry


def _state_bytes(seed: int = 0) -> bytes:
    torch.manual_seed(seed)
    buf = io.BytesIO()
    torch.save({"a.weight": torch.randn(4, 3), "a.bias": torch.zeros(4)}, buf)
    return buf.getvalue()


class _Server:
    """Serves ``files`` (path -> bytes); paths in ``cut`` announce the full length but send half."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in outer.cut:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    s = _Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def online(tmp_path, monkeypatch):
    """Downloads on, into a private torch hub directory; no failure remembered from before."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("BENCH_OFFLINE", raising=False)
    monkeypatch.setattr(registry, "_DOWNLOAD_FAILED", {})
    return tmp_path / "torch_home" / "hub" / "checkpoints"


def _hub_spec(server: _Server, name: str, body: bytes, serve: bytes | None = None,
              cut: bool = False) -> WeightsSpec:
    """A spec named torch-hub style (``name-<sha256 prefix>.pth``) served by ``server``."""
    digest = hashlib.sha256(body).hexdigest()
    filename = f"{name}-{digest[:8]}.pth"
    server.files[f"/{filename}"] = body if serve is None else serve
    if cut:
        server.cut.add(f"/{filename}")
    return WeightsSpec(name=name, url=server.url(f"/{filename}"), sha256=digest, size=None,
                       filename=filename)


def _no_leftovers(hub) -> list[str]:
    return sorted(p.name for p in hub.glob("*")) if hub.exists() else []


def test_first_use_downloads_checks_and_caches_in_the_torch_hub(server, online):
    body = _state_bytes()
    spec = _hub_spec(server, "tiny", body)
    path = registry.verify(spec)
    assert path == online / spec.filename and path.read_bytes() == body
    assert set(registry.load_state_dict(spec)) == {"a.weight", "a.bias"}
    registry.verify(spec)
    assert server.hits[f"/{spec.filename}"] == 1  # the second use reads the cache
    assert _no_leftovers(online) == [spec.filename]  # no temporary file left beside it
    assert torch.hub.get_dir() == str(online.parent)  # where pytorch-fid and lpips look


def test_offline_never_downloads(server, online, monkeypatch):
    spec = _hub_spec(server, "tiny", _state_bytes())
    monkeypatch.setenv("BENCH_OFFLINE", "1")
    with pytest.raises(registry.WeightsUnavailable, match="downloads are off"):
        registry.verify(spec)
    assert server.hits == {} and _no_leftovers(online) == []


def test_offline_flag_of_the_command_line(server, online, monkeypatch):
    spec = _hub_spec(server, "tiny", _state_bytes())
    res = CliRunner().invoke(main, ["--offline", "weights", "list"])
    assert res.exit_code == 0
    with pytest.raises(registry.WeightsUnavailable, match="BENCH_OFFLINE"):
        registry.verify(spec)
    monkeypatch.delenv("BENCH_OFFLINE")


def test_wrong_checksum_is_refused_and_nothing_installed(server, online):
    spec = _hub_spec(server, "tiny", _state_bytes(0), serve=_state_bytes(1))
    with pytest.raises(registry.WeightsIntegrityError, match="automatic download failed.*sha256"):
        registry.verify(spec)
    assert _no_leftovers(online) == []
    with pytest.raises(registry.WeightsUnavailable, match="automatic download failed"):
        registry.verify(spec)  # remembered: one attempt per run, not one per sample
    assert server.hits[f"/{spec.filename}"] == 1


def test_interrupted_download_is_refused_and_nothing_installed(server, online):
    spec = _hub_spec(server, "tiny", _state_bytes(), cut=True)
    with pytest.raises(registry.WeightsUnavailable, match="truncated"):
        registry.verify(spec)
    assert _no_leftovers(online) == []


def test_unreachable_server_reports_the_reason(server, online):
    spec = dataclasses.replace(_hub_spec(server, "tiny", _state_bytes()),
                               url=server.url("/missing.pth"))
    with pytest.raises(registry.WeightsUnavailable, match="could not download tiny.*404"):
        registry.verify(spec)


def test_a_file_without_a_checksum_is_not_downloaded_unasked(server, online):
    server.files["/syncnet_v2.model"] = _state_bytes()
    spec = WeightsSpec(name="nochk", url=server.url("/syncnet_v2.model"), sha256=None, size=None,
                       filename="syncnet_v2.model")
    with pytest.raises(registry.WeightsUnavailable, match="no checksum is registered"):
        registry.verify(spec)
    assert server.hits == {}


def test_verify_command_never_installs(server, online):
    from bench.weights import commands

    spec = _hub_spec(server, "tiny", _state_bytes())
    (row,) = commands.verify_command({"tiny": spec}, ["tiny"])
    assert not row["ok"] and server.hits == {}


def test_a_metric_whose_download_fails_is_unavailable_not_random(server, online, monkeypatch):
    """FID on first use with a corrupt download: unavailable, with the reason, no model built."""
    from bench.metrics.inception import FidFeatureExtractor

    fake = _hub_spec(server, "fid-inception", _state_bytes(0), serve=_state_bytes(1))
    spec = dataclasses.replace(catalog.FID_INCEPTION, url=fake.url, filename=fake.filename,
                               sha256=fake.sha256)
    with pytest.raises(Unavailable, match="automatic download failed.*sha256"):
        FidFeatureExtractor.from_registry(spec)
