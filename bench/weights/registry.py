"""Pretrained-weights files: where they live, whether they are intact, how to get and load them.

Every function takes a :class:`bench.specs.WeightsSpec`. Downloaded files go to the torch hub
cache (``torch.hub.get_dir()/checkpoints/<filename>``), the place pytorch-fid, lpips and
torchvision look, so the upstream packages find the same files. A spec with ``shipped_path`` names a
file installed with the code: ``"package:relative/path"`` inside an importable package (e.g. the
LPIPS heads in the lpips wheel), or a plain path relative to the project root.

A spec's ``loader`` is an optional lazy reference to a zero-argument function returning the set of
state-dict keys the file must hold; :func:`load_state_dict` checks it.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError, Unavailable
from bench.lazy import resolve
from bench.specs import WeightsSpec
from bench.hashing import sha256_file

# torch hub names checkpoints "<name>-<first hex digits of sha256>.<ext>"
HASH_PREFIX_RE = re.compile(r"-([a-f0-9]{8,})\.")
CHUNK = 1 << 20
# batch-norm counters are absent from files saved by old torch versions; torch fills them in
OPTIONAL_KEY_SUFFIXES = ("num_batches_tracked",)


class WeightsUnavailable(Unavailable):
    """The weights file is absent or unusable; the message says how to install it.

    A :class:`bench.errors.Unavailable`, so the runner marks the metric unavailable and goes on.
    """

    def __init__(self, message: str, install: str = "") -> None:
        BenchError.__init__(self, message)  # the message already names the install command
        self.install = install


class WeightsIntegrityError(WeightsUnavailable):
    """A weights file exists but has the wrong size, hash or key set."""


@dataclass(frozen=True)
class WeightsStatus:
    """What :func:`status` found: is the file there, does its checksum hold, and a message.

    ``sha256_ok`` is None when the file is absent or nothing is known to check it against.
    """

    present: bool
    path: Path
    sha256_ok: bool | None
    message: str


def install_hint(spec: WeightsSpec) -> str:
    """The commands that put this file in place."""
    if spec.shipped_path:
        package, sep, _ = spec.shipped_path.partition(":")
        if not sep:
            return "reinstall bench (the file ships with it)"
        return f"reinstall the '{package}' package (pip install --force-reinstall {package})"
    return f"run 'bench weights fetch {spec.name}' or 'bench weights import {spec.name} FILE'"


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _shipped_file(shipped_path: str) -> Path:
    package, sep, rel = shipped_path.partition(":")
    if not sep:
        return PROJECT_ROOT / shipped_path
    if not package or not rel:
        raise ValueError(f"shipped_path {shipped_path!r} must look like 'package:relative/path'")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise WeightsUnavailable(f"package {package!r} holding {rel} is not installed")
    return Path(next(iter(found.submodule_search_locations))) / rel


def _hub_dir() -> str:
    """``torch.hub.get_dir()``, without importing torch when it is not loaded yet (then nothing
    can have called ``torch.hub.set_dir``, and the directory follows from the environment as
    torch documents it: ``$TORCH_HOME/hub``, ``$TORCH_HOME`` defaulting to
    ``$XDG_CACHE_HOME/torch``, that to ``~/.cache/torch``)."""
    if "torch" in sys.modules:
        import torch.hub

        return torch.hub.get_dir()
    home = os.path.expanduser(os.getenv(
        "TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(home, "hub")


def weights_path(spec: WeightsSpec) -> Path:
    """Where the file of ``spec`` lives (whether or not it is there yet)."""
    if spec.shipped_path:
        return _shipped_file(spec.shipped_path)
    hub = Path(_hub_dir())
    rel = Path(spec.cache_dir)
    if rel.parts[:1] == ("hub",):
        base = hub.joinpath(*rel.parts[1:])
    else:  # other cache dirs are relative to the torch home, the hub dir's parent
        base = hub.parent / rel
    return base / spec.filename


def expected_prefix(spec: WeightsSpec) -> str | None:
    """The sha256 prefix encoded in a torch-hub style filename, if any."""
    match = HASH_PREFIX_RE.search(spec.filename)
    return match.group(1) if match else None


def check_file(spec: WeightsSpec, path: Path, what: str | None = None) -> str | None:
    """Return None when ``path`` matches the spec's size and checksum, else what is wrong."""
    label = what or str(path)
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        if size < spec.size:
            return f"{label} is truncated: {size} bytes, expected {spec.size}"
        return f"{label} has {size} bytes, expected {spec.size}"
    digest = sha256_file(path)
    if spec.sha256 is not None:
        if digest != spec.sha256.lower():
            return f"{label} has sha256 {digest}, expected {spec.sha256}"
        return None
    prefix = expected_prefix(spec)
    if prefix is not None and not digest.startswith(prefix):
        return f"{label} has sha256 {digest}, which does not start with {prefix} as its name says"
    return None


