"""Teacher and student on a sample of the real UNSW-NB15 testing partition."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    FlowWindower,
)
from sklearn_2dbm.datasets import load_unsw_nb15
from sklearn_2dbm.exceptions import DataQualityWarning

TRAINING = dict(
    max_epochs=4,
    batch_size=128,
    learning_rate=3e-3,
    n_threads=2,
    random_state=0,
)


@pytest.fixture(scope="module")
def windows(data_home):
    """4000 flows, stratified, in random order, one-hot encoded and scaled,
    windowed by 2. The random order means a flow's neighbour carries no
    information about its label: the score measures the flow itself."""
    with warnings.catch_warnings():
        # The loader's summary of repaired quirks is not under test here.
        warnings.simplefilter("ignore", DataQualityWarning)
        X, y = load_unsw_nb15(data_home=data_home, return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=4000, stratify=y, random_state=0)
    X = pd.get_dummies(X, columns=["proto", "service", "state"], dtype=float)
    X_train, X_test, y_train, y_test = train_test_split(
        X, np.asarray(y), test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().set_output(transform="pandas").fit(X_train)
    windower = FlowWindower(window=2, purity_threshold=None)
    X_train = windower.fit_transform(scaler.transform(X_train))
    X_test = windower.transform(scaler.transform(X_test))
    return X_train, X_test, y_train, y_test


@pytest.mark.slow
def test_teacher_and_student_beat_the_majority_baseline(windows):
    X_train, X_test, y_train, y_test = windows
    majority = max(np.mean(y_test), 1 - np.mean(y_test))

    teacher = BiLSTMTeacherClassifier(**TRAINING).fit(X_train, y_train)
    # The small student trains cheaply: more epochs at a higher rate.
    student = DistilledStudentClassifier(
        FrozenEstimator(teacher),
        **{**TRAINING, "max_epochs": 8, "learning_rate": 1e-2},
    )
    student.fit(X_train, y_train)

    assert teacher.window_ == student.window_ == 2
    for clf in (teacher, student):
        y_pred = clf.predict(X_test)
        score = balanced_accuracy_score(y_test, y_pred)
        print(f"{type(clf).__name__}: balanced accuracy {score:.3f}")
        assert score > 0.8
        assert np.mean(y_pred == y_test) > majority + 0.1
    assert student.n_parameters_ * 5 <= teacher.n_parameters_
