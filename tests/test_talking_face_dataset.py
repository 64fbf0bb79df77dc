"""The embedded talking-face dataset: manifest, splits, cross-dub pairing, cache checks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pytest

from bench.datasets.talking_face.build import build_manifest, crossdub_pairs, write_manifest
from bench.datasets.talking_face.cache import array_sha256
from bench.datasets.talking_face.embedded import load_embedded_talking_faces
from bench.interfaces import SampleError
from bench.samples import Clip

VOWELS = ["AA1", "IY1", "UW1", "EH1", "AE1", "OW1"]
CONS = ["P", "B", "M", "T", "S", "K", "F", "N"]


@dataclass(frozen=True)
class Phone:
    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Utt:
    id: str
    speaker: str
    phones: tuple
    duration: float
    sha256: str
    split: str


class TinyCorpus:
    """A stand-in speech corpus: random phone sequences and noise audio, 2 speakers per split."""

    name, version = "tiny", "0"

    def __init__(self, per_speaker=(2, 1, 2)):
        rng = np.random.default_rng(7)
        self.utterances, self._splits, self._audio = [], {}, {}
        for split, n in zip(("train", "val", "test"), per_speaker):
            self._splits[split] = []
            for s in range(2):
                spk = f"{split}-spk{s}"
                for k in range(n):
                    t, phones = 0.1, [Phone("SIL", 0.0, 0.1)]
                    for _ in range(3):
                        for lab in (CONS[rng.integers(len(CONS))], VOWELS[rng.integers(len(VOWELS))]):
                            d = float(rng.uniform(0.06, 0.15))
                            phones.append(Phone(lab, t, t + d))
                            t += d
                    phones.append(Phone("SIL", t, t + 0.1))
                    dur = t + 0.1 + 0.013 * k
                    uid = f"{spk}-u{k}"
                    audio = (0.1 * rng.standard_normal(int(dur * 16000))).astype(np.float32)
                    self._audio[uid] = audio
                    self.utterances.append(Utt(uid, spk, tuple(phones), dur, array_sha256(audio), split))
                    self._splits[split].append(uid)
        self._by_id = {u.id: u for u in self.utterances}

    def split_ids(self, name):
        return list(self._splits[name])

    def utterance(self, uid):
        return self._by_id[uid]

    def audio(self, uid):
        return self._audio[uid]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    corpus = TinyCorpus()
    manifest = build_manifest(corpus, identity_splits={"train": 2, "val": 1, "test": 2},
                              target_clips={"train": None, "val": None, "test": 6})
    path = write_manifest(manifest, tmp_path_factory.mktemp("m") / "manifest.json")
    return corpus, manifest, path


def _load(built, tmp_path, **kw):
    corpus, _, path = built
    return load_embedded_talking_faces(manifest=path, corpus=corpus, cache_dir=tmp_path, **kw)


def test_splits_are_identity_and_speaker_disjoint(built, tmp_path):
    ds = _load(built, tmp_path)
    seen_ids, seen_spk = {}, {}
    for split in ("train", "val", "test"):
        s = ds.split(split)
        assert len(s.ids) > 0
        idents = {ds.clips[c]["identity"] for c in s.ids}
        spks = {ds.clips[c]["speaker"] for c in s.ids}
        for other, o_ids in seen_ids.items():
            assert not idents & o_ids, (split, other)
            assert not spks & seen_spk[other], (split, other)
        seen_ids[split], seen_spk[split] = idents, spks
    test_ids = ds.split("test").ids
    assert len(test_ids) == 6  # 4 utterances stretched over 2 identities, cut at the target
    assert len({ds.clips[c]["utterance"] for c in test_ids}) == 4
    assert len(ds.split("train").ids) == 4  # one clip per train utterance
    for split in ("train", "val", "test"):  # each clip pairs identity and utterance of its split
        for c in ds.split(split).ids:
            assert ds.corpus.utterance(ds.clips[c]["utterance"]).split == split
            assert ds.clips[c]["identity"] in ds.manifest["identity_splits"][split]


def test_reconstruction_clip_contents(built, tmp_path):
    ds = _load(built, tmp_path)
    split = ds.split("test")
    clip = split.get(split.ids[0])
    assert isinstance(clip, Clip)
    assert clip.frames.shape[1:] == (128, 128, 3) and clip.frames.dtype == np.uint8
    assert clip.face_boxes.shape == (len(clip.frames), 4)
    assert clip.n_output_frames == len(clip.frames)
    assert clip.target is not None and np.array_equal(clip.target, clip.frames)
    assert clip.meta["utterance"] == ds.clips[clip.id]["utterance"]
    assert clip.meta["phones"][0][0] == "SIL"
    x0, y0, x1, y1 = clip.face_boxes.T
    assert (x1 - x0 > 30).all() and (y1 - y0 > 40).all()


@pytest.mark.parametrize("base", ["test", "val"])
def test_crossdub_pairs_other_speaker_and_cuts_to_shorter(built, tmp_path, base):
    ds = _load(built, tmp_path)
    split = ds.split(f"{base}-crossdub")
    assert len(split.ids) == len(ds.split(base).ids)
    for cid in split.ids:
        clip = split.get(cid)
        vid, aud = clip.meta["video_clip"], clip.meta["audio_clip"]
        assert ds.clips[vid]["split"] == ds.clips[aud]["split"] == base
        assert ds.clips[vid]["speaker"] != ds.clips[aud]["speaker"]
        assert clip.target is None
        n = min(ds.clips[vid]["n_frames"], ds.clips[aud]["n_frames"])
        assert len(clip.frames) == n == clip.n_output_frames
        own = ds.corpus.audio(ds.clips[aud]["utterance"])
        assert np.array_equal(clip.audio, own[: len(clip.audio)])
        assert len(clip.audio) == n * 640


def test_crossdub_without_other_speaker_is_an_error():
    with pytest.raises(ValueError, match="no test clip of another speaker"):
        crossdub_pairs(["a", "b"], {"a": "s", "b": "s"}, {"a": "u1", "b": "u2"}, 0)


def test_ids_and_manifest_hash_are_stable(built, tmp_path):
    corpus, manifest, _ = built
    again = build_manifest(corpus, identity_splits={"train": 2, "val": 1, "test": 2},
                           target_clips={"train": None, "val": None, "test": 6})
    assert again == manifest
    a, b = _load(built, tmp_path), _load(built, tmp_path / "other")
    for s in ("train", "test", "test-crossdub", "val-crossdub"):
        assert a.split(s).ids == b.split(s).ids
        assert a.split(s).manifest_hash == b.split(s).manifest_hash


def test_cache_is_used_and_corruption_is_rerendered(built, tmp_path, caplog):
    ds = _load(built, tmp_path)
    cid = ds.split("test").ids[0]
    frames, _ = ds.frames(cid)
    path = ds.cache_path(cid)
    assert path.is_file()
    # tamper with the cached frames: the checksum catches it, the clip is re-rendered
    with np.load(path) as z:
        bad = z["frames"].copy()
        boxes = z["boxes"]
    bad[0, 0, 0, 0] ^= 0xFF
    np.savez(path, frames=bad, boxes=boxes)
    with caplog.at_level(logging.WARNING):
        again, _ = ds.frames(cid)
    assert "do not match" in caplog.text
    assert np.array_equal(again, frames)
    with np.load(path) as z:
        assert array_sha256(z["frames"]) == ds.clips[cid]["frames_sha256"]
    # a truncated (unreadable) cache file is rebuilt too
    path.write_bytes(b"PK\x03\x04broken")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again, _ = ds.frames(cid)
    assert "unreadable cache file" in caplog.text
    assert np.array_equal(again, frames)


def test_checked_frames_are_read_once_per_process_and_read_only(built, tmp_path, monkeypatch):
    from bench.datasets.talking_face import embedded

    ds = _load(built, tmp_path)
    cid = ds.split("test").ids[0]
    first, boxes = ds.frames(cid)  # rendered and cached on disk
    reads = []
    real = embedded.load_npz
    monkeypatch.setattr(embedded, "load_npz", lambda *a: reads.append(a) or real(*a))
    clip = _load(built, tmp_path).split("test").get(cid)  # a new dataset object, as per unit
    again = _load(built, tmp_path).split("test").get(cid)
    assert len(reads) == 1  # read and checked once, then shared
    assert np.array_equal(clip.frames, first) and again.frames is clip.frames
    # every method shares them, and they are the ground truth: nobody may write into them
    for array in (clip.frames, clip.target, clip.face_boxes, boxes):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_render_mismatch_with_manifest_is_a_sample_error(built, tmp_path):
    corpus, manifest, _ = built
    import copy

    m = copy.deepcopy(manifest)
    cid = m["splits"]["test"][0]
    m["clips"][cid]["frames_sha256"] = "0" * 64
    path = write_manifest(m, tmp_path / "manifest.json")
    ds = load_embedded_talking_faces(manifest=path, corpus=corpus, cache_dir=tmp_path)
    with pytest.raises(SampleError, match=cid):
        ds.split("test").get(cid)
    lenient = load_embedded_talking_faces(manifest=path, corpus=corpus, cache_dir=tmp_path / "l",
                                          strict=False)
    assert lenient.split("test").get(cid).frames.shape[1:] == (128, 128, 3)


def test_bad_manifest_files_name_the_file(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_embedded_talking_faces(manifest=missing, corpus=TinyCorpus())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        load_embedded_talking_faces(manifest=bad, corpus=TinyCorpus())
    bad.write_text('{"version": "1"}')
    with pytest.raises(ValueError, match="missing key"):
        load_embedded_talking_faces(manifest=bad, corpus=TinyCorpus())


def test_unknown_split_and_sample(built, tmp_path):
    ds = _load(built, tmp_path)
    with pytest.raises(KeyError, match="no split"):
        ds.split("dev")
    with pytest.raises(SampleError, match="nope"):
        ds.split("test").get("nope")


def test_audio_shorter_than_manifest_is_a_sample_error(built, tmp_path):
    corpus, _, path = built
    ds = _load(built, tmp_path)
    cid = ds.split("test").ids[0]
    utt = ds.clips[cid]["utterance"]

    class Shorter(TinyCorpus):
        def audio(self, uid):
            a = corpus.audio(uid)
            return a[: len(a) // 2] if uid == utt else a

    short = load_embedded_talking_faces(manifest=path, corpus=Shorter(), cache_dir=tmp_path)
    with pytest.raises(SampleError, match="do not cover"):
        short.split("test").get(cid)


def test_shipped_manifest_rerenders_to_its_checksum(tmp_path):
    from bench.datasets.talking_face.embedded import DEFAULT_MANIFEST, read_manifest
    from bench.datasets.speech import load_corpus

    manifest = read_manifest(DEFAULT_MANIFEST)
    ds = load_embedded_talking_faces(corpus=load_corpus(verify=False), cache_dir=tmp_path)
    assert ds.name == "talking-faces-synthetic" and ds.version == manifest["version"]
    test = ds.split("test")
    assert 30 <= len(test.ids) <= 40
    assert len(ds.split("test-crossdub").ids) == len(test.ids)
    assert len(ds.split("train").ids) > len(test.ids)
    cid = test.ids[0]
    frames, boxes = ds.render(cid)  # no cache involved
    assert array_sha256(frames) == manifest["clips"][cid]["frames_sha256"]
    assert array_sha256(boxes) == manifest["clips"][cid]["boxes_sha256"]
    n_ids = sum(len(v) for v in manifest["identity_splits"].values())
    assert n_ids >= 24


def test_cache_dir_from_environment(built, tmp_path, monkeypatch):
    corpus, _, path = built
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "envcache"))
    ds = load_embedded_talking_faces(manifest=path, corpus=corpus)
    cid = ds.split("val").ids[0]
    ds.split("val").get(cid)
    assert ds.cache_path(cid).is_file()
    assert ds.cache_path(cid).is_relative_to(tmp_path / "envcache" / "talking_face")