def _can_check(spec: WeightsSpec) -> bool:
    return spec.sha256 is not None or expected_prefix(spec) is not None


def _unverified_note(path: Path) -> Path:
    return path.with_name(path.name + ".unverified.json")


def unverified(path: Path) -> dict[str, Any] | None:
    """The note ``import --force`` left beside a file it could not verify, if it still applies."""
    note = _unverified_note(path)
    if not note.is_file() or not path.is_file():
        return None
    try:
        data = json.loads(note.read_text())
    except (OSError, ValueError):
        return {"reason": f"unreadable note {note}"}
    return data if data.get("sha256") == sha256_file(path) else None


# names of unverified weights files handed out by verify() in this process (records say so)
UNVERIFIED_USED: set[str] = set()


def status(spec: WeightsSpec) -> WeightsStatus:
    """Report whether the file is present and intact, without raising."""
    try:
        path = weights_path(spec)
    except WeightsUnavailable as exc:
        return WeightsStatus(False, Path(spec.filename), None, str(exc))
    if not path.is_file():
        return WeightsStatus(False, path, None, f"{spec.name}: {path} is absent; {install_hint(spec)}")
    note = unverified(path)
    if note is not None:
        return WeightsStatus(True, path, None, f"{spec.name}: present, UNVERIFIED (imported with "
                                               f"--force: {note.get('reason', '')})")
    problem = check_file(spec, path)
    if problem is not None:
        return WeightsStatus(True, path, False, f"{spec.name}: {problem}; {install_hint(spec)}")
    if not _can_check(spec):
        return WeightsStatus(True, path, None, f"{spec.name}: present, no checksum to verify")
    how = "sha256" if spec.sha256 else f"sha256 prefix {expected_prefix(spec)}"
    return WeightsStatus(True, path, True, f"{spec.name}: present, {how} ok")


OFFLINE_ENV = "BENCH_OFFLINE"


