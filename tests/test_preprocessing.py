"""Tests of FlowPreprocessor."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from sklearn_2dbm import FlowPreprocessor
from sklearn_2dbm.exceptions import UnknownCategoryWarning


def _standardise(values):
    values = np.asarray(values, dtype=np.float64)
    return (values - values.mean()) / values.std()


@pytest.fixture
def flows():
    return pd.DataFrame(
        {
            "sbytes": [100.0, 200.0, 150.0, 900_000.0, 120.0, 130.0],
            "ttl": [31, 62, 31, 254, 62, 31],
            "proto": ["tcp", "udp", "tcp", "tcp", "udp", "icmp"],
            "state": ["FIN", "CON", "FIN", "FIN", "CON", "INT"],
        }
    )


def test_standardisation_exact_values():
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    out = FlowPreprocessor(log_features=None).fit_transform(X)

    assert out.dtype == np.float32
    assert_allclose(out[:, 0], _standardise([1, 2, 3, 4]), rtol=1e-6)


def test_signed_log_then_standardisation_exact_values():
    values = np.array([-(np.e - 1), 0.0, np.e - 1, np.e**2 - 1])
    out = FlowPreprocessor(log_features=[0]).fit_transform(values.reshape(-1, 1))

    # sign(x) * log1p(|x|) gives -1, 0, 1, 2.
    assert_allclose(out[:, 0], _standardise([-1, 0, 1, 2]), rtol=1e-6)


def test_auto_log_rule_picks_heavy_tailed_non_negative_columns():
    X = pd.DataFrame(
        {
            "bytes": [0, 10, 20, 30, 50_000],  # max > 100 * (median + 1)
            "ttl": [31, 62, 254, 31, 62],  # bounded
            "signed": [-5, 10, 20, 30, 50_000],  # negative values
            "flag": [0, 1, 0, 1, 1],
        }
    )
    pre = FlowPreprocessor().fit(X)

    assert pre.log_features_ == ["bytes"]


def test_statistics_come_from_fit_only():
    pre = FlowPreprocessor(log_features=None).fit(np.array([[1.0], [2.0], [3.0]]))
    out = pre.transform(np.array([[10.0], [20.0]]))

    std = np.std([1.0, 2.0, 3.0])
    assert_allclose(out[:, 0], [(10 - 2) / std, (20 - 2) / std], rtol=1e-6)


def test_nonfinite_clip_repairs_and_counts():
    X = pd.DataFrame({"rate": [1.0, 2.0, 3.0, np.inf, np.nan, -np.inf]})
    pre = FlowPreprocessor(nonfinite="clip", log_features=None).fit(X)

    assert pre.nonfinite_counts_ == {"rate": {"nan": 1, "posinf": 1, "neginf": 1}}
    # inf -> largest finite (3), -inf -> smallest (1), NaN -> median (2).
    assert_allclose(pre.transform(X)[:, 0], _standardise([1, 2, 3, 3, 2, 1]), rtol=1e-6)
    assert np.isfinite(pre.transform(X)).all()


def test_nonfinite_at_transform_uses_fit_values():
    pre = FlowPreprocessor(log_features=None).fit(np.array([[1.0], [2.0], [4.0]]))
    clipped = pre.transform(np.array([[np.inf], [np.nan], [4.0], [2.0]]))

    assert clipped[0, 0] == clipped[2, 0]  # inf -> training max 4
    assert clipped[1, 0] == clipped[3, 0]  # NaN -> training median 2


def test_nonfinite_nan_to_median():
    X = np.array([[1.0], [2.0], [10.0], [np.inf], [np.nan]])
    pre = FlowPreprocessor(nonfinite="nan-to-median", log_features=None).fit(X)
    out = pre.transform(X)

    # The median of the finite values is 2; every non-finite value becomes 2.
    assert_allclose(out[:, 0], _standardise([1, 2, 10, 2, 2]), rtol=1e-6)
    assert pre.nonfinite_counts_ == {"x0": {"nan": 1, "posinf": 1, "neginf": 0}}


def test_nonfinite_error_names_columns():
    X = pd.DataFrame({"ok": [1.0, 2.0], "rate": [np.inf, 1.0]})

    with pytest.raises(ValueError, match=r"rate: 1 posinf.*nonfinite='clip'"):
        FlowPreprocessor(nonfinite="error").fit(X)

    pre = FlowPreprocessor(nonfinite="error").fit(X.replace(np.inf, 3.0))
    with pytest.raises(ValueError, match="rate: 1 posinf"):
        pre.transform(X)


def test_all_nonfinite_column_becomes_zero():
    X = np.array([[np.nan, 1.0], [np.inf, 2.0], [np.nan, 3.0]])
    out = FlowPreprocessor().fit_transform(X)

    assert_array_equal(out[:, 0], [0, 0, 0])


def test_auto_categorical_columns_one_hot(flows):
    pre = FlowPreprocessor(min_frequency=None).fit(flows)

    assert pre.categorical_features_ == ["proto", "state"]
    assert pre.numeric_features_ == ["sbytes", "ttl"]
    assert list(pre.get_feature_names_out()) == [
        "sbytes",
        "ttl",
        "proto_icmp",
        "proto_tcp",
        "proto_udp",
        "state_CON",
        "state_FIN",
        "state_INT",
    ]
    out = pre.transform(flows)
    proto = [[0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert_array_equal(out[:, 2:5], proto)


def test_category_dtype_and_missing_values():
    X = pd.DataFrame(
        {
            "service": pd.Categorical(["http", None, "dns", "http"]),
            "dur": [0.1, 0.2, 0.3, 0.4],
        }
    )
    pre = FlowPreprocessor(min_frequency=None).fit(X)

    assert list(pre.categories_["service"]) == ["dns", "http", "missing"]
    assert "service_missing" in pre.get_feature_names_out()


def test_listed_integer_ports_are_categories():
    X = pd.DataFrame(
        {"dport": [80, 443, 80, 53], "dport_float": [80.0, np.nan, 80.0, 53.0]}
    )
    pre = FlowPreprocessor(
        categorical_features=["dport", "dport_float"], min_frequency=None
    ).fit(X)

    assert list(pre.categories_["dport"]) == ["443", "53", "80"]
    # Integral floats print as integers, so 80.0 and 80 are one category.
    assert list(pre.categories_["dport_float"]) == ["53", "80", "missing"]


def test_categorical_by_position_for_arrays():
    X = np.array([[1.0, "tcp"], [2.0, "udp"], [3.0, "tcp"]], dtype=object)
    pre = FlowPreprocessor(categorical_features=[1], min_frequency=None).fit(X)

    assert list(pre.get_feature_names_out()) == ["x0", "x1_tcp", "x1_udp"]
    assert pre.transform(X).dtype == np.float32


def test_string_array_without_categorical_positions_is_diagnosed():
    X = np.array([[1.0, "tcp"], [2.0, "udp"]], dtype=object)

    with pytest.raises(ValueError, match="unless `categorical_features` lists"):
        FlowPreprocessor().fit(X)


def test_passthrough_by_position_for_arrays():
    X = np.array([[1.0, "h1", 5], [2.0, "h2", 6], [3.0, "h1", 7]], dtype=object)
    pre = FlowPreprocessor(passthrough=[1, 2]).set_output(transform="pandas")
    out = pre.fit_transform(X)

    assert list(out.columns) == ["x0", "x1", "x2"]
    assert pre.numeric_features_ == ["x0"]
    assert_array_equal(out["x1"], ["h1", "h2", "h1"])
    assert out["x0"].dtype == np.float32


def test_rare_categories_are_grouped():
    X = pd.DataFrame({"proto": ["tcp"] * 5 + ["udp"] * 4 + ["gre", "sctp"]})
    pre = FlowPreprocessor(min_frequency=3).fit(X)

    assert list(pre.get_feature_names_out()) == [
        "proto_tcp",
        "proto_udp",
        "proto_infrequent_sklearn",
    ]
    assert_array_equal(pre.transform(X)[-2:], [[0, 0, 1], [0, 0, 1]])


def test_max_categories_bounds_width():
    X = pd.DataFrame({"proto": list("aaaabbbccd")})
    pre = FlowPreprocessor(min_frequency=None, max_categories=2).fit(X)

    assert list(pre.get_feature_names_out()) == ["proto_a", "proto_infrequent_sklearn"]


def test_unknown_categories_warn_once_and_keep_width():
    X = pd.DataFrame(
        {
            "proto": ["tcp"] * 5 + ["udp"] * 5 + ["gre"],
            "state": ["FIN"] * 6 + ["CON"] * 5,
            "bytes": np.arange(11.0),
        }
    )
    # proto has an infrequent bucket (gre), state has none.
    pre = FlowPreprocessor(min_frequency=2).fit(X)
    X_new = X.head(3).assign(proto=["icmp", "tcp", "ospf"], state=["FIN", "XYZ", "CON"])

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = pre.transform(X_new)

    messages = [str(w.message) for w in record]
    assert [w.category for w in record] == [UnknownCategoryWarning]
    assert "proto: 'icmp', 'ospf' (2 row(s), encoded as proto_infrequent" in messages[0]
    assert "state: 'XYZ' (1 row(s), encoded as all zeros)" in messages[0]
    assert out.shape == (3, len(pre.get_feature_names_out()))
    names = list(pre.get_feature_names_out())
    proto_other = names.index("proto_infrequent_sklearn")
    assert_array_equal(out[:, proto_other], [1, 0, 1])
    state_columns = [names.index("state_CON"), names.index("state_FIN")]
    assert_array_equal(out[1, state_columns], [0, 0])


def test_no_warning_on_known_categories(flows):
    pre = FlowPreprocessor().fit(flows)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pre.transform(flows)

    assert not [w for w in caught if issubclass(w.category, UnknownCategoryWarning)]
    assert [str(w.message) for w in caught] == []
    assert out.shape == (len(flows), len(pre.get_feature_names_out()))


def test_pandas_output(flows):
    X = flows.set_index(pd.Index(list("uvwxyz")))
    pre = FlowPreprocessor(min_frequency=None).set_output(transform="pandas")
    out = pre.fit_transform(X)

    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pre.get_feature_names_out())
    assert list(out.index) == list("uvwxyz")
    assert (out.dtypes == np.float32).all()


def test_passthrough_columns_untouched():
    X = pd.DataFrame(
        {
            "host": ["10.0.0.1", "10.0.0.2", "10.0.0.1"],
            "stime": [1_421_927_414, 1_421_927_415, 1_421_927_416],
            "bytes": [1.0, 2.0, 3.0],
        }
    )
    pre = FlowPreprocessor(passthrough=["host", "stime"]).set_output(transform="pandas")
    out = pre.fit_transform(X)

    assert list(out.columns) == ["bytes", "host", "stime"]
    assert out["bytes"].dtype == np.float32
    assert_array_equal(out["host"], X["host"])
    assert_array_equal(out["stime"], X["stime"])
    assert out["stime"].dtype == np.int64

    # The default array output needs one dtype for everything.
    array_out = pre.set_output(transform="default").transform(X)
    assert array_out.dtype == object
    assert array_out[0, 1] == "10.0.0.1"


def test_non_numeric_column_must_be_listed():
    X = pd.DataFrame({"proto": ["tcp", "udp"], "bytes": [1.0, 2.0]})

    with pytest.raises(ValueError, match=r"Columns \['proto'\] are not numeric"):
        FlowPreprocessor(categorical_features=None).fit(X)


def test_missing_column_at_transform_is_named(flows):
    pre = FlowPreprocessor().fit(flows)

    with pytest.raises(ValueError, match="ttl"):
        pre.transform(flows.drop(columns="ttl"))
    with pytest.raises(ValueError, match="(?s)TTL.*ttl"):
        pre.transform(flows.rename(columns={"ttl": "TTL"}))


def test_unknown_listed_column_is_named(flows):
    with pytest.raises(ValueError, match="`passthrough` names column 'srcip'"):
        FlowPreprocessor(passthrough=["srcip"]).fit(flows)


def test_column_in_two_roles_is_rejected(flows):
    with pytest.raises(ValueError, match=r"\['proto'\] are in both"):
        FlowPreprocessor(categorical_features=["proto"], passthrough=["proto"]).fit(
            flows
        )


def test_log_feature_must_be_numeric(flows):
    with pytest.raises(ValueError, match=r"`log_features` lists \['proto'\]"):
        FlowPreprocessor(log_features=["proto"]).fit(flows)


def test_invalid_parameter_is_reported(flows):
    with pytest.raises(ValueError, match="nonfinite"):
        FlowPreprocessor(nonfinite="drop").fit(flows)


def test_clone_and_pickle_round_trip(flows):
    pre = clone(FlowPreprocessor(min_frequency=None)).fit(flows)

    restored = pickle.loads(pickle.dumps(pre))
    assert_array_equal(restored.transform(flows), pre.transform(flows))


def test_numbers_stored_as_text_are_flagged():
    from sklearn.exceptions import DataConversionWarning

    X = pd.DataFrame({"dur": ["0.1", "2", "3.5", "1e-05"], "proto": list("abab")})

    with pytest.warns(DataConversionWarning, match=r"\['dur'\] hold only numbers"):
        out = FlowPreprocessor(min_frequency=1).fit_transform(X)

    # Still encoded as told ("auto" takes text columns as categories).
    assert out.shape == (4, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        FlowPreprocessor(categorical_features=["dur", "proto"]).fit(X)


def test_array_path_equals_the_fitted_column_transformer():
    # transform computes the numbers from the ColumnTransformer's fitted parts
    # (for speed); they must be exactly what the ColumnTransformer gives.
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "bytes": rng.pareto(1.5, 300) * 1e4,
            "rate": np.r_[np.inf, np.nan, -np.inf, rng.normal(size=297)],
            "proto": rng.choice(
                ["tcp", "udp", "icmp", "sctp"], 300, p=[0.6, 0.3, 0.08, 0.02]
            ),
            "port": rng.choice([80.0, 443.0, 53.0], 300),
        }
    )
    pre = FlowPreprocessor(categorical_features=["proto", "port"], min_frequency=5)
    pre.fit(X)
    assert pre.log_features_ == ["bytes"]
    X_new = X.iloc[:40].assign(proto=["unseen"] * 40)

    with pytest.warns(UnknownCategoryWarning):
        fast = pre.transform(X_new)
    frame = pre._validate_input(X_new, reset=False)
    prepared = pre._prepared_frame(frame, pre._repair(pre._numeric_block(frame)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = pre.column_transformer_.transform(prepared)

    assert fast.dtype == np.float32
    assert_array_equal(fast, reference.to_numpy(dtype=np.float32))
    assert list(pre.get_feature_names_out()) == list(reference.columns)
