"""The evaluation protocols on the real UNSW-NB15 testing partition.

These tests pin down the two leakage traps the protocols exist for: the file
is sorted in long runs of one label, and a third of its rows duplicate another.
"""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from sklearn_2dbm import (
    DuplicateAwareStratifiedKFold,
    FlowWindower,
    dedup_train_test_split,
    duplicate_groups,
    duplicate_overlap,
    window_label_purity,
)
from sklearn_2dbm.datasets import load_unsw_nb15
from sklearn_2dbm.exceptions import LabelPurityWarning

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unsw(data_home):
    return load_unsw_nb15(data_home=data_home, return_X_y=True)


def test_file_order_windows_are_label_pure_and_warned(unsw):
    X, y = unsw

    purity = window_label_purity(y, window=8)
    assert purity > 0.99

    rng = np.random.default_rng(0)
    shuffled = rng.permutation(len(y))
    assert window_label_purity(y.iloc[shuffled], window=8) < 0.6

    numeric = X.select_dtypes("number").iloc[:5000]
    with pytest.warns(LabelPurityWarning):
        FlowWindower(window=8).fit(numeric, y.iloc[:5000])


def test_random_split_leaks_duplicates_and_dedup_split_does_not(unsw):
    X, y = unsw

    X_train, X_test, _, _ = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    assert duplicate_overlap(X_train, X_test) > 0.2

    X_train, X_test, y_train, y_test = dedup_train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    assert duplicate_overlap(X_train, X_test) == 0.0
    assert len(X_train) + len(X_test) == len(X)
    assert abs(y_train.mean() - y_test.mean()) < 0.01


def test_duplicate_aware_folds_keep_duplicates_together(unsw):
    X, y = unsw
    groups = duplicate_groups(X)

    cv = DuplicateAwareStratifiedKFold(n_splits=3, random_state=0)
    for train, test in cv.split(X, y):
        assert not set(groups[train]) & set(groups[test])
        assert abs(y.iloc[train].mean() - y.iloc[test].mean()) < 0.01
