"""Turn a raw flow table into standardised float32 features."""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import DataConversionWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from .exceptions import UnknownCategoryWarning

__all__ = ["FlowPreprocessor"]

# Placeholder category for missing values of a categorical column.
MISSING_CATEGORY = "missing"

# "auto" log rule: log-scale a non-negative column whose maximum exceeds
# this many times (median + 1). log1p barely changes values below 1, hence
# the shift by one.
_LOG_AUTO_RATIO = 100.0

# At most this many unknown values are named per column in the warning.
_MAX_VALUES_SHOWN = 5


def _signed_log1p(X, columns):
    """``sign(x) * log1p(|x|)`` on the given column positions, others as is."""
    X = np.array(X, dtype=np.float64)
    block = X[:, columns]
    X[:, columns] = np.sign(block) * np.log1p(np.abs(block))
    return X


def _column_as_str(series):
    """Values of a categorical column as str, missing values as a placeholder.

    Integral floats print without the decimal part, so a port read as float
    because of a missing value (``80.0``) still matches ``80``.
    """
    missing = series.isna().to_numpy()
    if pd.api.types.is_float_dtype(series.dtype):
        finite = series[~missing]
        if np.all(np.isfinite(finite)) and np.all(np.mod(finite, 1) == 0):
            series = series.astype("Int64")
    values = series.astype(str).to_numpy(dtype=object)
    values[missing] = MISSING_CATEGORY
    return values


def _format_values(values):
    shown = ", ".join(repr(value) for value in values[:_MAX_VALUES_SHOWN])
    if len(values) > _MAX_VALUES_SHOWN:
        shown += f" and {len(values) - _MAX_VALUES_SHOWN} more"
    return shown


