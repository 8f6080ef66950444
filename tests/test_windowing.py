"""Tests of FlowWindower and the window column helpers."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

from sklearn_2dbm import FlowWindower, parse_window_columns, window_column_names
from sklearn_2dbm.exceptions import LabelPurityWarning


@pytest.fixture
def flows():
    """Five flows of two hosts, with a start time that reverses some rows."""
    return pd.DataFrame(
        {
            "host": ["a", "b", "a", "a", "b"],
            "f1": [1.0, 2.0, 3.0, 4.0, 5.0],
            "f2": [10.0, 20.0, 30.0, 40.0, 50.0],
            "time": [5, 1, 2, 3, 0],
        }
    )


def test_window_within_groups_exact_values(flows):
    windower = FlowWindower(window=2, group_by="host")
    out = windower.fit_transform(flows.drop(columns="time"))

    # Host a is rows 0, 2, 3 and host b rows 1, 4, in input order.
    expected = np.array(
        [
            [0, 0, 1, 10],
            [0, 0, 2, 20],
            [1, 10, 3, 30],
            [3, 30, 4, 40],
            [2, 20, 5, 50],
        ],
        dtype=np.float32,
    )
    assert_array_equal(out.to_numpy(), expected)
    assert list(out.columns) == ["t-1__f1", "t-1__f2", "t-0__f1", "t-0__f2"]


def test_window_ordered_within_groups_keeps_input_row_order(flows):
    windower = FlowWindower(window=2, group_by="host", order_by="time")
    out = windower.fit_transform(flows)

    # By time, host a is rows 2, 3, 0 and host b rows 4, 1; output rows stay
    # in input order so that labels remain aligned.
    expected = np.array(
        [
            [4, 40, 1, 10],
            [5, 50, 2, 20],
            [0, 0, 3, 30],
            [3, 30, 4, 40],
            [0, 0, 5, 50],
        ],
        dtype=np.float32,
    )
    assert_array_equal(out.to_numpy(), expected)


def test_window_longer_than_group_pads_oldest_steps(flows):
    out = FlowWindower(window=3, group_by="host").fit_transform(
        flows.drop(columns="time")
    )

    assert_array_equal(out.iloc[3].to_numpy(), [1, 10, 3, 30, 4, 40])
    assert_array_equal(out.iloc[2].to_numpy(), [0, 0, 1, 10, 3, 30])
    assert_array_equal(out.iloc[4].to_numpy(), [0, 0, 2, 20, 5, 50])


def test_window_without_groups_uses_input_order():
    X = np.arange(8, dtype=np.float64).reshape(4, 2)
    out = FlowWindower(window=3).fit_transform(X)

    expected = np.array(
        [
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 1, 2, 3],
            [0, 1, 2, 3, 4, 5],
            [2, 3, 4, 5, 6, 7],
        ],
        dtype=np.float32,
    )
    assert_array_equal(out.to_numpy(), expected)
    assert list(out.columns[:2]) == ["t-2__x0", "t-2__x1"]


def test_group_and_order_by_position_for_arrays():
    # Columns: host code, feature, time.
    X = np.array([[0, 1.0, 2], [1, 2.0, 0], [0, 3.0, 1]])
    out = FlowWindower(window=2, group_by=0, order_by=2).fit_transform(X)

    assert list(out.columns) == ["t-1__x1", "t-0__x1"]
    assert_array_equal(out.to_numpy(), [[3, 1], [0, 2], [0, 3]])


def test_window_one_is_identity_like(flows):
    X = flows[["f1", "f2"]]
    out = FlowWindower(window=1).fit_transform(X)

    assert list(out.columns) == ["t-0__f1", "t-0__f2"]
    assert_array_equal(out.to_numpy(), X.to_numpy(dtype=np.float32))


def test_output_is_float32_frame_with_input_index(flows):
    X = flows.set_index(pd.Index([10, 11, 12, 13, 14]))
    out = FlowWindower(window=2, group_by="host", order_by="time").fit_transform(X)

    assert isinstance(out, pd.DataFrame)
    assert (out.dtypes == np.float32).all()
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out.shape == (5, 2 * 2)


def test_reshape_restores_sequences(flows):
    windower = FlowWindower(window=3, group_by="host", order_by="time")
    out = windower.fit_transform(flows)

    sequences = out.to_numpy().reshape(len(flows), 3, 2)
    # Row 0 is host a's last flow by time: rows 2, 3, 0.
    assert_array_equal(sequences[0], [[3, 30], [4, 40], [1, 10]])
    assert parse_window_columns(out.columns) == (3, ["f1", "f2"])


def test_get_feature_names_out_drops_consumed_columns(flows):
    windower = FlowWindower(window=2, group_by="host", order_by="time").fit(flows)

    assert list(windower.flow_feature_names_) == ["f1", "f2"]
    assert windower.n_features_in_ == 4
    assert list(windower.feature_names_in_) == ["host", "f1", "f2", "time"]
    assert list(windower.get_feature_names_out()) == [
        "t-1__f1",
        "t-1__f2",
        "t-0__f1",
        "t-0__f2",
    ]


def test_window_column_names_and_parse_round_trip():
    names = window_column_names(3, ["a", "b__c"])

    assert list(names) == [
        "t-2__a",
        "t-2__b__c",
        "t-1__a",
        "t-1__b__c",
        "t-0__a",
        "t-0__b__c",
    ]
    assert parse_window_columns(names) == (3, ["a", "b__c"])


@pytest.mark.parametrize(
    "columns",
    [
        ["a", "b"],
        [],
        [0, 1],
        ["t-0__a", "t-1__a"],  # newest step first
        ["t-1__a", "t-0__b"],  # features differ between steps
        ["t-2__a", "t-0__a"],  # a missing step
        ["t-1__a", "t-1__b", "t-0__a"],  # incomplete last step
    ],
)
def test_parse_window_columns_rejects_other_names(columns):
    assert parse_window_columns(columns) is None


def test_window_zero_error_message():
    with pytest.raises(ValueError, match="`window` must be >= 1, got 0"):
        FlowWindower(window=0).fit(np.ones((3, 2)))


def test_window_must_be_int():
    with pytest.raises(TypeError, match="`window` must be an int"):
        FlowWindower(window=2.5).fit(np.ones((3, 2)))


def test_unknown_group_column_is_named(flows):
    with pytest.raises(ValueError, match="`group_by`='src_ip' is not a column"):
        FlowWindower(group_by="src_ip").fit(flows)


def test_named_group_column_needs_a_dataframe():
    with pytest.raises(ValueError, match="`order_by`='time' is not a column"):
        FlowWindower(order_by="time").fit(np.ones((3, 2)))


def test_same_group_and_order_column_is_rejected(flows):
    with pytest.raises(ValueError, match="name the same column"):
        FlowWindower(group_by="host", order_by="host").fit(flows)


def test_non_numeric_feature_is_diagnosed(flows):
    with pytest.raises(ValueError, match=r"column\(s\) \['host'\] are not numeric"):
        FlowWindower(window=2).fit(flows)


def test_transform_checks_columns(flows):
    windower = FlowWindower(window=2, group_by="host").fit(flows)

    with pytest.raises(ValueError, match="time"):
        windower.transform(flows.drop(columns="time"))


def test_label_purity_warns_on_label_sorted_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y_sorted = np.repeat([0, 1], 100)

    with pytest.warns(LabelPurityWarning, match="single label"):
        windower = FlowWindower(window=4).fit(X, y_sorted)
    assert windower.label_purity_ == pytest.approx(196 / 199)


def test_label_purity_silent_on_shuffled_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y_shuffled = rng.permutation(np.repeat([0, 1], 100))

    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelPurityWarning)
        windower = FlowWindower(window=4).fit(X, y_shuffled)
    assert windower.label_purity_ < 0.5


def test_label_purity_uses_groups(flows):
    # Windows of two flows: host a gives [1, 0] (mixed) and [0, 0], host b
    # gives [0, 0]; the first flow of each host has no neighbour to leak.
    y = np.array([1, 0, 0, 0, 0])
    fitted = FlowWindower(window=2, group_by="host").fit(flows, y)
    assert fitted.label_purity_ == pytest.approx(2 / 3)


def test_label_purity_threshold_none_disables_warning():
    X = np.ones((20, 2))
    y = np.repeat([0, 1], 10)

    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelPurityWarning)
        windower = FlowWindower(window=3, purity_threshold=None).fit(X, y)
    assert windower.label_purity_ == pytest.approx(17 / 19)


def test_label_purity_silent_when_one_label_dominates():
    # Pure windows in any order: the ordering is not to blame.
    y = np.r_[np.zeros(199), 1]

    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelPurityWarning)
        windower = FlowWindower(window=4).fit(np.ones((200, 2)), y)
    assert windower.label_purity_ > 0.95


def test_label_purity_is_none_without_labels():
    assert FlowWindower().fit(np.ones((5, 2))).label_purity_ is None


def test_nested_set_params_clone_and_pickle(flows):
    windower = FlowWindower(window=2, group_by="host", order_by="time")
    windower.set_params(window=3)
    fitted = clone(windower).fit(flows)

    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.get_params()["window"] == 3
    assert_array_equal(restored.transform(flows), fitted.transform(flows))


def test_large_table_has_one_row_per_flow():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(5000, 6)), columns=list("abcdef"))
    X["host"] = rng.randint(0, 30, size=5000)
    X["time"] = rng.permutation(5000)

    out = FlowWindower(window=8, group_by="host", order_by="time").fit_transform(X)

    assert out.shape == (5000, 8 * 6)
    assert_array_equal(
        out.iloc[:, -6:].to_numpy(), X[list("abcdef")].to_numpy(dtype=np.float32)
    )
