"""The classifiers inside scikit-learn and imbalanced-learn tooling."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    window_column_names,
)

TINY = dict(
    hidden_size=4,
    max_epochs=3,
    batch_size=32,
    learning_rate=0.03,
    early_stopping=False,
    n_threads=1,
    random_state=0,
)
CV = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)


def windowed_frame(n=120, window=3, n_features=3, seed=0, minority=None):
    """A windowed DataFrame following the column contract, and labels."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, window, n_features))
    y = (X[:, -1, 0] + 0.5 * X[:, 0, 1] > 0).astype(int)
    if minority is not None:
        y = (X[:, -1, 0] > minority).astype(int)
    names = window_column_names(window, [f"f{i}" for i in range(n_features)])
    return pd.DataFrame(X.reshape(n, -1), columns=names), y


def scaled_pipeline(clf):
    scaler = StandardScaler().set_output(transform="pandas")
    return Pipeline([("scale", scaler), ("clf", clf)])


def test_pipeline_keeps_the_window_and_nested_set_params():
    X, y = windowed_frame()
    pipe = scaled_pipeline(BiLSTMTeacherClassifier(**TINY))

    pipe.set_params(clf__hidden_size=6, clf__max_epochs=2)
    pipe.fit(X, y)

    clf = pipe.named_steps["clf"]
    assert clf.window_ == 3 and clf.n_flow_features_ == 3
    assert clf.module_.lstm.hidden_size == 6
    assert pipe.predict_proba(X).shape == (len(X), 2)


def test_grid_search_over_architecture_and_distillation_args():
    X, y = windowed_frame()
    teacher = BiLSTMTeacherClassifier(**TINY)
    search = GridSearchCV(
        DistilledStudentClassifier(teacher, **TINY),
        {"hidden_size": [2, 4], "temperature": [1.0, 4.0]},
        cv=CV,
    )

    search.fit(X, y)

    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.hidden_size in (2, 4)
    assert search.predict(X).shape == (len(X),)


def test_grid_search_in_parallel_workers():
    """joblib's loky workers limit torch's threads; two jobs run fine."""
    X, y = windowed_frame()
    search = GridSearchCV(
        scaled_pipeline(BiLSTMTeacherClassifier(**{**TINY, "n_threads": None})),
        {"clf__hidden_size": [2, 4]},
        cv=CV,
        n_jobs=2,
    )

    search.fit(X, y)

    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_cross_validation():
    X, y = windowed_frame()
    clf = BiLSTMTeacherClassifier(**TINY)

    scores = cross_val_score(clf, X, y, cv=CV)
    proba = cross_val_predict(clf, X, y, cv=CV, method="predict_proba")

    assert scores.shape == (2,)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_calibration():
    X, y = windowed_frame()

    calibrated = CalibratedClassifierCV(BiLSTMTeacherClassifier(**TINY), cv=2)
    calibrated.fit(X, y)

    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "sampler",
    [SMOTE(k_neighbors=3, random_state=0), RandomUnderSampler(random_state=0)],
    ids=["smote", "undersample"],
)
def test_imblearn_sampler_before_the_classifier(sampler):
    X, y = windowed_frame(n=150, minority=1.0)
    assert 5 < y.sum() < 40
    pipe = ImbPipeline(
        [("sampler", sampler), ("clf", DistilledStudentClassifier(**TINY))]
    )

    pipe.fit(X, y)

    clf = pipe.named_steps["clf"]
    assert clf.window_ == 3
    assert clf.teacher_.window_ == 3
    assert pipe.predict(X).shape == (len(X),)


_FRESH_PROCESS = """
import pickle, sys
import joblib
import numpy as np
with open(sys.argv[1], "rb") as f:
    pipe = pickle.load(f)
X = pickle.load(open(sys.argv[2], "rb"))
other = joblib.load(sys.argv[3])
np.save(sys.argv[4], np.stack([pipe.predict_proba(X), other.predict_proba(X)]))
"""


def test_pickle_and_joblib_in_a_fresh_process(tmp_path):
    X, y = windowed_frame()
    pipe = scaled_pipeline(DistilledStudentClassifier(**TINY)).fit(X, y)
    expected = pipe.predict_proba(X)
    (tmp_path / "pipe.pkl").write_bytes(pickle.dumps(pipe))
    (tmp_path / "X.pkl").write_bytes(pickle.dumps(X))
    joblib.dump(pipe, tmp_path / "pipe.joblib")

    subprocess.run(
        [
            sys.executable,
            "-c",
            _FRESH_PROCESS,
            str(tmp_path / "pipe.pkl"),
            str(tmp_path / "X.pkl"),
            str(tmp_path / "pipe.joblib"),
            str(tmp_path / "out.npy"),
        ],
        check=True,
        timeout=120,
    )

    from_pickle, from_joblib = np.load(tmp_path / "out.npy")
    np.testing.assert_array_equal(from_pickle, expected)
    np.testing.assert_array_equal(from_joblib, expected)
