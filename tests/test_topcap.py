"""TopCap reference model: feature pieces, drop rules, bad inputs, parity with ripser.py, classifiers."""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import ripser

from reference_models.topcap import (
    LEARNERS,
    TopCapClassifier,
    TopCapFeatures,
    delay,
    embedding,
    most_persistent,
    persistence,
    pitch_period,
    segment_feature,
    trim,
)
from reference_models.topcap import features as features_module
from reference_models.topcap.synthetic import make_segments, voiced_like, voiceless_like

BENCH_FILE = Path(__file__).parent / "benchmarks" / "test_bench_topcap.py"


def _load_baseline():
    """The plain ripser.py pipeline lives in the benchmark file; load it by path."""
    spec = importlib.util.spec_from_file_location("topcap_ripser_baseline", BENCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


def _sorted(dgm: np.ndarray) -> np.ndarray:
    return dgm[np.lexsort((dgm[:, 1], dgm[:, 0]))]


@pytest.fixture(scope="module")
def train_set():
    return make_segments(24, seed=0)


@pytest.fixture(scope="module")
def test_set():
    return make_segments(12, seed=1)


@pytest.fixture(scope="module")
def shared_cache():
    return {}


# ---- pieces ----


def test_pitch_period_matches_plain_autocorrelation():
    rng = np.random.default_rng(5)
    signals = [voiced_like(rng) for _ in range(4)] + [voiceless_like(rng) for _ in range(4)]
    signals += [np.zeros(900), rng.normal(size=7), np.sin(np.arange(1500) / 7.0)]
    for s in signals:
        with np.errstate(invalid="ignore", divide="ignore"):
            assert pitch_period(s) == baseline.baseline_period(s)


def test_pitch_period_finds_the_period_of_a_voiced_segment():
    rng = np.random.default_rng(0)
    t = np.arange(2000)
    for period in (64, 100, 160):
        s = np.sin(2 * np.pi * t / period) * np.hanning(len(t)) + rng.normal(0, 0.01, len(t))
        assert abs(pitch_period(s) - period) <= 1


def test_delay_rules():
    assert delay(100, 2000, 6.0) == 6
    assert delay(75, 2000, 6.0) == 4  # 4.5 rounds half to even, as Python's round
    assert delay(125, 2000, 6.0) == 8  # 7.5 -> 8
    assert delay(100, 2000, 2 * math.pi) == round(2 * math.pi)
    assert delay(0, 2000, 6.0) == 1  # no period found
    assert delay(1000, 2000, 6.0) == 20  # 60 * 100 > 2000 -> 2000 // 100
    assert delay(1000, 150, 6.0) == 1  # capped to 1 at least


def test_embedding_rows_are_delayed_samples():
    s = np.arange(1000, dtype=float)
    cloud = embedding(s, tau=3)
    assert cloud.shape == (math.ceil((1000 - 99 * 3) / 5), 100)
    np.testing.assert_array_equal(cloud[7], s[35 : 35 + 300 : 3])
    assert embedding(s[:50], tau=1).shape == (0, 100)


def test_trim_is_signed():
    s = np.full(2000, -0.5)  # loud but negative: nothing passes a signed test
    s[100] = 0.04
    s[900] = 0.05
    np.testing.assert_array_equal(trim(s), s[100:901])
    assert trim(-np.ones(10)).size == 0


def test_most_persistent_picks_largest_lifetime():
    dgm = np.array([[0.1, 0.5], [0.2, 1.0], [0.0, 0.3]])
    np.testing.assert_allclose(most_persistent(dgm), [0.2, 0.8])
    assert most_persistent(np.empty((0, 2))) is None


# ---- parity with ripser.py ----


def test_diagrams_equal_ripser():
    rng = np.random.default_rng(3)
    clouds = []
    for make in (voiced_like, voiceless_like, voiced_like):
        s = make(rng, duration=0.1)
        clouds.append(embedding(s, delay(pitch_period(s), len(s), 6.0)))
    clouds.append(rng.normal(size=(80, 5)))
    checked = 0
    for cloud in clouds:
        if len(cloud) < 2:
            continue
        ours = persistence(cloud)
        theirs = ripser.ripser(cloud, maxdim=1)["dgms"][1]
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(_sorted(ours), _sorted(theirs), rtol=1e-6, atol=1e-9)
        checked += len(ours)
    assert checked > 20  # the clouds really have H1 points


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_features_equal_plain_ripser_pipeline(variant):
    signals, _labels = make_segments(6, seed=7)
    ours = TopCapFeatures(variant=variant, n_jobs=2).fit_transform(signals)
    theirs = baseline.baseline_features(signals, variant)
    assert np.isfinite(theirs).all(axis=1).sum() >= 3
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, equal_nan=True)


