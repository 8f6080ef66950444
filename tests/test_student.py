"""DistilledStudentClassifier: teacher handling, distillation and size."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from _synthetic import make_windows
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    window_column_names,
)
from sklearn_2dbm._base import _Net
from sklearn_2dbm._student import _DistillNet

TINY = dict(
    max_epochs=3,
    batch_size=32,
    learning_rate=0.02,
    early_stopping=False,
    n_threads=1,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    return make_windows(n=160)


@pytest.fixture(scope="module")
def teacher(data):
    X, y = data
    return BiLSTMTeacherClassifier(hidden_size=8, **TINY).fit(X, y)


@pytest.fixture(scope="module")
def student(data, teacher):
    X, y = data
    return DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **TINY
    ).fit(X, y)


def test_default_student_is_at_most_a_fifth_of_the_default_teacher():
    X, y = make_windows(n=40, window=8, n_features=40)

    student = DistilledStudentClassifier(max_epochs=1, n_threads=1, random_state=0)
    student.fit(X, y)

    assert student.teacher_.get_params()["hidden_size"] == 64
    assert student.n_parameters_ * 5 <= student.teacher_.n_parameters_
    projection = sum(p.numel() for p in student.net_.projection_.parameters())
    total = sum(p.numel() for p in student.module_.parameters())
    assert student.n_parameters_ == total
    assert projection == (2 * 12 + 1) * 2 * 64


def test_frozen_teacher_is_not_changed_by_distillation(data):
    X, y = data
    teacher = BiLSTMTeacherClassifier(hidden_size=8, **TINY).fit(X, y)
    state = {k: v.clone() for k, v in teacher.module_.state_dict().items()}
    proba = teacher.predict_proba(X)
    n_epochs = len(teacher.history_)

    student = DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **TINY
    )
    student.fit(X, y)

    assert student.teacher_ is teacher
    assert len(teacher.history_) == n_epochs
    after = teacher.module_.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)
    np.testing.assert_array_equal(teacher.predict_proba(X), proba)


def test_unfitted_teacher_is_cloned_and_fitted(data):
    X, y = data
    teacher = BiLSTMTeacherClassifier(hidden_size=8, max_epochs=2)

    student = DistilledStudentClassifier(teacher, hidden_size=4, **TINY).fit(X, y)

    assert not hasattr(teacher, "net_")
    assert student.teacher_ is not teacher
    assert student.teacher_.hidden_size == 8
    assert len(student.teacher_.history_) == 2
    # The clone took the student's seed, since the teacher had none.
    assert student.teacher_.random_state == 0


def test_default_teacher_copies_training_settings(data):
    X, y = data

    student = DistilledStudentClassifier(hidden_size=4, **TINY).fit(X, y)

    teacher = student.teacher_
    assert isinstance(teacher, BiLSTMTeacherClassifier)
    assert teacher.max_epochs == 3 and teacher.random_state == 0
    assert teacher.hidden_size == 64 and teacher.num_layers == 2


def test_student_learns_and_reports_loss_terms(student, data):
    X, y = data

    assert student.score(X, y) > 0.7
    history = student.history_
    for term in ("hard_loss", "soft_loss", "intermediate_loss", "train_loss"):
        assert len(history[:, term]) == TINY["max_epochs"]
    first = history[0]
    expected = (
        0.5 * first["hard_loss"]
        + 0.5 * first["soft_loss"]
        + 1.0 * first["intermediate_loss"]
    )
    assert first["train_loss"] == pytest.approx(expected, rel=1e-4)


def test_teacher_outputs_stay_matched_to_their_windows(data, teacher, monkeypatch):
    """With shuffling and a validation split, each batch's teacher logits are
    the teacher's logits of that batch's windows."""
    X, y = data
    seen = []
    original = _DistillNet.get_loss

    def spy(self, y_pred, y_true, X=None, training=False):
        seen.append(
            (X["X"].detach().clone(), X["teacher_logits"].detach().clone(), training)
        )
        return original(self, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(_DistillNet, "get_loss", spy)
    student = DistilledStudentClassifier(
        FrozenEstimator(teacher),
        hidden_size=4,
        **{**TINY, "early_stopping": True, "batch_size": 16, "max_epochs": 2},
    )
    student.fit(X, y)

    assert student.net_.iterator_train__shuffle
    order = torch.cat([batch for batch, _, training in seen if training][:10])
    assert not torch.equal(order, torch.as_tensor(X[: len(order)], dtype=torch.float32))
    assert any(not training for *_, training in seen)
    for windows, logits, _ in seen:
        expected = teacher.module_.eval()(windows)
        torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_student_label_unknown_to_teacher(data, teacher):
    X, y = data
    y = np.where(y == 1, 3, y)

    with pytest.raises(ValueError, match=r"labels \[3\] are not classes of the"):
        DistilledStudentClassifier(FrozenEstimator(teacher), **TINY).fit(X, y)


def test_teacher_classes_missing_from_student_data_are_dropped():
    X, y = make_windows(n=150, n_classes=3)
    teacher = BiLSTMTeacherClassifier(hidden_size=8, **TINY).fit(X, y)
    keep = y != 1

    student = DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **TINY
    )
    student.fit(X[keep], y[keep])

    np.testing.assert_array_equal(student.classes_, [0, 2])
    assert student.predict_proba(X).shape == (150, 2)


def test_string_labels_are_matched_by_value():
    X, y = make_windows(n=120)
    labels = np.array(["normal", "attack"], dtype=object)[y]
    teacher = BiLSTMTeacherClassifier(hidden_size=8, **TINY).fit(X, labels)

    student = DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **TINY
    )
    student.fit(X, labels)

    assert student.classes_.tolist() == ["attack", "normal"]
    assert set(student.predict(X)) <= {"attack", "normal"}


def test_window_mismatch_is_explained(data, teacher):
    X, y = data

    with pytest.raises(ValueError, match="teacher reads windows of 3 steps"):
        DistilledStudentClassifier(FrozenEstimator(teacher), **TINY).fit(
            X.reshape(len(X), -1), y
        )


def test_teacher_columns_must_match():
    X, y = make_windows(n=80)
    names = window_column_names(3, ["a", "b", "c", "d"])
    frame = pd.DataFrame(X.reshape(80, -1), columns=names)
    teacher = BiLSTMTeacherClassifier(hidden_size=4, **TINY).fit(frame, y)
    other = frame.rename(
        columns={"t-0__d": "t-0__e", "t-1__d": "t-1__e", "t-2__d": "t-2__e"}
    )

    with pytest.raises(ValueError, match=r"only in the teacher's \['t-0__d'"):
        DistilledStudentClassifier(FrozenEstimator(teacher), **TINY).fit(other, y)


def test_teacher_type_and_fitted_state_are_checked(data):
    X, y = data

    with pytest.raises(TypeError, match="teacher must be a BiLSTMTeacherClassifier"):
        DistilledStudentClassifier(LogisticRegression(), **TINY).fit(X, y)
    with pytest.raises(ValueError, match="FrozenEstimator is not fitted"):
        DistilledStudentClassifier(
            FrozenEstimator(BiLSTMTeacherClassifier()), **TINY
        ).fit(X, y)


def test_seeded_student_is_reproducible(data):
    X, y = data

    def run():
        teacher = BiLSTMTeacherClassifier(hidden_size=4, max_epochs=2)
        return DistilledStudentClassifier(teacher, hidden_size=4, **TINY).fit(X, y)

    np.testing.assert_array_equal(run().predict_proba(X), run().predict_proba(X))


def test_distillation_weights_matter(data, teacher):
    X, y = data
    frozen = FrozenEstimator(teacher)

    hard_only = DistilledStudentClassifier(
        frozen, hidden_size=4, soft_weight=0.0, intermediate_weight=0.0, **TINY
    ).fit(X, y)
    distilled = DistilledStudentClassifier(frozen, hidden_size=4, **TINY).fit(X, y)

    assert not np.allclose(hard_only.predict_proba(X), distilled.predict_proba(X))
    assert hard_only.history_[0, "train_loss"] == pytest.approx(
        0.5 * hard_only.history_[0, "hard_loss"], rel=1e-4
    )


def test_verbose_student_prints_the_loss_terms(data, teacher, capsys):
    X, y = data

    DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **{**TINY, "verbose": 1}
    ).fit(X, y)

    header = capsys.readouterr().out.splitlines()[0].split()
    assert {"hard_loss", "soft_loss", "intermediate_loss", "dur"} <= set(header)


def test_global_rng_untouched_by_student_fit(data):
    X, y = data
    torch.manual_seed(123)
    # The legacy global NumPy state is exactly what must stay untouched.
    # Key and position: a few draws move only the position.
    _, key, position, *_ = np.random.get_state()  # noqa: NPY002
    key = key.copy()
    torch_state = torch.get_rng_state().clone()

    for random_state in (0, None):
        # An unfitted teacher: the student clones, seeds and fits it too.
        teacher = BiLSTMTeacherClassifier(hidden_size=4, max_epochs=1)
        params = {**TINY, "random_state": random_state, "early_stopping": True}
        student = DistilledStudentClassifier(teacher, hidden_size=4, **params)
        student.fit(X, y).predict(X)

    _, key_after, position_after, *_ = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(key_after, key)
    assert position_after == position
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_caller_dataframe_is_not_modified(data):
    X, y = data
    names = window_column_names(3, ["a", "b", "c", "d"])
    frame = pd.DataFrame(X.reshape(len(X), -1), columns=names).astype(np.float32)
    labels = pd.Series(y)
    frame_before, labels_before = frame.copy(deep=True), labels.copy(deep=True)

    student = DistilledStudentClassifier(hidden_size=4, **TINY).fit(frame, labels)
    student.predict(frame)
    student.predict_proba(frame)

    pd.testing.assert_frame_equal(frame, frame_before)
    pd.testing.assert_series_equal(labels, labels_before)


def test_fewer_rows_than_a_batch_still_trains(teacher, monkeypatch):
    X, y = make_windows(n=10)
    initial = []
    original = _Net.initialize_module

    def record(net):
        result = original(net)
        initial.append({k: v.clone() for k, v in net.module_.state_dict().items()})
        return result

    monkeypatch.setattr(_Net, "initialize_module", record)
    student = DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **{**TINY, "max_epochs": 2}
    )
    student.fit(X, y)

    assert student.history_[-1, "batches", -1, "train_batch_size"] == 10
    assert len(student.history_[:, "batches"][0]) == 1
    final = student.module_.state_dict()
    assert len(initial) == 1
    assert all(not torch.equal(initial[0][k], final[k]) for k in final)


def test_progress_bar_is_shown(data, teacher, capsys):
    X, y = data

    DistilledStudentClassifier(
        FrozenEstimator(teacher), hidden_size=4, **{**TINY, "progress_bar": True}
    ).fit(X, y)
    err = capsys.readouterr().err

    # tqdm's bar on stderr, e.g. "0%|    | 0/5 [00:00<?, ?it/s]": 5 batches.
    assert re.search(r"\| \d+/5 \[.*it/s\]", err)
