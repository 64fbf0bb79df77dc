"""scikit-learn counterparts of the eight learners of the TopCap v1 table, with their search grids.

The authors used MATLAB's Classification Learner with Bayesian hyperparameter optimisation and
did not record the chosen values; these grids cover the same knobs MATLAB tunes for each model.
"""

from __future__ import annotations

from typing import Any

from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

LEARNERS = ("tree", "discriminant", "logreg", "nb", "svm", "knn", "ensemble", "mlp")

# The MATLAB model each learner stands in for (v1 results table).
MATLAB_NAMES = {
    "tree": "Optimizable Tree",
    "discriminant": "Optimizable Discriminant",
    "logreg": "Logistic Regression",
    "nb": "Optimizable Naive Bayes",
    "svm": "Optimizable SVM",
    "knn": "Optimizable KNN",
    "ensemble": "Optimizable Ensemble",
    "mlp": "Optimizable Neural Network",
}

KNN_NEIGHBOURS = (1, 3, 5, 9, 15, 25, 35)


def learner_pipeline(learner: str, seed: int) -> tuple[Pipeline, list[dict[str, Any]]]:
    """The pipeline for ``learner`` and its GridSearchCV parameter grid (a list of sub-grids)."""
    if learner == "tree":
        pipe = Pipeline([("clf", DecisionTreeClassifier(random_state=seed))])
        grid = [
            {"clf__min_samples_leaf": [1, 2, 5, 10, 20, 50], "clf__criterion": ["gini", "entropy"]}
        ]
    elif learner == "discriminant":
        # MATLAB searches the discriminant type (linear vs quadratic) and regularisation.
        pipe = Pipeline([("clf", LinearDiscriminantAnalysis())])
        grid = [
            {
                "clf": [LinearDiscriminantAnalysis(solver="lsqr")],
                "clf__shrinkage": [None, 0.1, 0.5],
            },
            {"clf": [QuadraticDiscriminantAnalysis()], "clf__reg_param": [0.0, 0.01, 0.1]},
        ]
    elif learner == "logreg":
        pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
        grid = [{"clf__C": [0.01, 0.1, 1.0, 10.0, 100.0]}]
    elif learner == "nb":
        pipe = Pipeline([("clf", GaussianNB())])
        grid = [{"clf__var_smoothing": [1e-9, 1e-6, 1e-3, 1e-1]}]
    elif learner == "svm":
        pipe = Pipeline(
            # Probabilities (Platt scaling, an inner 5-fold CV) are switched on only for the final
            # refit: the search ranks by accuracy, which does not need them.
            [("scale", StandardScaler()), ("clf", SVC(kernel="rbf", random_state=seed))]
        )
        grid = [{"clf__C": [0.1, 1.0, 10.0, 100.0], "clf__gamma": ["scale", 0.1, 1.0, 10.0]}]
    elif learner == "knn":
        pipe = Pipeline([("scale", StandardScaler()), ("clf", KNeighborsClassifier())])
        grid = [{"clf__n_neighbors": list(KNN_NEIGHBOURS), "clf__weights": ["uniform", "distance"]}]
    elif learner == "ensemble":
        # MATLAB's optimisable ensemble chooses between bagging and boosting of trees.
        pipe = Pipeline([("clf", RandomForestClassifier(random_state=seed))])
        grid = [
            {
                "clf": [RandomForestClassifier(n_estimators=100, random_state=seed)],
                "clf__min_samples_leaf": [1, 5, 20],
            },
            {
                "clf": [AdaBoostClassifier(random_state=seed)],
                "clf__n_estimators": [50, 100],
                "clf__learning_rate": [0.1, 1.0],
            },
        ]
    elif learner == "mlp":
        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                ("clf", MLPClassifier(solver="lbfgs", max_iter=2000, random_state=seed)),
            ]
        )
        grid = [
            {"clf__hidden_layer_sizes": [(10,), (25,), (10, 10)], "clf__alpha": [1e-4, 1e-2, 1.0]}
        ]
    else:
        raise ValueError(f"unknown TopCap learner {learner!r}; choose from {', '.join(LEARNERS)}")
    return pipe, grid


def final_params(learner: str) -> dict[str, Any]:
    """Parameters set on the best pipeline before its final refit."""
    return {"clf__probability": True} if learner == "svm" else {}


def limit_neighbours(grid: list[dict[str, Any]], n_train_fold: int) -> list[dict[str, Any]]:
    """Drop kNN sizes larger than the smallest training fold (they cannot be fitted)."""
    out = []
    for sub in grid:
        sub = dict(sub)
        if "clf__n_neighbors" in sub:
            fitting = [k for k in sub["clf__n_neighbors"] if k <= n_train_fold]
            sub["clf__n_neighbors"] = fitting or [1]
        out.append(sub)
    return out