def test_threads_keep_segment_order_and_reasons():
    # Workers take the longest segments first; rows must still come back in input order.
    signals, _ = make_segments(5, seed=11)
    signals = signals + [np.zeros(0), np.full(800, np.nan), np.zeros(300)]
    one = TopCapFeatures(n_jobs=1)
    many = TopCapFeatures(n_jobs=-1)
    np.testing.assert_array_equal(one.fit_transform(signals), many.fit_transform(signals))
    assert one.drop_reasons_ == many.drop_reasons_
    assert many.drop_reasons_[-3:] == [features_module.REASON_EMPTY, features_module.REASON_NOT_FINITE,
                                      features_module.REASON_TOO_SHORT]


def test_zero_jobs_is_refused():
    with pytest.raises(ValueError, match="n_jobs=0"):
        TopCapFeatures(n_jobs=0).fit_transform([np.zeros(600)] * 2)


def test_voiced_lifetimes_exceed_voiceless(train_set):
    signals, labels = train_set
    feats = TopCapFeatures().fit_transform(signals)
    voiced = feats[labels == 1, 1]
    voiceless = feats[labels == 0, 1]
    assert np.isfinite(voiceless).sum() >= 3
    assert np.nanmedian(voiced) > 5 * np.nanmedian(voiceless)


# ---- drop rules and bad input ----


def test_drop_rules():
    rng = np.random.default_rng(1)
    voiced = voiced_like(rng, duration=0.15)
    short = voiced[:499]
    constant = np.full(1000, 0.5)  # no autocorrelation peak, tau 1, all points equal: no loop
    few = voiced_like(rng, duration=0.12)[:520]  # tau capped, cloud far under 40 points
    quiet = voiced * 0.01  # v1 keeps nothing above 0.03
    feats = TopCapFeatures(variant="v2")
    X = feats.fit_transform([voiced, short, constant, few])
    assert feats.drop_reasons_[0] is None and np.isfinite(X[0]).all()
    assert feats.drop_reasons_[1:] == ["too short (<500 samples)", "empty H1", "cloud < 40 points"]
    assert np.isnan(X[1:]).all()
    assert feats.details_[3]["n_points"] < 40

    v1 = TopCapFeatures(variant="v1")
    X1 = v1.fit_transform([voiced, quiet, short])
    assert v1.drop_reasons_[0] is None and np.isfinite(X1[0]).all()
    assert "nothing left after trimming" in v1.drop_reasons_[1]
    assert v1.drop_reasons_[2] == "too short (<500 samples)"


def test_v1_trims_before_measuring_length():
    rng = np.random.default_rng(2)
    s = np.zeros(3000)
    s[1000:1400] = np.abs(voiced_like(rng, duration=0.025))  # 400 loud samples in 3000
    assert TopCapFeatures(variant="v2").fit(None).transform([s]).shape == (1, 2)
    v1 = TopCapFeatures(variant="v1")
    v1.transform([s])
    assert v1.drop_reasons_ == ["too short (<500 samples)"]


def test_bad_inputs_give_nan_rows_with_reasons():
    rng = np.random.default_rng(4)
    good = voiced_like(rng, duration=0.12)
    nan_sig = good.copy()
    nan_sig[10] = np.nan
    inf_sig = good.copy()
    inf_sig[-1] = np.inf
    batch = [
        np.array([]),
        nan_sig,
        good,
        inf_sig,
        np.stack([good, good]),
        (good * 32767).astype(np.int16),
    ]
    feats = TopCapFeatures()
    X = feats.fit_transform(batch)
    assert X.shape == (6, 2)
    assert np.isfinite(X[2]).all() and feats.drop_reasons_[2] is None  # alignment kept
    reasons = feats.drop_reasons_
    assert reasons[0] == "empty segment"
    assert reasons[1] == reasons[3] == "not finite input"
    assert reasons[4].startswith("not 1-D (shape (2,")
    assert reasons[5].startswith("not float (dtype int16)")
    assert np.isnan(np.delete(X, 2, axis=0)).all()