class FlowPreprocessor(TransformerMixin, BaseEstimator):
    """Encode and standardise a flow table for neural intrusion detectors.

    Numeric columns go through three steps: non-finite values are repaired,
    heavy-tailed counters are log-scaled, and every column is standardised.
    Categorical columns (protocol, service, state, ports where wanted) are
    one-hot encoded with rare values grouped. Selected columns can be passed
    through untouched, e.g. a host or time column for
    :class:`~sklearn_2dbm.FlowWindower`. Every statistic is learned in
    :meth:`fit`; :meth:`transform` only applies them.

    Parameters
    ----------
    categorical_features : "auto", list of str or int, or None, default="auto"
        Columns to one-hot encode. "auto" takes the columns of a DataFrame
        with object, string or category dtype (none for an array). A list
        gives names (DataFrame) or positions; numeric columns such as ports
        may be listed. None: no categorical column.
    log_features : "auto", list of str or int, or None, default="auto"
        Numeric columns to transform with ``sign(x) * log1p(|x|)`` before
        standardisation. "auto" picks, from the training data after the
        non-finite repair, each column whose values are all >= 0 and whose
        maximum exceeds 100 times (median + 1): byte and packet counters,
        rates, loads. None: no log scaling.
    nonfinite : {"clip", "nan-to-median", "error"}, default="clip"
        Handling of non-finite numeric values (CIC-IDS2017 has ``inf`` in
        its rate columns). "clip": ``+inf`` and ``-inf`` become the largest
        and smallest finite training value of the column, ``NaN`` the
        training median. "nan-to-median": ``NaN`` and ``±inf`` all become the
        training median. "error": raise ``ValueError`` naming the columns.
    min_frequency : int, float or None, default=10
        Categories seen fewer times than this in training (int), or in less
        than this fraction of the rows (float in (0, 1)), are grouped into
        one ``{column}_infrequent_sklearn`` column. None: no grouping by
        frequency.
    max_categories : int or None, default=None
        Upper bound on output columns per categorical column, infrequent
        bucket included (at least 2). None: no bound.
    passthrough : list of str or int, or None, default=None
        Columns returned unchanged after the encoded features, e.g. a host
        or timestamp used by ``FlowWindower(group_by=..., order_by=...)``.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in :meth:`fit`, when ``X`` had string names.
    numeric_features_ : list of str
        Numeric columns, in input order (``x0``, ``x1``, ... for arrays).
    categorical_features_ : list of str
        One-hot encoded columns.
    passthrough_features_ : list of str
        Columns passed through.
    log_features_ : list of str
        Numeric columns that are log-scaled.
    categories_ : dict of str to ndarray
        Categories seen in training for each categorical column (as str,
        missing values as ``"missing"``), infrequent ones included.
    nonfinite_counts_ : dict of str to dict
        For each numeric column that had non-finite training values, the
        number of ``"nan"``, ``"posinf"`` and ``"neginf"`` values repaired.
    fill_values_ : dict of str to ndarray
        Per numeric column replacement values learned in fit: ``"nan"``
        (median), ``"posinf"`` and ``"neginf"``.
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted building blocks (log and scaling pipeline, one-hot
        encoder, passthrough), applied after the non-finite repair.

    See Also
    --------
    FlowWindower : Builds windows of consecutive flows from the output.

    Notes
    -----
    **Unknown categories.** A value not seen in fit never raises and never
    changes the output width. It is encoded as the column's infrequent
    bucket when the column has one (some training category was rarer than
    ``min_frequency`` or cut by ``max_categories``), otherwise as all zeros
    across that column's indicators. Each :meth:`transform` call that meets
    unknown values emits one
    :class:`~sklearn_2dbm.exceptions.UnknownCategoryWarning` naming the
    columns and values.

    **Output.** float32 array by default; with
    ``set_output(transform="pandas")`` a DataFrame with the names of
    :meth:`get_feature_names_out` and the input index. Passthrough columns
    keep their dtype in a DataFrame; in an array they force a common dtype
    (float64 for integer timestamps, object for strings), so use pandas
    output when passing columns through.

    Categorical values are compared as strings: ``80`` and ``"80"`` are the
    same category, missing values form the category ``"missing"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_2dbm import FlowPreprocessor
    >>> X = pd.DataFrame({
    ...     "sbytes": [100, 200, 150, 900000, np.inf],
    ...     "ttl": [31, 62, 31, 254, 62],
    ...     "proto": ["tcp", "udp", "tcp", "tcp", "udp"],
    ... })
    >>> pre = FlowPreprocessor(min_frequency=None).fit(X)
    >>> pre.log_features_
    ['sbytes']
    >>> pre.nonfinite_counts_
    {'sbytes': {'nan': 0, 'posinf': 1, 'neginf': 0}}
    >>> pre.get_feature_names_out().tolist()
    ['sbytes', 'ttl', 'proto_tcp', 'proto_udp']
    >>> pre.transform(X).shape, pre.transform(X).dtype
    ((5, 4), dtype('float32'))
    """

    _parameter_constraints = {
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "log_features": [StrOptions({"auto"}), "array-like", None],
        "nonfinite": [StrOptions({"clip", "nan-to-median", "error"})],
        "min_frequency": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "max_categories": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "passthrough": ["array-like", None],
    }

    def __init__(
        self,
        *,
        categorical_features="auto",
        log_features="auto",
        nonfinite="clip",
        min_frequency=10,
        max_categories=None,
        passthrough=None,
    ):
        self.categorical_features = categorical_features
        self.log_features = log_features
        self.nonfinite = nonfinite
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.passthrough = passthrough

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn repair values, log columns, scaling and categories.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Flow table.
        y : None
            Ignored.

        Returns
        -------
        self : FlowPreprocessor
            Fitted preprocessor.
        """
        frame = self._validate_input(X, reset=True)
        self._resolve_roles(frame, from_dataframe=isinstance(X, pd.DataFrame))

        numeric = self._numeric_block(frame)
        self.nonfinite_counts_ = self._count_nonfinite(numeric)
        self._raise_on_nonfinite(self.nonfinite_counts_)
        self.fill_values_ = self._learn_fill_values(numeric)
        numeric = self._repair(numeric)
        self.log_features_ = self._select_log_features(frame, numeric)

        log_positions = [self.numeric_features_.index(c) for c in self.log_features_]
        scaler = Pipeline(
            [
                (
                    "log",
                    FunctionTransformer(
                        _signed_log1p,
                        kw_args={"columns": log_positions},
                        feature_names_out="one-to-one",
                    ),
                ),
                ("scale", StandardScaler()),
            ]
        )
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=self.min_frequency,
            max_categories=self.max_categories,
            sparse_output=False,
            dtype=np.float32,
        )
        self.column_transformer_ = ColumnTransformer(
            [
                ("numeric", scaler, self.numeric_features_),
                ("categorical", encoder, self.categorical_features_),
                ("passthrough", "passthrough", self.passthrough_features_),
            ],
            remainder="drop",
            sparse_threshold=0,
            verbose_feature_names_out=False,
        ).set_output(transform="pandas")
        self.column_transformer_.fit(self._prepared_frame(frame, numeric))

        encoder = self._fitted_encoder()
        self.categories_ = {
            col: categories
            for col, categories in zip(
                self.categorical_features_,
                encoder.categories_ if encoder is not None else [],
            )
        }
        return self

    def transform(self, X):
        """Repair, log-scale, standardise and encode ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Flow table with the columns seen in :meth:`fit`.

        Returns
        -------
        X_out : ndarray or DataFrame of shape (n_samples, n_features_out)
            Encoded features, float32 (see Notes for passthrough columns).
        """
        check_is_fitted(self)
        frame = self._validate_input(X, reset=False)

        numeric = self._numeric_block(frame)
        self._raise_on_nonfinite(self._count_nonfinite(numeric))
        prepared = self._prepared_frame(frame, self._repair(numeric))
        self._warn_unknown_categories(prepared)
        pandas_output = _get_output_config("transform", self)["dense"] != "default"
        if not self.passthrough_features_:
            values = self._encode(prepared)
            if not pandas_output:
                return values
            return pd.DataFrame(
                values,
                columns=self.get_feature_names_out(),
                index=X.index if isinstance(X, pd.DataFrame) else None,
                copy=False,
            )
        with warnings.catch_warnings():
            # Our own UnknownCategoryWarning above replaces the encoder's.
            warnings.filterwarnings(
                "ignore", message="Found unknown categories", category=UserWarning
            )
            out = self.column_transformer_.transform(prepared)

        features = [c for c in out.columns if c not in self.passthrough_features_]
        out = out.astype(dict.fromkeys(features, np.float32))
        if pandas_output:
            if isinstance(X, pd.DataFrame):
                out.index = X.index
            return out
        if not self.passthrough_features_:
            return out.to_numpy(dtype=np.float32)
        return out.to_numpy()

    def _encode(self, prepared):
        """The fitted ColumnTransformer's numbers, computed on arrays.

        The ColumnTransformer builds and joins a DataFrame per block, which
        costs milliseconds per call and dominates the latency of scoring a
        single flow; this computes the same values directly from its fitted
        parts (signed log, standardisation, one-hot encoding).
        """
        blocks = []
        if self.numeric_features_:
            steps = self.column_transformer_.named_transformers_["numeric"]
            log = steps.named_steps["log"]
            scaler = steps.named_steps["scale"]
            numeric = prepared[self.numeric_features_].to_numpy(dtype=np.float64)
            numeric = _signed_log1p(numeric, **log.kw_args)
            numeric -= scaler.mean_
            numeric /= scaler.scale_
            blocks.append(numeric.astype(np.float32))
        encoder = self._fitted_encoder()
        if encoder is not None:
            with warnings.catch_warnings():
                # Our own UnknownCategoryWarning replaces the encoder's.
                warnings.filterwarnings(
                    "ignore", message="Found unknown categories", category=UserWarning
                )
                encoded = encoder.transform(prepared[self.categorical_features_])
            blocks.append(np.asarray(encoded, dtype=np.float32))
        if not blocks:
            return np.empty((len(prepared), 0), dtype=np.float32)
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features=None):
        """Output column names.

        Numeric columns keep their names, one-hot columns are named
        ``{column}_{category}`` (``{column}_infrequent_sklearn`` for the
        grouped rare values), passthrough columns come last.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; must match ``feature_names_in_`` when that
            is defined.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Output column names.
        """
        check_is_fitted(self)
        # Internal names are feature_names_in_ or x0, x1, ...: the defaults.
        internal = _check_feature_names_in(self, None)
        names = _check_feature_names_in(self, input_features)
        rename = dict(zip(internal, names))

        out = [rename[col] for col in self.numeric_features_]
        encoder = self._fitted_encoder()
        if encoder is not None:
            out.extend(
                encoder.get_feature_names_out(
                    [rename[col] for col in self.categorical_features_]
                )
            )
        out.extend(rename[col] for col in self.passthrough_features_)
        return np.asarray(out, dtype=object)

    # -- input and column roles ------------------------------------------

    def _validate_input(self, X, reset):
        """Check X against the fitted columns; return a DataFrame with str names.

        Columns keep their names when X is a DataFrame with string column
        names and are called ``x0``, ``x1``, ... otherwise.
        """
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < 1 or X.shape[1] < 1:
                raise ValueError(
                    "FlowPreprocessor needs at least one row and one column, "
                    f"got a DataFrame of shape {X.shape}."
                )
            frame = X.reset_index(drop=True)
            if not all(isinstance(col, str) for col in frame.columns):
                frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        else:
            # Listed categorical or passthrough columns may hold strings.
            has_categorical = not isinstance(
                self.categorical_features, (str, type(None))
            ) or (self.passthrough is not None and len(self.passthrough) > 0)
            try:
                array = validate_data(
                    self,
                    X,
                    dtype=None if has_categorical else np.float64,
                    ensure_all_finite=False,
                    reset=reset,
                )
            except (TypeError, ValueError) as exc:
                if has_categorical or "convert" not in str(exc):
                    raise
                raise ValueError(
                    f"{exc}. Every column of an array is taken as numeric "
                    "unless `categorical_features` lists its position (or "
                    "`passthrough` does); pass a DataFrame to detect string "
                    "columns automatically."
                ) from exc
            frame = pd.DataFrame(
                array, columns=[f"x{i}" for i in range(array.shape[1])], copy=False
            )
        return frame

    def _resolve_columns(self, frame, spec, param):
        """Internal names of the columns given by a list parameter."""
        names = list(frame.columns)
        resolved = []
        for col in spec:
            if isinstance(col, str):
                if col not in names:
                    raise ValueError(
                        f"`{param}` names column {col!r}, which is not in X. "
                        f"Available columns: {names}. For an array without "
                        "column names, give column positions as ints."
                    )
                resolved.append(col)
            elif isinstance(col, numbers.Integral) and -len(names) <= col < len(names):
                resolved.append(names[col])
            else:
                raise ValueError(
                    f"`{param}` holds {col!r}, which is neither a column name "
                    f"nor a column position of X ({len(names)} columns)."
                )
        return list(dict.fromkeys(resolved))

    def _resolve_roles(self, frame, from_dataframe):
        passthrough = self._resolve_columns(
            frame, self.passthrough or [], "passthrough"
        )
        if self.categorical_features == "auto":
            # Arrays: every column is numeric unless listed (see docstring).
            categorical = [
                col
                for col in frame.columns
                if from_dataframe
                and col not in passthrough
                and (
                    pd.api.types.is_object_dtype(frame[col])
                    or pd.api.types.is_string_dtype(frame[col])
                    or isinstance(frame[col].dtype, pd.CategoricalDtype)
                )
            ]
            self._warn_numbers_as_text(frame, categorical)
        else:
            categorical = self._resolve_columns(
                frame, self.categorical_features or [], "categorical_features"
            )
            both = [col for col in categorical if col in passthrough]
            if both:
                raise ValueError(
                    f"Columns {both} are in both `categorical_features` and "
                    "`passthrough`; list each column in one of them."
                )
        taken = set(passthrough) | set(categorical)
        self.passthrough_features_ = passthrough
        self.categorical_features_ = categorical
        self.numeric_features_ = [col for col in frame.columns if col not in taken]

    def _warn_numbers_as_text(self, frame, categorical):
        """Flag text columns that hold only numbers: likely a parsing slip."""
        numeric_text = [
            col
            for col in categorical
            if frame[col].notna().any()
            and pd.to_numeric(frame[col], errors="coerce").notna().all()
        ]
        if numeric_text:
            warnings.warn(
                f"Columns {numeric_text} hold only numbers but are stored as "
                "text, so categorical_features='auto' one-hot encodes every "
                "distinct value. Convert them with pd.to_numeric to scale them "
                "as numbers, or list the columns you do want one-hot encoded "
                "(ports, say) in `categorical_features` to silence this warning.",
                DataConversionWarning,
                stacklevel=3,
            )

    def _numeric_block(self, frame):
        """Numeric columns as float64, with a diagnosis when that fails."""
        columns = self.numeric_features_
        try:
            return frame[columns].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            bad = []
            for col in columns:
                try:
                    frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError):
                    bad.append(col)
            raise type(exc)(
                f"Columns {bad} are not numeric. List them in "
                "`categorical_features` to one-hot encode them or in "
                f"`passthrough` to keep them as they are. Original error: {exc}"
            ) from exc

    # -- non-finite values ------------------------------------------------

    def _count_nonfinite(self, numeric):
        counts = {
            "nan": np.isnan(numeric).sum(axis=0),
            "posinf": np.isposinf(numeric).sum(axis=0),
            "neginf": np.isneginf(numeric).sum(axis=0),
        }
        return {
            col: {kind: int(counts[kind][j]) for kind in counts}
            for j, col in enumerate(self.numeric_features_)
            if any(counts[kind][j] for kind in counts)
        }

    def _raise_on_nonfinite(self, counts):
        if self.nonfinite != "error" or not counts:
            return
        details = "; ".join(
            f"{col}: " + ", ".join(f"{n} {kind}" for kind, n in found.items() if n)
            for col, found in counts.items()
        )
        raise ValueError(
            f"X has non-finite values in {len(counts)} numeric column(s) "
            f"({details}) and nonfinite='error'. Clean them first, or set "
            "nonfinite='clip' or 'nan-to-median' to repair them."
        )

    def _learn_fill_values(self, numeric):
        finite = np.where(np.isfinite(numeric), numeric, np.nan)
        with warnings.catch_warnings():
            # An all-non-finite column gives NaN statistics, replaced below.
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(finite, axis=0)
            low = np.nanmin(finite, axis=0) if len(finite) else median
            high = np.nanmax(finite, axis=0) if len(finite) else median
        median = np.nan_to_num(median, nan=0.0)
        if self.nonfinite == "nan-to-median":
            low = high = median
        return {
            "nan": median,
            "posinf": np.nan_to_num(high, nan=0.0),
            "neginf": np.nan_to_num(low, nan=0.0),
        }

    def _repair(self, numeric):
        if not self.numeric_features_:
            return numeric
        fill = self.fill_values_
        shape = numeric.shape
        numeric = np.where(
            np.isnan(numeric), np.broadcast_to(fill["nan"], shape), numeric
        )
        numeric = np.where(
            np.isposinf(numeric), np.broadcast_to(fill["posinf"], shape), numeric
        )
        return np.where(
            np.isneginf(numeric), np.broadcast_to(fill["neginf"], shape), numeric
        )

    def _select_log_features(self, frame, numeric):
        if self.log_features is None:
            return []
        if isinstance(self.log_features, str):  # "auto"
            if len(numeric) == 0:
                return []
            non_negative = (numeric >= 0).all(axis=0)
            heavy = numeric.max(axis=0) > _LOG_AUTO_RATIO * (
                np.median(numeric, axis=0) + 1
            )
            return [
                col
                for col, keep in zip(self.numeric_features_, non_negative & heavy)
                if keep
            ]
        chosen = self._resolve_columns(frame, self.log_features, "log_features")
        not_numeric = [col for col in chosen if col not in self.numeric_features_]
        if not_numeric:
            raise ValueError(
                f"`log_features` lists {not_numeric}, which are not numeric "
                "feature columns (categorical or passthrough). Remove them "
                "from `log_features`."
            )
        return [col for col in self.numeric_features_ if col in chosen]

    # -- categorical values -----------------------------------------------

    def _prepared_frame(self, frame, numeric):
        """The frame handed to the ColumnTransformer: repaired, categories as str."""
        data = {col: numeric[:, j] for j, col in enumerate(self.numeric_features_)}
        for col in self.categorical_features_:
            data[col] = _column_as_str(frame[col])
        for col in self.passthrough_features_:
            data[col] = frame[col]
        return pd.DataFrame(data, index=frame.index)

    def _fitted_encoder(self):
        if not self.categorical_features_:
            return None
        return self.column_transformer_.named_transformers_["categorical"]

    def _warn_unknown_categories(self, prepared):
        encoder = self._fitted_encoder()
        if encoder is None:
            return
        infrequent = getattr(
            encoder, "infrequent_categories_", [None] * len(encoder.categories_)
        )
        parts = []
        for col, known, rare in zip(
            self.categorical_features_, encoder.categories_, infrequent
        ):
            values = prepared[col]
            unknown = ~values.isin(known)
            if not unknown.any():
                continue
            found = pd.unique(values[unknown].to_numpy())
            target = (
                f"encoded as {col}_infrequent_sklearn"
                if rare is not None
                else "encoded as all zeros"
            )
            parts.append(
                f"{col}: {_format_values(list(found))} "
                f"({int(unknown.sum())} row(s), {target})"
            )
        if parts:
            warnings.warn(
                "FlowPreprocessor.transform found categories not seen in fit in "
                f"{len(parts)} column(s): " + "; ".join(parts) + ". The output "
                "width is unchanged. Refit on data that covers these values, or "
                "set min_frequency so that each column has an infrequent "
                "bucket to absorb them.",
                UnknownCategoryWarning,
                # Past transform and scikit-learn's set_output wrapper.
                stacklevel=4,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