def offline() -> bool:
    """``BENCH_OFFLINE=1`` (or ``bench --offline``): never download weights on first use."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def auto_download_refusal(spec: WeightsSpec) -> str | None:
    """Why the first use of ``spec`` will not download it, or None when it will.

    Only files that can be verified are downloaded unasked: a file with no registered sha256
    (nor a torch-hub hash prefix in its name) could be anything, so it needs a person's decision
    (``bench weights fetch`` or ``import --force``).
    """
    if spec.shipped_path:
        return "it ships with a package"
    if not spec.url:
        return "it has no download URL"
    if not _can_check(spec):
        return "no checksum is registered to verify a download"
    if offline():
        return f"downloads are off ({OFFLINE_ENV}=1 or --offline)"
    return None


# weights whose automatic download failed in this process, with the reason (tried once per run)
_DOWNLOAD_FAILED: dict[str, str] = {}


def _first_use_download(spec: WeightsSpec) -> None:
    """Download ``spec`` now (its first use); WeightsUnavailable with the reason on failure."""
    if spec.name in _DOWNLOAD_FAILED:
        raise WeightsUnavailable(_DOWNLOAD_FAILED[spec.name])
    from bench.execution import progress

    progress.say(f"weights {spec.name}: first use, downloading {spec.url}")
    try:
        path = fetch(spec)
    except WeightsUnavailable as exc:
        reason = (f"weights {spec.name!r}: the automatic download failed: {exc}")
        _DOWNLOAD_FAILED[spec.name] = reason
        raise type(exc)(reason) from exc
    progress.say(f"weights {spec.name}: installed {path} ({status(spec).message})")


def verify(spec: WeightsSpec, download: bool = True) -> Path:
    """Return the file's path if it is present and intact; raise otherwise.

    On first use (the file absent) a verifiable file is downloaded and checked first, unless
    ``download`` is False or downloads are off (:func:`auto_download_refusal`).
    """
    st = status(spec)
    if not st.present and download and auto_download_refusal(spec) is None:
        _first_use_download(spec)
        st = status(spec)
    if not st.present:
        why = auto_download_refusal(spec)
        raise WeightsUnavailable(
            f"weights {spec.name!r} ({spec.filename}) are not installed at {st.path}"
            + (f" and were not downloaded ({why})" if why and spec.url else "")
            + f"; {install_hint(spec)}"
        )
    if st.sha256_ok is False:
        raise WeightsIntegrityError(st.message)
    if unverified(st.path) is not None:
        UNVERIFIED_USED.add(spec.name)
    return st.path


def _place(spec: WeightsSpec, fill: Callable[[Any], None], source: str) -> Path:
    """Write through ``fill(fh)`` to a temp file next to the target, check it, rename atomically."""
    target = weights_path(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        problem = check_file(spec, tmp, what=f"{source} (for {spec.name}, {spec.filename})")
        if problem is not None:
            raise WeightsIntegrityError(f"refused: {problem}")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def fetch(spec: WeightsSpec, force: bool = False, timeout: float = 60.0) -> Path:
    """Download the file from ``spec.url`` into place, refusing a wrong size or hash."""
    if spec.shipped_path:
        return verify(spec)
    if not force and status(spec).sha256_ok is not False and weights_path(spec).is_file():
        return weights_path(spec)
    if not spec.url:
        where = spec.description or "see the upstream project"
        raise WeightsUnavailable(
            f"weights {spec.name!r} have no direct download URL ({where}); get "
            f"{spec.filename} yourself, then run `bench weights import {spec.name} FILE`",
            install=f"bench weights import {spec.name} FILE")

    def fill(fh: Any) -> None:
        from bench.execution import progress

        announced = None
        received = 0
        try:
            with urllib.request.urlopen(spec.url, timeout=timeout) as resp:
                announced = resp.headers.get("Content-Length")
                total = int(announced) if announced and announced.isdigit() else None
                with progress.bytes_bar(total, f"download {spec.name}") as bar:
                    for chunk in iter(lambda: resp.read(CHUNK), b""):
                        fh.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except http.client.IncompleteRead as exc:  # the connection closed before the end
            raise WeightsIntegrityError(
                f"refused: download of {spec.url} is truncated: "
                f"{received + len(exc.partial)} of {announced} bytes") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise WeightsUnavailable(
                f"could not download {spec.name} from {spec.url}: {exc}; download it elsewhere "
                f"and run 'bench weights import {spec.name} FILE'"
            ) from exc
        if announced is not None and received < int(announced):
            raise WeightsIntegrityError(
                f"refused: download of {spec.url} is truncated: {received} of {announced} bytes"
            )

    return _place(spec, fill, spec.url)


def import_file(spec: WeightsSpec, file: str | os.PathLike[str], force: bool = False) -> Path:
    """Copy a user's file into place after the same size and hash checks as :func:`fetch`.

    A file whose checksum does not match the registry, or that has no registered checksum to
    match, is refused unless ``force``: then it is installed with a note that it is unverified,
    and every record made with it says so. An empty file or one without the expected state-dict
    keys is refused even with ``force``. The installed file is replaced only at the very end.
    """
    if spec.shipped_path:
        raise WeightsUnavailable(
            f"weights {spec.name!r} ship inside a package and cannot be imported; {install_hint(spec)}"
        )
    source = Path(file)
    if not source.is_file():
        raise WeightsUnavailable(f"cannot import {spec.name}: {source} is not a file")
    what = f"{source} (for {spec.name}, {spec.filename})"
    if source.stat().st_size == 0:
        raise WeightsIntegrityError(f"refused: {what} is empty (0 bytes)")
    problem = check_file(spec, source, what=what)
    if problem is None and not _can_check(spec):
        problem = (f"{what} cannot be verified: the registry has no sha256 for {spec.name} "
                   f"(its sha256 is {sha256_file(source)})")
    if problem is not None and not force:
        raise WeightsIntegrityError(f"refused: {problem}; if you trust the file, pass --force to "
                                    "install it as unverified (records will say so)")
    if spec.loader is not None:
        _check_keys_of(spec, source, what)
    target = weights_path(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh, open(source, "rb") as src:
            shutil.copyfileobj(src, fh, CHUNK)
        note = _unverified_note(target)
        if problem is not None:
            note.write_text(json.dumps({"sha256": sha256_file(Path(tmp_name)), "source": str(source),
                                        "reason": problem}, indent=2) + "\n")
        elif note.exists():
            note.unlink()
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def _check_keys_of(spec: WeightsSpec, path: Path, what: str) -> None:
    """Refuse a file that is not a state dict with the keys the spec's loader expects."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsIntegrityError(f"refused: {what} is not a loadable state dict ({exc})") from exc
    wanted = expected_keys(spec)
    if not isinstance(state, dict):
        raise WeightsIntegrityError(f"refused: {what} does not hold a state dict")
    if wanted is not None:
        missing = {k for k in wanted - set(state) if not k.endswith(OPTIONAL_KEY_SUFFIXES)}
        if missing:
            raise WeightsIntegrityError(f"refused: {what} lacks keys {_describe(missing)}")