def test_wrong_types_raise_clear_errors():
    good = voiced_like(np.random.default_rng(0), duration=0.1)
    with pytest.raises(ValueError, match="wrap it in a list"):
        TopCapFeatures().fit_transform(good)
    with pytest.raises(ValueError, match="segment 1: expected a 1-D float array, got str"):
        TopCapFeatures().fit_transform([good, "a.wav"])
    with pytest.raises(ValueError, match="16000 Hz audio, got sample_rate=22050"):
        TopCapFeatures(sample_rate=22050).fit_transform([good])
    with pytest.raises(ValueError, match="unknown TopCap variant 'v3'"):
        TopCapFeatures(variant="v3").fit_transform([good])
    with pytest.raises(ValueError, match="unknown TopCap learner 'forest'"):
        TopCapClassifier(learner="forest")


# ---- classifiers ----


def _scores(clf, signals, labels):
    """Accuracy and balanced accuracy over the segments that have a feature, and their count."""
    proba = clf.predict_proba(signals)
    ok = ~np.isnan(proba).any(axis=1)
    pred, true = proba[ok, 1] > 0.5, labels[ok] == 1
    balanced = (np.mean(pred[true]) + np.mean(~pred[~true])) / 2
    return float(np.mean(pred == true)), float(balanced), int(ok.sum())


def test_svm_classifier_well_above_chance(train_set, test_set, shared_cache):
    clf = TopCapClassifier("svm", seed=0, feature_cache=shared_cache).fit(*train_set)
    acc, balanced, n = _scores(clf, *test_set)
    assert n >= 12 and 0 < test_set[1][np.isfinite(clf.features(test_set[0])[:, 0])].mean() < 1
    assert acc >= 0.9 and balanced >= 0.85  # chance: 0.5 balanced
    proba = clf.predict_proba(test_set[0])
    ok = ~np.isnan(proba).any(axis=1)
    np.testing.assert_allclose(proba[ok].sum(axis=1), 1.0)
    # rows without a feature are NaN, not guessed
    assert np.isnan(proba[~ok]).all() and (clf.predict(test_set[0])[~ok] == -1).all()


@pytest.mark.parametrize("learner", [lr for lr in LEARNERS if lr != "svm"])
def test_every_learner_fits_and_predicts(learner, train_set, test_set, shared_cache):
    clf = TopCapClassifier(learner, seed=0, feature_cache=shared_cache).fit(*train_set)
    _acc, balanced, _n = _scores(clf, *test_set)
    assert balanced >= 0.8, (learner, clf.best_params_)
    kept = int(np.isfinite(clf.features(train_set[0])).all(axis=1).sum())
    assert clf.n_fit_ == kept
    assert sum(clf.fit_drop_counts_.values()) == len(train_set[0]) - kept


def test_reproducible_under_seed(train_set, test_set, shared_cache):
    a = TopCapClassifier("mlp", seed=3, feature_cache=shared_cache).fit(*train_set)
    b = TopCapClassifier("mlp", seed=3, feature_cache=shared_cache).fit(*train_set)
    np.testing.assert_array_equal(a.predict_proba(test_set[0]), b.predict_proba(test_set[0]))
    assert a.best_params_ == b.best_params_


def test_fit_then_predict_never_recomputes(monkeypatch):
    signals, labels = make_segments(8, seed=11)
    calls = []
    original = features_module.segment_feature

    def counting(signal, variant="v2", n_threads=1):
        calls.append(1)
        return original(signal, variant, n_threads)

    monkeypatch.setattr(features_module, "segment_feature", counting)
    clf = TopCapClassifier("logreg").fit(signals, labels)
    clf.predict_proba(signals)
    clf.predict_proba([s.copy() for s in signals[:3]])  # equal content, new arrays
    assert len(calls) == len(signals)


def test_classifier_takes_segment_objects_and_checks_rate(train_set):
    from bench.samples import Segment

    signals, labels = train_set
    segs = [
        Segment(id=f"s{i}", waveform=s, sample_rate=16000, phone="M", label=int(y))
        for i, (s, y) in enumerate(zip(signals, labels))
    ]
    clf = TopCapClassifier("nb").fit(segs, labels)
    assert clf.predict_proba(segs).shape == (len(segs), 2)
    bad = Segment(id="spk1/utt3#2", waveform=signals[0], sample_rate=8000, phone="M", label=1)
    with pytest.raises(ValueError, match="spk1/utt3#2: sample rate 8000 Hz"):
        clf.predict_proba([bad])


