"""Weights-only files, pickling and loading CUDA models on CPU hosts."""

import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from skorch.exceptions import DeviceWarning

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    load_weights,
    save_weights,
    window_column_names,
)

TINY = dict(
    hidden_size=4,
    max_epochs=2,
    batch_size=32,
    learning_rate=0.02,
    early_stopping=False,
    n_threads=1,
    random_state=0,
)


def make_windows(n=90, window=2, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, window, n_features))
    y = np.digitize(X[:, -1, 0], [-0.4, 0.4])
    return X, y


@pytest.fixture(scope="module")
def data():
    return make_windows()


@pytest.fixture(scope="module")
def teacher(data):
    X, y = data
    return BiLSTMTeacherClassifier(**TINY).fit(X, y)


@pytest.fixture(scope="module")
def student(data, teacher):
    X, y = data
    return DistilledStudentClassifier(FrozenEstimator(teacher), **TINY).fit(X, y)


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_weights_round_trip(name, request, data, tmp_path):
    X, _ = data
    estimator = request.getfixturevalue(name)
    path = tmp_path / "model.pt"

    save_weights(estimator, path)
    loaded = load_weights(path)

    assert type(loaded) is type(estimator)
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
    assert loaded.window_ == estimator.window_
    assert loaded.n_parameters_ == estimator.n_parameters_
    assert len(loaded.history_) == 0
    assert not hasattr(loaded, "teacher_")
    # Weights-only shipping: the file holds the predicting network alone,
    # neither the teacher nor the student's training-only projection.
    assert loaded.get_params().get("teacher") is None
    state_dict = torch.load(path, weights_only=True)["state_dict"]
    assert state_dict.keys() == estimator.module_.state_dict().keys()


def test_file_is_weights_only(teacher, tmp_path):
    path = tmp_path / "teacher.pt"
    save_weights(teacher, path)

    payload = torch.load(path, weights_only=True)

    assert set(payload) == {"metadata", "state_dict"}
    assert isinstance(payload["metadata"], str)
    assert all(isinstance(t, torch.Tensor) for t in payload["state_dict"].values())


@pytest.mark.parametrize(
    "labels", [np.array(["normal", "dos", "exploit"], dtype=object), [0, 2, 5]]
)
def test_labels_and_feature_names_survive(labels, tmp_path):
    X, y = make_windows()
    names = window_column_names(2, ["sbytes", "dur", "proto=tcp"])
    frame = pd.DataFrame(X.reshape(len(X), -1), columns=names)
    y = np.asarray(labels)[y]
    clf = BiLSTMTeacherClassifier(**TINY).fit(frame, y)
    path = tmp_path / "clf.pt"

    save_weights(clf, path)
    loaded = load_weights(path)

    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.feature_names_in_, names)
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))
    assert loaded.get_params() == clf.get_params()


def test_load_leaves_global_rng_alone(teacher, tmp_path):
    path = tmp_path / "teacher.pt"
    save_weights(teacher, path)
    state = torch.get_rng_state().clone()

    load_weights(path)

    assert torch.equal(torch.get_rng_state(), state)


def test_bad_inputs(teacher, tmp_path):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="save_weights saves"):
        save_weights(LogisticRegression(), tmp_path / "x.pt")
    other = tmp_path / "other.pt"
    torch.save({"something": torch.zeros(1)}, other)
    with pytest.raises(ValueError, match="not a file written by"):
        load_weights(other)


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(256))


def _text(path):
    path.write_text("epoch,train_loss\n1,0.5\n")


def _empty(path):
    path.write_bytes(b"")


def _plain_pickle(path):
    path.write_bytes(pickle.dumps({"metadata": object()}, protocol=2))


def _tensor(path):
    torch.save(torch.zeros(3), path)


@pytest.mark.parametrize(
    "write", [_random_bytes, _text, _empty, _plain_pickle, _tensor]
)
def test_load_refuses_files_not_written_by_save_weights(write, tmp_path):
    path = tmp_path / "model.pt"
    write(path)

    with pytest.raises(ValueError, match="is not a file written by") as excinfo:
        load_weights(path)

    assert str(path) in str(excinfo.value)
    assert excinfo.value.__cause__ is not None


@pytest.mark.parametrize(
    "change",
    [
        {"class_name": "LogisticRegression"},
        {"params": {"no_such_parameter": 1}},
    ],
    ids=["class_name", "params"],
)
def test_load_refuses_unknown_class_or_parameters(change, teacher, tmp_path):
    path = tmp_path / "teacher.pt"
    save_weights(teacher, path)
    payload = torch.load(path, weights_only=True)
    payload["metadata"] = json.dumps({**json.loads(payload["metadata"]), **change})
    torch.save(payload, path)

    with pytest.raises(ValueError, match="is not a file written by") as excinfo:
        load_weights(path)

    assert "BiLSTMTeacherClassifier" in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, (KeyError, TypeError))


def test_pickle_round_trip(student, data):
    X, _ = data

    loaded = pickle.loads(pickle.dumps(student))

    np.testing.assert_array_equal(loaded.predict_proba(X), student.predict_proba(X))
    assert loaded.module_ is loaded.net_.module_
    np.testing.assert_array_equal(
        loaded.teacher_.predict_proba(X), student.teacher_.predict_proba(X)
    )


def test_cuda_pickle_loads_on_cpu_with_device_warning(teacher, data, monkeypatch):
    """Simulated: a net marked as CUDA, unpickled where CUDA is missing."""
    X, _ = data
    expected = teacher.predict_proba(X)
    model = pickle.loads(pickle.dumps(teacher))
    model.set_params(device="cuda")
    model.net_.device = "cuda"
    buffer = io.BytesIO()
    pickle.dump(model, buffer)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    buffer.seek(0)
    with pytest.warns(DeviceWarning, match="(?i)cuda"):
        loaded = pickle.load(buffer)

    assert torch.device(loaded.net_.device).type == "cpu"
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
