"""Tests of the duplicate-aware evaluation protocols."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sklearn_2dbm import (
    DuplicateAwareStratifiedKFold,
    dedup_train_test_split,
    duplicate_groups,
    duplicate_overlap,
    window_label_purity,
)


def _duplicated_flows(n_rows=600, random_state=0):
    """Flows with many exact duplicates (few distinct values) and 3 labels."""
    rng = np.random.RandomState(random_state)
    X = pd.DataFrame(
        {
            "id": np.arange(n_rows),
            "proto": rng.choice(["tcp", "udp"], size=n_rows),
            "sbytes": rng.randint(0, 6, size=n_rows),
            "dur": rng.randint(0, 4, size=n_rows) / 10,
        }
    )
    y = np.where(X["sbytes"] > 3, "attack", "normal")
    y[X["dur"].to_numpy() == 0.3] = "scan"
    return X, y


def _row_keys(X):
    return set(map(tuple, X.drop(columns="id").to_numpy()))


def test_duplicate_groups_exact():
    X = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "a": [1.0, np.nan, 1.0, np.nan, 2.0],
            "b": list("xyxyx"),
        }
    )

    assert_array_equal(duplicate_groups(X), [0, 1, 2, 3, 4])
    assert_array_equal(duplicate_groups(X, ignore="id"), [0, 1, 0, 1, 2])
    assert_array_equal(duplicate_groups(X.to_numpy(), ignore=[0]), [0, 1, 0, 1, 2])


def test_duplicate_groups_rejects_unknown_ignored_column():
    with pytest.raises(ValueError, match=r"`ignore` names columns.*\['rowid'\]"):
        duplicate_groups(pd.DataFrame({"a": [1]}), ignore="rowid")


def test_duplicate_overlap_exact_and_dtype_insensitive():
    X_train = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.5, 1.5]})
    X_test = pd.DataFrame({"a": [1.0, 2.0, 9.0, 3.0], "b": [0.5, 9.0, 0.5, 1.5]})

    # Rows 0 and 3 of X_test are in X_train although "a" is float there.
    assert duplicate_overlap(X_train, X_test) == 0.5
    assert duplicate_overlap(X_train, X_test.iloc[:0]) == 0.0


def test_dedup_split_never_splits_a_duplicate_group():
    X, y = _duplicated_flows()
    X_train, X_test, y_train, y_test = dedup_train_test_split(
        X, y, test_size=0.25, random_state=0, ignore="id"
    )

    assert len(X_train) + len(X_test) == len(X)
    assert len(y_train) == len(X_train) and len(y_test) == len(X_test)
    assert not _row_keys(X_train) & _row_keys(X_test)
    assert duplicate_overlap(X_train, X_test, ignore="id") == 0.0
    assert isinstance(X_train, pd.DataFrame)
    assert sorted(set(X_train["id"]) | set(X_test["id"])) == list(range(len(X)))


def test_dedup_split_is_stratified():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 50, size=(2000, 3))
    y = np.where(X[:, 0] < 10, 1, 0)  # about 20 % positives
    _, _, y_train, y_test = dedup_train_test_split(X, y, test_size=0.3, random_state=1)

    assert len(y_test) / len(y) == pytest.approx(0.3, abs=0.02)
    assert y_test.mean() == pytest.approx(y.mean(), abs=0.02)
    assert y_train.mean() == pytest.approx(y.mean(), abs=0.02)


def test_dedup_split_rare_class_with_one_row():
    X, y = _duplicated_flows()
    y = y.copy()
    X.loc[0, ["sbytes", "dur"]] = [99, 9.9]  # a unique row
    y[0] = "worm"

    X_train, _, y_train, y_test = dedup_train_test_split(
        X, y, random_state=0, ignore="id"
    )
    assert "worm" in set(y_train) and "worm" not in set(y_test)
    assert 0 in set(X_train["id"])


def test_dedup_split_is_reproducible_and_accepts_int_test_size():
    X, y = _duplicated_flows()
    first = dedup_train_test_split(X, y, test_size=150, random_state=3)
    second = dedup_train_test_split(X, y, test_size=150, random_state=3)

    assert_array_equal(first[1]["id"], second[1]["id"])
    assert len(first[1]) == 150  # no duplicates when id is part of the row


def test_dedup_split_without_stratification():
    X, y = _duplicated_flows()
    _, X_test, _, y_test = dedup_train_test_split(
        X, pd.Series(y), stratify=False, random_state=0, ignore="id"
    )

    assert isinstance(y_test, pd.Series)
    assert 0.1 < len(X_test) / len(X) < 0.4


@pytest.mark.parametrize("test_size", [0, 1.0, -0.1, 600, "a"])
def test_dedup_split_rejects_bad_test_size(test_size):
    X, y = _duplicated_flows()
    with pytest.raises(ValueError, match="`test_size`"):
        dedup_train_test_split(X, y, test_size=test_size)


def test_kfold_keeps_duplicates_in_one_fold_and_stratifies():
    X, y = _duplicated_flows()
    groups = duplicate_groups(X, ignore="id")
    cv = DuplicateAwareStratifiedKFold(n_splits=4, random_state=0, ignore="id")

    test_folds = [test for _, test in cv.split(X, y)]
    assert cv.get_n_splits() == 4
    assert_array_equal(np.sort(np.concatenate(test_folds)), np.arange(len(X)))
    for train, test in cv.split(X, y):
        assert not set(groups[train]) & set(groups[test])
        for label in np.unique(y):
            # Whole groups make folds uneven, but every class is in every fold.
            assert (y[test] == label).any()


def test_kfold_respects_user_groups():
    X, y = _duplicated_flows()  # with "id", no two rows are duplicates
    capture = np.arange(len(X)) % 7
    cv = DuplicateAwareStratifiedKFold(n_splits=3, random_state=0)

    for train, test in cv.split(X, y, groups=capture):
        assert not set(capture[train]) & set(capture[test])


def test_kfold_links_duplicates_and_user_groups():
    # Rows 0 and 2 are duplicates, rows 2 and 3 share a capture, so rows
    # 0, 2 and 3 must share a fold although 0 and 3 have nothing in common.
    X = np.array([[1], [2], [1], [3], [4], [5], [6], [7]])
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    capture = np.array([0, 1, 2, 2, 3, 4, 5, 6])
    cv = DuplicateAwareStratifiedKFold(n_splits=2, random_state=0)

    for _, test in cv.split(X, y, groups=capture):
        linked = np.isin([0, 2, 3], test)
        assert linked.all() or not linked.any()


def test_kfold_with_cross_val_score():
    X, y = _duplicated_flows()
    cv = DuplicateAwareStratifiedKFold(n_splits=3, random_state=0)

    scores = cross_val_score(
        LogisticRegression(max_iter=500), X[["sbytes", "dur"]], y, cv=cv
    )
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_kfold_is_reproducible_and_validates():
    X, y = _duplicated_flows()
    folds_a = [
        t for _, t in DuplicateAwareStratifiedKFold(3, random_state=0).split(X, y)
    ]
    folds_b = [
        t for _, t in DuplicateAwareStratifiedKFold(3, random_state=0).split(X, y)
    ]
    for a, b in zip(folds_a, folds_b):
        assert_array_equal(a, b)

    with pytest.raises(ValueError, match="`n_splits` must be an int >= 2"):
        next(DuplicateAwareStratifiedKFold(n_splits=1).split(X, y))
    with pytest.raises(ValueError, match="pass y"):
        next(DuplicateAwareStratifiedKFold().split(X, None))


def test_window_label_purity_exact():
    # Windows of 3: rows 1..5 hold two or more flows; labels 0 0 1 1 1 0.
    y = [0, 0, 1, 1, 1, 0]
    # Row 1 [0 0] pure, 2 [0 0 1] no, 3 [0 1 1] no, 4 [1 1 1] pure, 5 no.
    assert window_label_purity(y, 3) == pytest.approx(2 / 5)


def test_window_label_purity_groups_and_order():
    y = np.array([1, 0, 1, 0])
    groups = np.array(["a", "b", "a", "b"])
    order = np.array([3, 2, 1, 0])

    assert window_label_purity(y, 2) == 0.0
    assert window_label_purity(y, 2, groups=groups) == 1.0
    assert window_label_purity(y, 2, groups=groups, order=order) == 1.0
    assert window_label_purity(y, 2, order=order) == 0.0


def test_window_label_purity_without_multi_flow_windows_is_nan():
    assert np.isnan(window_label_purity([0, 1, 0], 1))
    assert np.isnan(window_label_purity([0, 1, 0], 4, groups=[1, 2, 3]))


def test_window_label_purity_validates():
    with pytest.raises(ValueError, match="`window` must be >= 1, got 0"):
        window_label_purity([0, 1], 0)
    with pytest.raises(ValueError, match="`groups` must have one entry per label"):
        window_label_purity([0, 1], 2, groups=[0])


def test_unseeded_splits_leave_the_global_random_state_alone():
    X = pd.DataFrame({"a": np.arange(40) % 7, "b": np.arange(40) % 3})
    y = np.arange(40) % 2
    # The legacy global NumPy state is exactly what must stay untouched.
    _, key, position, *_ = np.random.get_state()  # noqa: NPY002
    key = key.copy()

    dedup_train_test_split(X, y, random_state=None)
    list(DuplicateAwareStratifiedKFold(n_splits=2).split(X, y))

    _, key_after, position_after, *_ = np.random.get_state()  # noqa: NPY002
    assert_array_equal(key_after, key)
    assert position_after == position