def test_classifier_rejects_bad_labels_and_empty_classes(train_set):
    signals, labels = train_set
    with pytest.raises(ValueError, match="labels must be 0 .voiceless. or 1 .voiced."):
        TopCapClassifier().fit(signals, labels + 1)
    with pytest.raises(ValueError, match="one label per segment"):
        TopCapClassifier().fit(signals, labels[:-1])
    short = [np.zeros(100)] * 4 + signals[:4]
    with pytest.raises(ValueError, match="need at least 2 of each"):
        TopCapClassifier().fit(short, np.array([0, 0, 0, 0, 1, 1, 1, 1]))
    with pytest.raises(RuntimeError, match="not fitted"):
        TopCapClassifier().predict_proba(signals)


def test_segment_feature_reports_pipeline_quantities():
    s = voiced_like(np.random.default_rng(8), duration=0.1)
    r = segment_feature(s, "v2")
    assert r.reason is None
    assert r.tau == delay(r.period, len(s), 6.0)
    assert r.n_points == len(embedding(s, r.tau))


# ---- registration ----


def test_plugin_registers_the_topcap_methods():
    from bench.lazy import resolve
    from bench.specs import MethodSpec
    from plugins import topcap as plugin

    specs: list[MethodSpec] = []
    plugin.bench_register_methods(specs.append)
    names = {s.name for s in specs}
    assert names == {f"topcap-{lr}" for lr in LEARNERS} | {"topcap-svm-v1", "topcap-svm-full"}
    assert [s.name for s in specs if s.reference] == ["topcap-svm"]
    assert all(s.task == "consonant-voicing" and s.paper == "arXiv:2311.15210" for s in specs)
    for spec in specs:
        method = resolve(spec.factory)(**spec.config)
        assert isinstance(method, TopCapClassifier)
        assert (method.learner, method.variant) == (spec.config["learner"], spec.config["variant"])
    v1 = next(s for s in specs if s.name == "topcap-svm-v1")
    assert v1.config == {"learner": "svm", "variant": "v1", "n_jobs": 2}
    full = next(s for s in specs if s.name == "topcap-svm-full")
    assert resolve(full.factory)(**full.config).dropped == "prior"


def test_simulated_study_writes_figures(tmp_path):
    from reference_models.topcap import simulate

    paths = simulate.run(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["topcap_sim_time_series.png", "topcap_sim_summary.csv"]
        + [f"topcap_sim_{f}.png" for f in ("frequency", "amplitude", "average_line")]
    )
    assert all(p.stat().st_size > 10_000 for p in paths if p.suffix == ".png")
    rows = list(csv.DictReader((tmp_path / "topcap_sim_summary.csv").open()))
    pure = [r for r in rows if r["c"] == "4"]
    varied = [r for r in rows if r["c"] != "4"]
    # a pure cosine embeds as one circle: a single H1 point; variation adds small ones
    assert all(int(r["n_points"]) == 1 for r in pure)
    assert all(int(r["n_points"]) > 10 for r in varied)
    assert all(float(r["top_lifetime"]) < float(pure[0]["top_lifetime"]) for r in varied)


def test_dropped_prior_scores_pipeline_drops_but_not_invalid_input():
    rng = np.random.default_rng(0)
    t = np.arange(2400) / 16000
    env = np.hanning(2400)
    voiced = [(0.5 * env * np.sin(2 * np.pi * f * t)).astype(np.float32)
              for f in rng.uniform(110, 220, 12)]
    noise = [(0.1 * env * rng.standard_normal(2400)).astype(np.float32) for _ in range(12)]
    short = [np.zeros(100, dtype=np.float32) + 0.1 for _ in range(6)]  # too short: dropped
    X = voiced + noise + short
    y = np.array([1] * 12 + [0] * 12 + [0] * 6)
    clf = TopCapClassifier(learner="logreg", dropped="prior").fit(X, y)
    p = clf.predict_proba([short[0], np.full(800, np.nan, dtype=np.float32)])
    assert p[0, 1] == pytest.approx(clf.dropped_voiced_rate_)
    assert np.isnan(p[1]).all()  # invalid input is not "dropped by the pipeline"
    abstain = TopCapClassifier(learner="logreg").fit(X, y)
    assert np.isnan(abstain.predict_proba([short[0]])).all()
