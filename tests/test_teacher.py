"""BiLSTMTeacherClassifier: shapes, labels, validation, seeding, training."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _synthetic import make_windows
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_2dbm import BiLSTMTeacherClassifier, window_column_names
from sklearn_2dbm._base import _Net
from sklearn_2dbm.exceptions import SklearnTwoDBMWarning

TINY = dict(
    hidden_size=8,
    max_epochs=4,
    batch_size=32,
    learning_rate=0.02,
    early_stopping=False,
    n_threads=1,
    random_state=0,
)


def as_frame(X):
    n, window, n_features = X.shape
    names = window_column_names(window, [f"f{i}" for i in range(n_features)])
    return pd.DataFrame(X.reshape(n, -1), columns=names)


@pytest.fixture(scope="module")
def data():
    return make_windows()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return BiLSTMTeacherClassifier(**TINY).fit(as_frame(X), y)


def test_predict_proba_contract(fitted, data):
    X, y = data

    proba = fitted.predict_proba(as_frame(X))

    assert proba.shape == (len(X), 2)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert set(fitted.predict(as_frame(X))) <= {0, 1}


def test_learns_the_synthetic_rule(fitted, data):
    X, y = data

    assert fitted.score(as_frame(X), y) > 0.8


def test_fitted_attributes(fitted, data):
    X, _ = data

    assert fitted.window_ == 3
    assert fitted.n_flow_features_ == 4
    assert fitted.n_features_in_ == 12
    assert list(fitted.feature_names_in_[:2]) == ["t-2__f0", "t-2__f1"]
    assert fitted.module_ is fitted.net_.module_
    assert fitted.history_ is fitted.net_.history
    assert fitted.n_parameters_ == sum(p.numel() for p in fitted.module_.parameters())
    assert fitted.attention_weights(as_frame(X[:5])).shape == (5, 3)


def test_history_recorded_without_printing(fitted, capsys):
    assert len(fitted.history_) == TINY["max_epochs"]
    assert all("train_loss" in epoch for epoch in fitted.history_)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("labels", [["normal", "attack"], [0, 2, 5]])
def test_original_labels_come_back(labels):
    X, y_index = make_windows(n=120, n_classes=len(labels))
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else int)[y_index]

    clf = BiLSTMTeacherClassifier(**TINY).fit(X, y)

    np.testing.assert_array_equal(clf.classes_, sorted(labels))
    assert set(clf.predict(X)) <= set(labels)
    assert clf.predict_proba(X).shape == (len(X), len(labels))


def test_window_from_3d_2d_and_parameter(data):
    X, y = data
    flat = X.reshape(len(X), -1)

    from_3d = BiLSTMTeacherClassifier(**TINY).fit(X, y)
    from_2d = BiLSTMTeacherClassifier(**TINY).fit(flat, y)
    from_param = BiLSTMTeacherClassifier(window=3, **TINY).fit(flat, y)

    assert (from_3d.window_, from_3d.n_flow_features_) == (3, 4)
    assert (from_2d.window_, from_2d.n_flow_features_) == (1, 12)
    assert (from_param.window_, from_param.n_flow_features_) == (3, 4)
    # A fitted 3-D model accepts the same windows flattened.
    np.testing.assert_array_equal(from_3d.predict_proba(X), from_3d.predict_proba(flat))
    np.testing.assert_array_equal(
        from_param.predict_proba(flat), from_3d.predict_proba(X)
    )


def test_window_errors(data):
    X, y = data
    flat = X.reshape(len(X), -1)

    with pytest.raises(ValueError, match=r"window=5 must divide .* 12 columns"):
        BiLSTMTeacherClassifier(window=5, **TINY).fit(flat, y)
    with pytest.raises(ValueError, match="windows of length 3, but window=2"):
        BiLSTMTeacherClassifier(window=2, **TINY).fit(X, y)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_prediction_shape_errors(fitted, data):
    X, _ = data
    frame = as_frame(X)

    with pytest.raises(ValueError, match=r"fitted on windows of 3 steps with 4"):
        fitted.predict(X[:, :2, :])
    renamed = frame.rename(columns={"t-0__f3": "t-0__bytes"})
    with pytest.raises(ValueError, match=re.escape("t-0__bytes")) as excinfo:
        fitted.predict(renamed)
    assert "t-0__f3" in str(excinfo.value)
    with pytest.raises(ValueError, match="X has 11 features"):
        fitted.predict(frame.iloc[:, :11].to_numpy())


def test_same_seed_same_predictions_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    # The legacy global NumPy state is exactly what must stay untouched.
    # Key and position: a few draws move only the position.
    _, key, position, *_ = np.random.get_state()  # noqa: NPY002
    key = key.copy()
    torch_state = torch.get_rng_state().clone()

    first = BiLSTMTeacherClassifier(**TINY).fit(X, y).predict_proba(X)
    second = BiLSTMTeacherClassifier(**TINY).fit(X, y).predict_proba(X)
    unseeded = BiLSTMTeacherClassifier(**{**TINY, "random_state": None}).fit(X, y)
    unseeded.predict(X)

    np.testing.assert_array_equal(first, second)
    _, key_after, position_after, *_ = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(key_after, key)
    assert position_after == position
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_random_state_instance_is_accepted(data):
    X, y = data
    clf = BiLSTMTeacherClassifier(**{**TINY, "random_state": np.random.RandomState(1)})

    assert clf.fit(X, y).predict(X).shape == (len(X),)


@pytest.mark.parametrize("class_weight", ["balanced", {1: 3.0}, {0: 1.0, 1: 0.5}])
def test_class_weight_variants(class_weight):
    X, y = make_windows(n=120)
    y = np.where(np.arange(120) < 100, y, 1)

    clf = BiLSTMTeacherClassifier(class_weight=class_weight, **TINY).fit(X, y)

    weight = clf.net_.criterion_.weight
    assert weight is not None and weight.shape == (2,)
    if class_weight == {1: 3.0}:
        assert weight.tolist() == [1.0, 3.0]


def test_class_weight_changes_training():
    X, y = make_windows(n=120)

    plain = BiLSTMTeacherClassifier(**TINY).fit(X, y).predict_proba(X)
    weighted = BiLSTMTeacherClassifier(class_weight={1: 10.0}, **TINY).fit(X, y)

    assert weighted.predict_proba(X)[:, 1].mean() > plain[:, 1].mean()


def test_class_weight_unknown_label_is_named():
    X, y = make_windows(n=60)

    with pytest.raises(ValueError, match=r"keys \[7\] that are not labels"):
        BiLSTMTeacherClassifier(class_weight={0: 1.0, 7: 2.0}, **TINY).fit(X, y)


def test_parameter_validation_at_fit_only(data):
    X, y = data
    clf = BiLSTMTeacherClassifier(hidden_size=0)

    with pytest.raises(InvalidParameterError, match="hidden_size"):
        clf.fit(X, y)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        BiLSTMTeacherClassifier(class_weight="auto").fit(X, y)


def test_cuda_unavailable_is_a_clear_error(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(ValueError, match="CUDA is not available"):
        BiLSTMTeacherClassifier(device="cuda", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="device must name a torch device"):
        BiLSTMTeacherClassifier(device="tpu-ish", **TINY).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, bool])
def test_input_dtypes_and_no_mutation(dtype, data):
    X, y = data
    X = (X > 0) if dtype is bool else (X * 3).astype(dtype)
    original = X.copy()

    clf = BiLSTMTeacherClassifier(**TINY).fit(X, y)
    proba = clf.predict_proba(X)

    np.testing.assert_array_equal(X, original)
    assert proba.dtype == np.float64


def test_float32_input_is_not_shared_with_the_net(data):
    X, y = data
    X = X.astype(np.float32)
    original = X.copy()

    clf = BiLSTMTeacherClassifier(**TINY).fit(X, y)
    clf.predict(X)

    np.testing.assert_array_equal(X, original)


def test_caller_dataframe_is_not_modified(data):
    X, y = data
    frame = as_frame(X).astype(np.float32)
    labels = pd.Series(np.where(y == 1, "attack", "normal"))
    frame_before, labels_before = frame.copy(deep=True), labels.copy(deep=True)

    clf = BiLSTMTeacherClassifier(**TINY).fit(frame, labels)
    clf.predict(frame)
    clf.predict_proba(frame)
    clf.attention_weights(frame)

    pd.testing.assert_frame_equal(frame, frame_before)
    pd.testing.assert_series_equal(labels, labels_before)


def test_read_only_input_reaches_torch_writable(fitted, data, monkeypatch):
    """torch.from_numpy warns (once per process) on read-only memory, such as
    a float32 DataFrame's values under copy-on-write; the spy checks every
    call, whether torch's warning was already used up or not."""
    X, y = data
    from_arrays = BiLSTMTeacherClassifier(**TINY).fit(X, y)
    frame = as_frame(X).astype(np.float32)
    read_only_2d = frame.to_numpy().copy()
    read_only_2d.flags.writeable = False
    read_only_3d = X.astype(np.float32)
    read_only_3d.flags.writeable = False
    cases = [
        (fitted, frame, fitted.predict_proba(as_frame(X))),
        (from_arrays, read_only_2d, from_arrays.predict_proba(X)),
        (from_arrays, read_only_3d, from_arrays.predict_proba(X)),
    ]
    writable = []
    original = torch.from_numpy

    def spy(array):
        writable.append(array.flags.writeable)
        return original(array)

    monkeypatch.setattr(torch, "from_numpy", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for clf, X_in, expected in cases:
            np.testing.assert_array_equal(clf.predict_proba(X_in), expected)

    assert len(writable) >= 3 and all(writable)


def test_fewer_rows_than_a_batch_still_trains(monkeypatch):
    X, y = make_windows(n=10)
    initial = []
    original = _Net.initialize_module

    def record(net):
        result = original(net)
        initial.append({k: v.clone() for k, v in net.module_.state_dict().items()})
        return result

    monkeypatch.setattr(_Net, "initialize_module", record)
    clf = BiLSTMTeacherClassifier(**{**TINY, "batch_size": 32, "max_epochs": 2})
    clf.fit(X, y)

    assert clf.history_[-1, "batches", -1, "train_batch_size"] == 10
    assert len(clf.history_[:, "batches"][0]) == 1
    final = clf.module_.state_dict()
    assert len(initial) == 1
    assert all(not torch.equal(initial[0][k], final[k]) for k in final)


def test_tiny_input_trains():
    X, y = make_windows(n=5, window=2, n_features=2)
    y = np.array([0, 1, 0, 1, 1])
    clf = BiLSTMTeacherClassifier(**{**TINY, "batch_size": 2, "max_epochs": 2})

    clf.fit(X, y)

    # Three batches per epoch, the last of one window; weights moved from the
    # initial ones (rebuilt with the same seed).
    assert clf.history_[-1, "batches", -1, "train_batch_size"] == 1
    init = clf._make_net(
        **clf._net_kwargs(
            n_classes=2,
            device="cpu",
            class_weight=None,
            train_split=None,
            callbacks=[],
        )
    )
    with torch.random.fork_rng():
        torch.manual_seed(TINY["random_state"])
        init.initialize()
    moved = [
        not torch.equal(a, b)
        for a, b in zip(init.module_.parameters(), clf.module_.parameters())
    ]
    assert all(moved)


def test_verbose_prints_the_epoch_table(data, capsys):
    X, y = data
    clf = BiLSTMTeacherClassifier(
        **{**TINY, "early_stopping": True, "max_epochs": 2, "verbose": 1}
    )

    clf.fit(X, y)
    out = capsys.readouterr().out

    header = out.splitlines()[0].split()
    assert header == ["epoch", "train_loss", "valid_bacc", "valid_loss", "dur"]
    assert len(clf.history_) == 2


def test_progress_bar_is_shown(data, capsys):
    X, y = data

    clf = BiLSTMTeacherClassifier(**{**TINY, "max_epochs": 1, "progress_bar": True})
    clf.fit(X, y)
    captured = capsys.readouterr()

    # tqdm's bar on stderr, e.g. "0%|    | 0/7 [00:00<?, ?it/s]": 7 batches.
    assert re.search(r"\| \d+/7 \[.*it/s\]", captured.err)
    assert captured.out == ""
    assert clf.predict(X).shape == (len(X),)


def test_progress_bar_off_by_default(fitted, data, capsys):
    X, y = data

    clone(fitted).fit(X, y)

    assert capsys.readouterr() == ("", "")


def test_early_stopping_stops_and_restores_best():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(160, 2, 3))
    y = rng.randint(2, size=160)  # noise: validation loss soon rises
    clf = BiLSTMTeacherClassifier(
        **{
            **TINY,
            "early_stopping": True,
            "n_iter_no_change": 2,
            "max_epochs": 60,
            "learning_rate": 0.05,
            "batch_size": 16,
        }
    )

    clf.fit(X, y)

    history = clf.history_
    assert len(history) < 60
    best = int(np.argmin(history[:, "valid_loss"]))
    assert history[best, "valid_loss_best"]
    assert "valid_bacc" in history[-1]