def expected_keys(spec: WeightsSpec) -> set[str] | None:
    """The state-dict keys the spec's loader says the file must hold, or None."""
    if spec.loader is None:
        return None
    return set(resolve(spec.loader)())


def _describe(keys: Iterable[str], limit: int = 8) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def load_state_dict(spec: WeightsSpec) -> dict[str, Any]:
    """Load the verified file with ``weights_only=True`` and check its key set."""
    path = verify(spec)  # first: absent weights cost no torch import
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling, zip and format errors all mean the same to the user
        raise WeightsIntegrityError(
            f"{path} ({spec.name}) is not a loadable state dict: {exc}; {install_hint(spec)}"
        ) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsIntegrityError(f"{path} ({spec.name}) does not hold a plain state dict of tensors")
    wanted = expected_keys(spec)
    if wanted is not None:
        present = set(state)
        missing = {k for k in wanted - present if not k.endswith(OPTIONAL_KEY_SUFFIXES)}
        unexpected = present - wanted
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys: {_describe(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {_describe(unexpected)}")
            raise WeightsIntegrityError(
                f"{path} ({spec.name}) has the wrong key set; " + "; ".join(parts)
            )
    return state


def weights_identity(spec: WeightsSpec) -> dict[str, str]:
    """sha256 and path of an intact weights file, as it enters cache keys and records.

    Raises WeightsUnavailable (with the install command) when it is absent or corrupt.
    """
    path = verify(spec)
    out = {"sha256": sha256_file(path), "path": str(path)}
    if unverified(path) is not None:
        out["verified"] = "no: imported with --force"
    return out
