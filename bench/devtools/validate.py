"""``bench validate-plugin``: run a method on tiny generated inputs and check its contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from bench.lazy import resolve
from bench.execution.runner import method_config, seed_everything
from bench.samples import SPEECH_SAMPLE_RATE, VIDEO_FPS, Clip, Segment
from bench.interfaces import (
    CAPABILITIES,
    BatchedRunner,
    BootstrapLimited,
    ColumnAggregate,
    DrawAggregate,
    Metric,
    ReportsDetails,
    ShardedRunner,
    TaskRunner,
)
from bench.specs import MethodSpec, MetricSpec, TaskSpec


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def _segments(seed: int) -> tuple[list[Segment], np.ndarray]:
    """Voiced-like (harmonic) and voiceless-like (noise) segments of several lengths.

    Each rises and falls (a Hann envelope) as real consonant segments do.
    """
    rng = np.random.default_rng(seed)
    segs, labels = [], []
    for i, n in enumerate([800, 1600, 2400, 4000] * 6):
        label = i % 2
        t = np.arange(n) / SPEECH_SAMPLE_RATE
        f0 = rng.uniform(100, 220)
        wave = (0.4 * np.sin(2 * np.pi * f0 * t) + 0.2 * np.sin(4 * np.pi * f0 * t) if label
                else 0.1 * rng.standard_normal(n)) * np.hanning(n)
        segs.append(Segment(f"v{i}", wave.astype(np.float32), SPEECH_SAMPLE_RATE,
                            "M" if label else "S", label, "validator", "generated"))
        labels.append(label)
    return segs, np.array(labels)


def _clip(seed: int, seconds: float, size: int = 128) -> Clip:
    rng = np.random.default_rng(seed)
    n_frames = int(seconds * VIDEO_FPS) + 2
    base = rng.integers(0, 255, (1, size, size, 3), dtype=np.uint8)
    frames = np.repeat(base, n_frames, axis=0)
    box = np.array([size // 8, size // 8, size - size // 8, size - size // 8])
    audio = (0.1 * rng.standard_normal(int(seconds * SPEECH_SAMPLE_RATE))).astype(np.float32)
    return Clip(f"validator-{seconds}s", frames, np.tile(box, (n_frames, 1)), audio,
                target=frames.copy())


def _run(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn() or "")
    except AssertionError as exc:
        return Check(name, False, str(exc))
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def validate_consonant(factory: Callable[[], Any], seed: int = 0) -> list[Check]:
    segs, labels = _segments(seed)
    train, test = segs[:16], segs[16:]
    state: dict[str, Any] = {}

    def fit_predict() -> tuple[np.ndarray, Any]:
        seed_everything(seed)
        m = factory()
        m.fit(train, labels[:16])
        return np.asarray(m.predict_proba(test), dtype=float), m

    def shapes() -> str:
        p, state["m"] = fit_predict()
        state["p"] = p
        assert p.shape == (len(test), 2), f"predict_proba shape {p.shape}, want ({len(test)}, 2)"
        return f"shape {p.shape}"

    def ranges() -> str:
        p = state["p"]
        finite = p[np.isfinite(p).all(axis=1)]
        assert len(finite) == len(p), f"{len(p) - len(finite)} rows are NaN (dropped segments)"
        assert (finite >= 0).all() and (finite <= 1).all(), "probabilities outside [0, 1]"
        assert np.allclose(finite.sum(axis=1), 1, atol=1e-6), "rows do not sum to 1"
        return "probabilities in [0, 1], rows sum to 1"

    def determinism() -> str:
        p2, _ = fit_predict()
        assert np.allclose(state["p"], p2, equal_nan=True), "same seed gave different outputs"
        return "same seed, same outputs"

    def batch_independence() -> str:
        one = np.vstack([state["m"].predict_proba([s]) for s in test])
        assert np.allclose(one, state["p"], atol=1e-5, equal_nan=True), \
            "predicting one segment at a time differs from the batch"
        return "batch of 1 equals full batch"

    checks = [_run("fit and predict_proba shape", shapes)]
    if checks[0].ok:
        checks += [_run("probability range", ranges), _run("determinism under a seed", determinism),
                   _run("batch-size independence", batch_independence)]
    return checks


def validate_talking_face(factory: Callable[[], Any], seed: int = 0) -> list[Check]:
    state: dict[float, np.ndarray] = {}

    def contract(seconds: float) -> Callable[[], str]:
        def check() -> str:
            clip = _clip(seed, seconds)
            seed_everything(seed)
            out = np.asarray(factory().generate(clip))
            state[seconds] = out
            want = (clip.n_output_frames, *clip.frames.shape[1:3], 3)
            assert out.dtype == np.uint8, f"dtype {out.dtype}, want uint8"
            assert out.shape == want, f"shape {out.shape}, want {want} (frames for the audio)"
            return f"{seconds:g} s audio -> {out.shape[0]} frames at {VIDEO_FPS:g} fps"
        return check

    def determinism() -> str:
        clip = _clip(seed, 1.0)
        seed_everything(seed)
        again = np.asarray(factory().generate(clip))
        assert np.array_equal(again, state[1.0]), "same seed gave different frames"
        return "same seed, same frames"

    checks = [_run("output contract, 1 s audio", contract(1.0)),
              _run("output contract, 0.36 s audio", contract(0.36)),
              _run("output contract, 2.2 s audio", contract(2.2))]
    if checks[0].ok:
        checks.append(_run("determinism under a seed", determinism))
    return checks


def _positive_int(obj: Any, name: str, value: Any) -> None:
    assert isinstance(value, int) and value > 0, \
        f"{type(obj).__name__}.{name} is {value!r}, want a positive int"


def runner_check(task: TaskSpec) -> str:
    """The task's runner implements TaskRunner, and each optional capability it has is typed."""
    runner = resolve(task.runner)()
    name = type(runner).__name__
    assert isinstance(runner, TaskRunner), f"{name} does not implement TaskRunner"
    found = []
    for cap in CAPABILITIES["runner"]:
        if isinstance(runner, cap):
            found.append(cap.__name__)
    if isinstance(runner, BatchedRunner):
        _positive_int(runner, "batch_size", runner.batch_size)
    if isinstance(runner, ShardedRunner):
        _positive_int(runner, "shard_size", runner.shard_size)
    return f"{name}" + (f" ({', '.join(found)})" if found else "")


