"""The flow transformers inside scikit-learn and imbalanced-learn pipelines."""

import pickle

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

from sklearn_2dbm import (
    DuplicateAwareStratifiedKFold,
    FlowPreprocessor,
    FlowWindower,
    parse_window_columns,
)


@pytest.fixture(scope="module")
def flows():
    """Imbalanced flows: 6 numeric features, 2 string columns, host and time."""
    X_num, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        weights=[0.85, 0.15],
        random_state=0,
    )
    rng = np.random.RandomState(0)
    X = pd.DataFrame(X_num, columns=[f"f{i}" for i in range(6)])
    X["sbytes"] = rng.lognormal(6, 2, size=len(X)).round()
    X["proto"] = rng.choice(["tcp", "udp", "icmp"], size=len(X), p=[0.6, 0.3, 0.1])
    X["state"] = np.where(y == 1, "INT", rng.choice(["FIN", "CON"], size=len(X)))
    X["host"] = rng.choice(["10.0.0.1", "10.0.0.2", "10.0.0.3"], size=len(X))
    X["stime"] = rng.permutation(len(X)) + 1_421_927_000
    return X, y


def _steps(window=3):
    return [
        ("preprocess", FlowPreprocessor(passthrough=["host", "stime"])),
        ("windower", FlowWindower(window=window, group_by="host", order_by="stime")),
    ]


def _pipeline(window=3):
    pipe = Pipeline([*_steps(window), ("classifier", LogisticRegression())])
    # The windower needs host and time with their own dtypes: pandas output.
    return pipe.set_output(transform="pandas")


def test_sklearn_pipeline_one_prediction_per_row(flows):
    X, y = flows
    pipe = _pipeline().fit(X, y)

    assert pipe.predict(X).shape == (len(X),)
    assert pipe.predict_proba(X.head(7)).shape == (7, 2)
    n_flow_features = len(pipe["preprocess"].get_feature_names_out()) - 2
    assert pipe["classifier"].n_features_in_ == 3 * n_flow_features
    windows = pipe[:-1].transform(X)
    assert parse_window_columns(windows.columns)[0] == 3


def test_nested_set_params_changes_the_window(flows):
    X, y = flows
    pipe = _pipeline(window=3)
    pipe.set_params(windower__window=5, preprocess__min_frequency=None)
    pipe.fit(X, y)

    assert pipe.get_params()["windower__window"] == 5
    n_flow_features = len(pipe["preprocess"].get_feature_names_out()) - 2
    assert pipe["classifier"].coef_.shape == (1, 5 * n_flow_features)


def test_cross_val_score_with_duplicate_aware_folds(flows):
    X, y = flows
    cv = DuplicateAwareStratifiedKFold(n_splits=3, random_state=0)

    scores = cross_val_score(_pipeline(), X, y, cv=cv, scoring="balanced_accuracy")
    assert scores.shape == (3,)
    assert np.all(scores > 0.5)


def test_grid_search_over_window(flows):
    X, y = flows
    search = GridSearchCV(_pipeline(), {"windower__window": [1, 2]}, cv=2)
    search.fit(X, y)

    assert search.best_params_["windower__window"] in (1, 2)
    assert search.predict(X).shape == (len(X),)


@pytest.mark.parametrize(
    "sampler",
    [SMOTE(k_neighbors=3, random_state=0), RandomUnderSampler(random_state=0)],
    ids=["smote", "under"],
)
def test_imblearn_pipeline_with_sampler(flows, sampler):
    X, y = flows
    pipe = ImbPipeline(
        [*_steps(), ("sampler", sampler), ("classifier", LogisticRegression())]
    ).set_output(transform="pandas")
    pipe.fit(X, y)

    # The sampler keeps the window columns, so the classifier sees the names.
    names = pipe["classifier"].feature_names_in_
    assert parse_window_columns(names) is not None
    assert pipe.predict(X).shape == (len(X),)

    scores = cross_val_score(pipe, X, y, cv=3, scoring="balanced_accuracy")
    assert scores.shape == (3,)


def test_sampler_output_keeps_window_columns(flows):
    X, y = flows
    windows = Pipeline(_steps()).set_output(transform="pandas").fit_transform(X, y)
    X_res, y_res = SMOTE(k_neighbors=3, random_state=0).fit_resample(windows, y)

    assert isinstance(X_res, pd.DataFrame)
    assert list(X_res.columns) == list(windows.columns)
    assert np.bincount(y_res)[0] == np.bincount(y_res)[1]


def test_pipeline_without_grouping_on_arrays():
    X, y = make_classification(n_samples=120, n_features=5, random_state=1)
    pipe = Pipeline(
        [
            ("preprocess", FlowPreprocessor()),
            ("windower", FlowWindower(window=2)),
            ("classifier", LogisticRegression()),
        ]
    ).fit(X, y)

    assert pipe.predict(X).shape == (120,)
    assert pipe["classifier"].n_features_in_ == 10


def test_pipeline_clone_and_pickle(flows):
    X, y = flows
    pipe = clone(_pipeline()).fit(X, y)

    restored = pickle.loads(pickle.dumps(pipe))
    assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))
