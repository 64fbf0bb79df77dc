"""Registers the TopCap reference classifiers (arXiv:2311.15210) for the consonant-voicing task.

One method per learner of the paper's table on the v2 feature pipeline, plus the v1 pipeline with
the SVM. Nothing heavy is imported here: the factory is a lazy reference.
"""

from __future__ import annotations

import bench
from bench.specs import MethodSpec

TASK = "consonant-voicing"
PAPER = "arXiv:2311.15210"
VERSION = "1.0"
FACTORY = "plugins.topcap:make_classifier"
# Seeded with the run seed, one BLAS thread in this process and in the CV workers, OpenBLAS's
# kernel path pinned: the MLP's numbers otherwise depend on the CPU (docs/reproducibility.md).
REPRODUCIBLE = {"threads": 1, "pin_kernels": True}

# Kept here rather than imported from reference_models so listing methods stays cheap.
LEARNERS = {
    "tree": "decision tree (MATLAB Optimizable Tree)",
    "discriminant": "linear or quadratic discriminant (MATLAB Optimizable Discriminant)",
    "logreg": "logistic regression",
    "nb": "Gaussian naive Bayes (MATLAB Optimizable Naive Bayes)",
    "svm": "RBF SVM (MATLAB Optimizable SVM)",
    "knn": "k nearest neighbours (MATLAB Optimizable KNN)",
    "ensemble": "random forest or AdaBoost (MATLAB Optimizable Ensemble)",
    "mlp": "multilayer perceptron (MATLAB Optimizable Neural Network)",
}


def method_specs() -> list[MethodSpec]:
    """The TopCap method rows: ``topcap-<learner>`` (v2 features) and ``topcap-svm-v1``."""
    specs = [
        MethodSpec(
            name=f"topcap-{learner}",
            task=TASK,
            version=VERSION,
            factory=FACTORY,
            description=f"TopCap (birth, lifetime) of the most persistent H1 point, v2 pipeline; {text}, "
            "tuned by 5-fold grid search",
            config={"learner": learner, "variant": "v2", "n_jobs": 2},
            reference=learner == "svm",
            paper=PAPER,
            **REPRODUCIBLE,
        )
        for learner, text in LEARNERS.items()
    ]
    specs.append(
        MethodSpec(
            name="topcap-svm-v1",
            task=TASK,
            version=VERSION,
            factory=FACTORY,
            description="TopCap v1 pipeline (trim at 0.03, tau = round(2*pi*T/100)); "
            f"{LEARNERS['svm']}, tuned by 5-fold grid search",
            config={"learner": "svm", "variant": "v1", "n_jobs": 2},
            paper=PAPER,
            **REPRODUCIBLE,
        )
    )
    specs.append(
        MethodSpec(
            name="topcap-svm-full",
            task=TASK,
            version=VERSION,
            factory=FACTORY,
            description="TopCap v2 + SVM; segments TopCap drops (no usable loop) are scored with "
            "the voiced rate of the dropped training segments instead of abstaining",
            config={"learner": "svm", "variant": "v2", "n_jobs": 2, "dropped": "prior"},
            paper=PAPER,
            **REPRODUCIBLE,
        )
    )
    return specs


def _encode(result):
    return {"feature": [float(x) for x in result.feature], "reason": result.reason,
            "period": result.period, "tau": result.tau, "n_points": result.n_points}


def _decode(data):
    import numpy as np

    from reference_models.topcap.features import SegmentResult

    return SegmentResult(np.array(data["feature"], dtype=float), data["reason"], data["period"],
                         data["tau"], data["n_points"])


def make_classifier(seed: int = 0, **config):
    """A TopCapClassifier whose features persist on disk, shared by every TopCap row and run.

    Keys carry the variant and the waveform's content hash, so a cached feature is only reused
    for the same samples under the same pipeline.
    """
    from bench.feature_cache import JsonDiskCache
    from reference_models.topcap.shared_features import SharedFeatures
    from reference_models.topcap.features import FEATURES_VERSION

    cache = JsonDiskCache(f"topcap-features-{FEATURES_VERSION}", _encode, _decode)
    return SharedFeatures(feature_cache=cache, seed=seed, **config)


@bench.hookimpl
def bench_register_methods(register) -> None:
    """Register the nine TopCap methods."""
    for spec in method_specs():
        register(spec)
