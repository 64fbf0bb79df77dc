"""The embedded consonant dataset: segments, splits, the paper protocol and the plugin."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pluggy
import pytest

from bench import hookspecs
from bench.datasets.consonants.embedded import (
    PAPER_SEED,
    ConsonantDataset,
    load_embedded_consonants,
    paper_protocol,
)
from bench.datasets.consonants.phones import VOICED, VOICELESS, voicing_label
from bench.datasets.speech import CorpusError, load_corpus
from bench.interfaces import SampleError
from bench.lazy import resolve
from bench.samples import Segment

SPLITS = ("train", "val", "test", "paper-train", "paper-holdout")


@pytest.fixture(scope="module")
def data() -> ConsonantDataset:
    return load_embedded_consonants()


def test_name_version_and_split_names(data):
    assert data.name == "consonants-synthetic"
    assert data.version == data.corpus.version
    for s in SPLITS:
        split = data.split(s)
        assert split.name == s and len(split.ids) == len(set(split.ids)) > 100
        assert len(split.manifest_hash) == 64
    with pytest.raises(KeyError, match="no split 'dev'"):
        data.split("dev")


def test_corpus_splits_are_speaker_disjoint_and_cover_every_class(data):
    speakers = {}
    for s in ("train", "val", "test"):
        ids = data.split(s).ids
        speakers[s] = {data.corpus.utterance(i.split("/")[0]).speaker for i in ids}
        counts = data.class_counts(s)
        assert all(counts.get(p, 0) >= 15 for p in VOICED + VOICELESS), (s, counts)
    assert not speakers["train"] & speakers["val"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["val"] & speakers["test"]
    total = sum(len(data.split(s).ids) for s in ("train", "val", "test"))
    assert total == len(data.refs)


def test_segments_carry_labels_lengths_and_audio(data):
    sr = data.corpus.sample_rate
    split = data.split("test")
    for seg_id in split.ids[::25]:
        seg = split.get(seg_id)
        assert isinstance(seg, Segment) and seg.id == seg_id
        utt_id, rest = seg_id.split("/")
        index, phone = rest.split("-")
        phone_obj = data.corpus.utterance(utt_id).phones[int(index)]
        assert phone == phone_obj.label == seg.phone
        assert seg.label == voicing_label(phone) and seg.label in (0, 1)
        assert (seg.start, seg.end) == (phone_obj.start, phone_obj.end)
        assert seg.sample_rate == sr == 16000 and seg.waveform.dtype == np.float32
        a, b = int(seg.start * sr), int(seg.end * sr)
        assert len(seg.waveform) == b - a > 0
        np.testing.assert_array_equal(seg.waveform, data.corpus.audio(utt_id)[a:b])
        assert seg.speaker == data.corpus.utterance(utt_id).speaker
        assert seg.corpus == "synthetic-speech"
    # only the 13 task classes, and every class phone of the corpus is there
    phones = {r.phone for r in data.refs}
    assert phones == set(VOICED + VOICELESS)
    n_class_phones = sum(voicing_label(p.label) is not None
                         for u in data.corpus.utterances for p in u.phones)
    assert len(data.refs) == n_class_phones


def test_paper_split_is_stratified_disjoint_and_deterministic(data):
    train, hold = data.split("paper-train").ids, data.split("paper-holdout").ids
    assert not set(train) & set(hold)
    assert sorted(train + hold) == sorted(r.id for r in data.refs)
    assert abs(len(hold) / len(data.refs) - 0.3) < 0.002
    label = {r.id: r.label for r in data.refs}
    p_all = np.mean(list(label.values()))
    assert abs(np.mean([label[i] for i in hold]) - p_all) < 0.002
    assert abs(np.mean([label[i] for i in train]) - p_all) < 0.002
    again = load_embedded_consonants(verify=False)
    assert again.split("paper-holdout").ids == hold
    assert again.split("paper-holdout").manifest_hash == data.split("paper-holdout").manifest_hash


def test_paper_protocol_indices_and_folds():
    rng = np.random.default_rng(0)
    labels = (rng.random(500) < 0.67).astype(int)
    segs = list(range(500))
    p = paper_protocol(segs, labels)
    q = paper_protocol(segs, labels, seed=PAPER_SEED)
    np.testing.assert_array_equal(p.holdout, q.holdout)
    assert len(p.holdout) == 150 and len(p.train) == 350
    assert not set(p.train) & set(p.holdout)
    assert abs(labels[p.holdout].mean() - labels.mean()) < 0.01
    assert not np.array_equal(paper_protocol(segs, labels, seed=1).holdout, p.holdout)
    folds = list(p.folds())
    assert len(folds) == 5
    covered = np.sort(np.concatenate([val for _, val in folds]))
    np.testing.assert_array_equal(covered, p.train)
    for fit, val in folds:
        assert not set(fit) & set(val) and set(fit) | set(val) == set(p.train)
        assert abs(labels[val].mean() - labels[p.train].mean()) < 0.02
    assert p.cv.random_state == PAPER_SEED and p.cv.shuffle
    with pytest.raises(ValueError, match="labels"):
        paper_protocol(segs, labels[:10])


def test_training_split_for_each_evaluation_split(data):
    assert data.train_split_for("test") == "train" and data.train_split_for("val") == "train"
    assert data.train_split_for("paper-holdout") == "paper-train"
    with pytest.raises(KeyError):
        data.train_split_for("dev")


def test_manifest_hash_follows_content(data):
    split = data.split("val")
    other = load_embedded_consonants(verify=False).split("val")
    assert other.manifest_hash == split.manifest_hash
    changed = dict(split.content_hashes)
    changed[split.ids[0]] = "0" * 64
    from bench.datasets.base import manifest_hash
    assert manifest_hash([(i, changed[i]) for i in split.ids]) != split.manifest_hash


def _copy_corpus(tmp_path):
    src = load_corpus(verify=False)
    manifest = json.loads((src.root / "manifest.json").read_text())
    keep = {s: ids[:2] for s, ids in manifest["splits"].items()}
    keep_ids = {i for ids in keep.values() for i in ids}
    manifest["splits"] = keep
    manifest["utterances"] = [u for u in manifest["utterances"] if u["id"] in keep_ids]
    (tmp_path / "audio").mkdir()
    for u in manifest["utterances"]:
        shutil.copy(src.root / u["file"], tmp_path / u["file"])
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_bad_audio_gives_errors_naming_the_file(tmp_path):
    manifest = _copy_corpus(tmp_path)
    data = load_embedded_consonants(tmp_path)
    assert len(data.split("test").ids) > 0
    victim = manifest["splits"]["test"][0]
    path = tmp_path / f"audio/{victim}.flac"
    path.write_bytes(b"this is not a flac file")
    with pytest.raises(CorpusError, match="sha256 mismatch") as err:
        load_embedded_consonants(tmp_path)
    assert str(path) in str(err.value)
    # unverified, the per-sample error names the file so the harness can record it and go on
    split = load_embedded_consonants(tmp_path, verify=False).split("test")
    bad = [i for i in split.ids if i.startswith(victim + "/")]
    with pytest.raises(SampleError) as err:
        split.get(bad[0])
    assert str(path) in str(err.value)
    good = [i for i in split.ids if not i.startswith(victim + "/")]
    assert split.get(good[0]).waveform.size > 0
    with pytest.raises(SampleError, match="no sample"):
        split.get("nope/1-S")


def test_truncated_audio_is_a_sample_error(tmp_path):
    manifest = _copy_corpus(tmp_path)
    import soundfile as sf

    victim = manifest["splits"]["val"][0]
    path = tmp_path / f"audio/{victim}.flac"
    wave, sr = sf.read(path, dtype="float32")
    sf.write(path, wave[: len(wave) // 3], sr, format="FLAC", subtype="PCM_16")
    split = load_embedded_consonants(tmp_path, verify=False).split("val")
    last = [i for i in split.ids if i.startswith(victim + "/")][-1]
    with pytest.raises(SampleError, match="ends at sample") as err:
        split.get(last)
    assert str(path) in str(err.value)


def test_min_samples_drops_short_segments(data):
    longer = ConsonantDataset(data.corpus, min_samples=500)
    sr = data.corpus.sample_rate
    assert 0 < len(longer.refs) < len(data.refs)
    assert all(int(r.end * sr) - int(r.start * sr) >= 500 for r in longer.refs)


def test_plugin_registers_the_dataset(data):
    import plugins.speech_data as plugin

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    specs = []
    pm.hook.bench_register_datasets(register=specs.append)
    (spec,) = specs
    assert spec.name == "consonants-synthetic" and spec.task == "consonant-voicing"
    assert spec.splits == SPLITS and spec.eval_splits == ("test",) and spec.embedded
    assert spec.version == data.version
    loaded = resolve(spec.loader)(verify=False)
    assert loaded.name == spec.name
    counts = Counter(r.label for r in loaded.refs)
    assert counts[0] > 0 and counts[1] > 0


class _AcousticBaseline:
    """Zero-crossing rate + periodicity into a logistic regression: labels must be learnable."""

    def _features(self, segments):
        from bench.datasets.speech.checks import periodicity, zero_crossing_rate

        return np.array([[zero_crossing_rate(s.waveform),
                          periodicity(s.waveform, s.sample_rate) if len(s.waveform) > 300 else 0.0]
                         for s in segments])

    def fit(self, segments, labels):
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression().fit(self._features(segments), labels)
        return self

    def predict_proba(self, segments):
        return self.model.predict_proba(self._features(segments))


def test_runs_through_the_consonant_runner_with_learnable_labels(data):
    """Fit on train, score the held-out speakers: a two-feature baseline is far above chance,
    which it would not be if labels or cut times were wrong."""
    from sklearn.metrics import balanced_accuracy_score

    from bench.tasks.consonant import ConsonantRunner

    runner, method = ConsonantRunner(), _AcousticBaseline()
    test = data.split("test")
    info = runner.prepare(method, data, test, seed=0)
    assert info["train_split"] == "train" and info["n_train"] == len(data.split("train").ids)
    probs, labels = [], []
    for seg_id in test.ids:
        seg = test.get(seg_id)
        pred = runner.predict(method, seg)
        runner.check(seg, pred)
        probs.append(pred["proba"])
        labels.append(seg.label)
    score = balanced_accuracy_score(labels, np.array(probs) > 0.5)
    assert score > 0.85
