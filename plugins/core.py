"""Core plugin: the two tasks, the classification metrics and the leaderboard renderers."""

from __future__ import annotations

from bench import hookimpl
from bench.specs import MetricSpec, ReporterSpec, TaskSpec

CLASSIFICATION = ("accuracy", "balanced-accuracy", "f1", "roc-auc")


@hookimpl
def bench_register_tasks(register):
    register(TaskSpec(
        name="consonant-voicing", version="1.0",
        description="Classify consonant segments (16 kHz) as voiced or voiceless.",
        protocol="bench.protocols:ConsonantVoicingMethod",
        runner="bench.tasks.consonant:ConsonantRunner",
        default_metrics=CLASSIFICATION, default_dataset="consonants-synthetic",
        validator="bench.devtools.validate:validate_consonant",
        method_template="bench.devtools.templates:consonant_method.py.tmpl"))
    register(TaskSpec(
        name="talking-face", version="1.0",
        description="Generate lip-synced frames from identity frames and driving audio (25 fps, "
                    "16 kHz).",
        protocol="bench.protocols:TalkingFaceMethod",
        runner="bench.tasks.talking_face:TalkingFaceRunner",
        default_metrics=("lse-c", "lse-d", "lse-c-v2", "lse-d-v2", "fid", "lpips", "ssim", "psnr",
                         "ssim-frame", "psnr-frame"),
        default_dataset="talking-faces-synthetic",
        validator="bench.devtools.validate:validate_talking_face",
        method_template="bench.devtools.templates:talking_face_method.py.tmpl"))


@hookimpl
def bench_register_metrics(register):
    directions = {name: "higher" for name in CLASSIFICATION}
    for name in CLASSIFICATION:
        register(MetricSpec(
            name=name, task="consonant-voicing", direction=directions[name],
            factory="bench.metrics.classification:ClassificationMetric", options={"name": name},
            description=f"{name} with voiced as the positive class, threshold 0.5",
            # accuracy is a mean of paired correctness: McNemar's exact test, from y and p
            **({"paired_test": "mcnemar", "sample_keys": ("y", "p")} if name == "accuracy"
               else {})))


@hookimpl
def bench_register_reporters(register):
    register(ReporterSpec("markdown", "md", "bench.reporting.reporters.markdown:render", "Markdown tables"))
    register(ReporterSpec("csv", "csv", "bench.reporting.reporters.csv:render", "one row per cell"))
    register(ReporterSpec("html", "html", "bench.reporting.reporters.html:render", "standalone page"))