def test_rare_class_stays_in_training():
    X, _ = make_windows(n=40)
    y = np.array([0] * 20 + [1] * 19 + [2])

    clf = BiLSTMTeacherClassifier(**{**TINY, "early_stopping": True}).fit(X, y)

    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert "valid_loss" in clf.history_[-1]


def test_no_validation_rows_falls_back_with_a_warning():
    X, _ = make_windows(n=2)

    with pytest.warns(SklearnTwoDBMWarning, match="without early stopping"):
        clf = BiLSTMTeacherClassifier(**{**TINY, "early_stopping": True})
        clf.fit(X, np.array([0, 1]))
    assert "valid_loss" not in clf.history_[-1]


def test_batch_size_change_keeps_predictions(fitted, data):
    X, _ = data
    clf = clone(fitted)
    clf.__dict__.update(fitted.__dict__)  # share the fitted state
    before = fitted.predict_proba(as_frame(X))

    clf.set_params(batch_size=7)

    np.testing.assert_allclose(clf.predict_proba(as_frame(X)), before, atol=1e-6)


def test_architecture_change_after_fit_requires_refit(data):
    X, y = data
    clf = BiLSTMTeacherClassifier(**TINY).fit(X, y)
    before = clf.predict_proba(X)

    clf.set_params(hidden_size=16)
    with pytest.raises(NotFittedError, match=r"hidden_size=16 \(fitted with 8\)"):
        clf.predict(X)
    clf.set_params(hidden_size=8)

    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.set_params(hidden_size=16).fit(X, y).module_.lstm.hidden_size == 16


def test_clone_is_unfitted(fitted):
    copy = clone(fitted)

    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")
    with pytest.raises(NotFittedError):
        copy.predict(np.zeros((1, 12)))


def test_n_threads_is_restored(data):
    X, y = data
    before = torch.get_num_threads()

    BiLSTMTeacherClassifier(**{**TINY, "n_threads": 1}).fit(X, y).predict(X)

    assert torch.get_num_threads() == before


def test_one_class_is_refused():
    X, _ = make_windows(n=10)

    with pytest.raises(ValueError, match="only one class"):
        BiLSTMTeacherClassifier(**TINY).fit(X, np.zeros(10))
