"""The classifiers inside scikit-learn and imbalanced-learn tooling."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
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
    FlowPreprocessor,
    FlowWindower,
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


def scaled_pipeline(clf, pandas_output=True):
    scaler = StandardScaler()
    if pandas_output:
        scaler.set_output(transform="pandas")
    return Pipeline([("scale", scaler), ("clf", clf)])


@pytest.fixture(scope="module")
def flows():
    """A raw flow table with a string column and about one attack in seven."""
    rng = np.random.RandomState(0)
    n = 140
    frame = pd.DataFrame(
        {
            "dur": rng.exponential(1.0, size=n),
            "sbytes": rng.lognormal(6, 2, size=n),
            "ttl": rng.choice([31, 62, 254], size=n),
            "proto": rng.choice(["tcp", "udp", "icmp"], size=n, p=[0.6, 0.3, 0.1]),
        }
    )
    y = np.where(
        frame["sbytes"] > np.quantile(frame["sbytes"], 0.86), "attack", "normal"
    )
    return frame, y


class ThreadRecordingTeacher(BiLSTMTeacherClassifier):
    """Records torch's intra-op thread count at fit (module level: it pickles)."""

    def fit(self, X, y):
        self.fit_threads_ = torch.get_num_threads()
        return super().fit(X, y)


def fit_threads(estimator, X, y):
    """A scorer that reports the thread count the worker's fit saw."""
    return estimator[-1].fit_threads_


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
    """joblib's loky workers limit torch's threads to cores // n_jobs, so two
    jobs do not oversubscribe the cores, with n_threads left at None."""
    X, y = windowed_frame()
    search = GridSearchCV(
        scaled_pipeline(ThreadRecordingTeacher(**{**TINY, "n_threads": None})),
        {"clf__hidden_size": [2, 4]},
        scoring={"accuracy": "accuracy", "threads": fit_threads},
        refit="accuracy",
        cv=CV,
        n_jobs=2,
    )

    search.fit(X, y)

    assert np.isfinite(search.cv_results_["mean_test_accuracy"]).all()
    expected = max(joblib.cpu_count() // 2, 1)  # 1 on a 2-core machine
    threads = [search.cv_results_[f"split{i}_test_threads"] for i in range(CV.n_splits)]
    np.testing.assert_array_equal(np.concatenate(threads), expected)


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


@pytest.mark.parametrize(
    "sampler",
    [SMOTE(k_neighbors=3, random_state=0), RandomUnderSampler(random_state=0)],
    ids=["smote", "undersample"],
)
def test_sampler_after_the_windower_on_raw_flows(sampler, flows):
    X, y = flows
    assert (y == "attack").mean() < 0.2
    pipe = ImbPipeline(
        [
            ("pre", FlowPreprocessor(min_frequency=5)),
            ("window", FlowWindower(window=3)),
            ("sampler", sampler),
            ("clf", DistilledStudentClassifier(**TINY)),
        ]
    )

    pipe.fit(X, y)

    clf = pipe.named_steps["clf"]
    assert clf.window_ == 3 and clf.teacher_.window_ == 3
    y_pred = pipe.predict(X)
    assert y_pred.shape == (len(X),)
    assert set(y_pred) <= {"attack", "normal"}


@pytest.mark.parametrize(
    "estimator", [BiLSTMTeacherClassifier, DistilledStudentClassifier]
)
def test_window_parameter_restores_numpy_input(estimator):
    """A step with NumPy output drops the window's column names: window=None
    then reads one flow per row, window=3 restores the DataFrame's model."""
    X, y = windowed_frame()

    from_frame = scaled_pipeline(estimator(**TINY)).fit(X, y)
    lost = scaled_pipeline(estimator(**TINY), pandas_output=False).fit(X, y)
    restored = scaled_pipeline(estimator(window=3, **TINY), pandas_output=False)
    restored.fit(X, y)

    assert from_frame[-1].window_ == 3
    assert lost[-1].window_ == 1 and lost[-1].n_flow_features_ == 9
    assert restored[-1].window_ == 3 and restored[-1].n_flow_features_ == 3
    np.testing.assert_array_equal(
        restored.predict_proba(X), from_frame.predict_proba(X)
    )


_FRESH_PROCESS = """
import pickle, sys
import joblib
with open(sys.argv[1], "rb") as f:
    pipe = pickle.load(f)
with open(sys.argv[2], "rb") as f:
    X = pickle.load(f)
other = joblib.load(sys.argv[3])
out = {
    "pickle": (pipe.predict(X), pipe.predict_proba(X)),
    "joblib": (other.predict(X), other.predict_proba(X)),
}
with open(sys.argv[4], "wb") as f:
    pickle.dump(out, f)
"""


def test_full_pipeline_pickle_and_joblib_in_a_fresh_process(flows, tmp_path):
    X, y = flows
    student = DistilledStudentClassifier(
        BiLSTMTeacherClassifier(hidden_size=4, max_epochs=2), **TINY
    )
    pipe = Pipeline(
        [
            ("pre", FlowPreprocessor(min_frequency=5)),
            ("window", FlowWindower(window=3)),
            ("clf", student),
        ]
    ).fit(X, y)
    expected = pipe.predict(X), pipe.predict_proba(X)
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
            str(tmp_path / "out.pkl"),
        ],
        check=True,
        timeout=120,
    )

    out = pickle.loads((tmp_path / "out.pkl").read_bytes())
    for labels, proba in out.values():
        np.testing.assert_array_equal(labels, expected[0])
        np.testing.assert_array_equal(proba, expected[1])
