"""Typed statuses and directions, the runs layout, declared capabilities and task-carried tools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.interfaces import BatchedRunner, ExplainsDrops, ReportsDetails
from bench.execution.layout import RunsLayout
from bench.execution.runner import Unit, lock_path, record_path
from bench.reporting.significance import PairedTest
from bench.specs import MethodSpec, MetricSpec, TaskSpec
from bench.execution.stats import mcnemar_pvalue, paired_bootstrap_pvalue
from bench.status import Direction, MethodStatus, Status
from bench.tasks.consonant import _no_prediction
from bench.devtools.validate import runner_check, validate_method, validate_metric


def test_status_and_direction_are_their_json_strings():
    assert json.dumps({"s": Status.NOT_APPLICABLE, "d": Direction.LOWER}) == \
        '{"s": "n/a", "d": "lower"}'
    assert f"{Status.FAILED}" == "failed" and Status("partial") is Status.PARTIAL
    assert MethodStatus(Status.UNAVAILABLE, "no weights").text == "unavailable: no weights"
    assert Direction.LOWER.better(1.0, 2.0) and not Direction.HIGHER.better(1.0, 2.0)
    assert Direction.HIGHER.best([1.0, 3.0, 2.0]) == 3.0 and Direction.LOWER.best([2.0, 1.0]) == 1.0


def test_metric_spec_types_direction_and_checks_its_paired_test():
    spec = MetricSpec("m", "t", "lower", "x:y")
    assert spec.direction is Direction.LOWER
    with pytest.raises(ValueError, match="direction"):
        MetricSpec("m", "t", "sideways", "x:y")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="paired_test must be one of"):
        MetricSpec("m", "t", "higher", "x:y", paired_test="ttest")
    with pytest.raises(ValueError, match="needs sample_keys"):
        MetricSpec("m", "t", "higher", "x:y", paired_test="mcnemar")


def test_runs_layout_is_where_the_runner_writes(tmp_path):
    unit = Unit("task", "method", "data", "test", ("m",), runs_dir=str(tmp_path), limit=5)
    layout = RunsLayout(tmp_path)
    rec = record_path(tmp_path, unit)
    assert rec == tmp_path / "records/task/data/test/method.limit5.json"
    assert rec == layout.record("task", "data", "test", "method.limit5")
    assert lock_path(unit) == tmp_path / "locks/task/data/test/method.limit5.lock"
    checked = record_path(tmp_path, Unit("task", "method", "data", "test", ("m",), purpose="check"))
    assert checked == tmp_path / "check/records/task/data/test/method.json"
    assert layout.samples(rec).name == "method.limit5.samples.jsonl"
    assert layout.failure(rec).name == "method.limit5.failed.json"
    rec.parent.mkdir(parents=True)
    rec.write_text("{}")
    checked.parent.mkdir(parents=True)
    checked.write_text("{}")
    assert layout.find_records() == [rec]  # check and verify records are not run records


def _mean_correct(values):
    return float(np.mean([(v["prob"] >= 0.5) == bool(v["label"]) for v in values]))


def test_paired_test_comes_from_the_spec_not_the_metric_name():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 40)
    a = [{"label": int(y), "prob": float(p)} for y, p in zip(labels, rng.random(40))]
    b = [{"label": int(y), "prob": float(p)} for y, p in zip(labels, rng.random(40))]
    ca = [(v["prob"] >= 0.5) == bool(v["label"]) for v in a]
    cb = [(v["prob"] >= 0.5) == bool(v["label"]) for v in b]
    mcnemar = PairedTest(_mean_correct, "mcnemar", ("label", "prob"))
    assert mcnemar.pvalue(a, b) == mcnemar_pvalue(ca, cb)
    boot = PairedTest(_mean_correct)
    assert boot.pvalue(a, b, 200) == paired_bootstrap_pvalue(a, b, _mean_correct, 200, 0)[1]


class _Runner:
    def prepare(self, method, dataset, split, seed):
        return {}

    def predict(self, method, sample):
        return {}

    def check(self, sample, prediction):
        pass


class BadBatchRunner(_Runner):
    batch_size = 0


class GoodBatchRunner(_Runner):
    batch_size = 4


def _task(runner: str, **extra) -> TaskSpec:
    return TaskSpec("third-task", "1", "", "test_typed_harness:ThirdMethod",
                    f"test_typed_harness:{runner}", **extra)


def test_runner_capabilities_are_checked():
    assert isinstance(GoodBatchRunner(), BatchedRunner) and not isinstance(_Runner(), BatchedRunner)
    assert runner_check(_task("GoodBatchRunner")) == "GoodBatchRunner (BatchedRunner)"
    with pytest.raises(AssertionError, match="batch_size is 0, want a positive int"):
        runner_check(_task("BadBatchRunner"))


class ThirdMethod:
    def answer(self) -> int:
        return 42


def validate_third(build, seed):
    from bench.devtools.validate import Check

    return [Check("answers", build().answer() == 42, "the answer")]


def test_a_third_task_brings_its_own_validator():
    spec = MethodSpec("third", "third-task", "1", "test_typed_harness:ThirdMethod")
    with_validator = _task("GoodBatchRunner", validator="test_typed_harness:validate_third")
    checks = validate_method(spec, ThirdMethod, task=with_validator)
    assert [c.name for c in checks] == ["declared interface",
                                        "task runner and its declared capabilities", "answers"]
    assert all(c.ok for c in checks)
    without = validate_method(spec, ThirdMethod, task=_task("GoodBatchRunner"))
    assert not without[-1].ok and "declares no validator" in without[-1].detail


class DetailedMetric:
    last_details = {"n": 3}

    def fingerprint(self):
        return {}

    def per_sample(self, sample, prediction):
        return {}

    def aggregate(self, values):
        return 0.0


def test_validate_metric_reports_its_capabilities():
    spec = MetricSpec("detailed", "t", "higher", "test_typed_harness:DetailedMetric")
    checks = validate_metric(spec)
    assert all(c.ok for c in checks), checks
    assert checks[-1].detail == "ReportsDetails; paired test: bootstrap"
    assert isinstance(DetailedMetric(), ReportsDetails)
    bad = validate_metric(MetricSpec("bad", "t", "higher", "test_typed_harness:ThirdMethod"))
    assert not bad[0].ok and "does not implement Metric" in bad[0].detail


def test_drop_reasons_are_a_declared_capability():
    class Dropper:
        last_drop_reasons_ = [None, "too short"]

    assert isinstance(Dropper(), ExplainsDrops)
    assert "too short" in str(_no_prediction(Dropper(), 1))
    assert "NaN probabilities" in str(_no_prediction(object(), 1))


def test_layout_paths_are_relative_to_the_root():
    layout = RunsLayout("runs")
    assert layout.score_log("k") == Path("runs/cache/scores/k.jsonl")
    assert layout.prediction_log("k") == Path("runs/cache/predictions/k/predictions.jsonl")
    assert layout.artifacts == Path("runs/cache/artifacts")