def validate_metric(spec: MetricSpec) -> list[Check]:
    """A metric builds from its spec, implements Metric, and its declared capabilities are typed."""
    state: dict[str, Any] = {}

    def build() -> str:
        state["m"] = resolve(spec.factory)(**dict(spec.options))
        metric = state["m"]
        assert isinstance(metric, Metric), f"{type(metric).__name__} does not implement Metric"
        json.dumps(dict(metric.fingerprint()), default=str)
        return f"{type(metric).__name__} implements Metric"

    def capabilities() -> str:
        metric, found = state["m"], []
        if isinstance(metric, BootstrapLimited):
            value = metric.bootstrap_resamples
            assert isinstance(value, int) and value >= 0, \
                f"bootstrap_resamples is {value!r}, want an int >= 0"
            found.append("BootstrapLimited")
        if isinstance(metric, ReportsDetails):
            assert isinstance(metric.last_details, Mapping), "last_details is not a mapping"
            found.append("ReportsDetails")
        # the harness checks each call's first draw against aggregate_columns (stats.py)
        found += [cap.__name__ for cap in (ColumnAggregate, DrawAggregate)
                  if isinstance(metric, cap)]
        return (", ".join(found) or "none") + f"; paired test: {spec.paired_test}"

    checks = [_run("builds and implements Metric", build)]
    if checks[0].ok:
        checks.append(_run("declared capabilities", capabilities))
    return checks


def validate_method(spec: MethodSpec, protocol: Any, seed: int = 0,
                    task: TaskSpec | None = None) -> list[Check]:
    """All checks for a registered method: its declared interface, then its task's contract
    checks (the task's ``validator``; ``task`` defaults to the registered one)."""
    factory = resolve(spec.factory)
    config = method_config(factory, spec.config, seed)  # the seed as the runner gives it

    def build() -> Any:
        return factory(**config)

    def interface() -> str:
        obj = build()
        assert isinstance(obj, protocol), \
            f"{type(obj).__name__} does not implement {protocol.__name__}"
        return f"{type(obj).__name__} implements {protocol.__name__}"

    checks = [_run("declared interface", interface)]
    if not checks[0].ok:
        return checks
    if task is None:
        from bench.discovery.loader import registries

        task = registries().tasks.get(spec.task)
    checks.append(_run("task runner and its declared capabilities", lambda: runner_check(task)))
    if task.validator is None:
        return checks + [Check("task checks", False, f"task {spec.task!r} declares no validator")]
    return checks + list(resolve(task.validator)(build, seed))
