"""Sliding windows of consecutive flows, as flat tables with named columns.

The window column contract shared with the classifiers: a window of
``window`` flows with ``n_features`` features each is one row of
``window * n_features`` columns named ``f"t-{lag}__{feature}"``, oldest step
first (lag ``window - 1`` down to 0, lag 0 being the row's own flow) and,
within a step, in input feature order. Hence
``X.to_numpy().reshape(n_rows, window, n_features)`` restores the sequences
and :func:`parse_window_columns` recovers ``window`` and the feature names.
"""

import numbers
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._protocols import _position_in_group, _sorted_positions, window_label_purity
from .exceptions import LabelPurityWarning

__all__ = ["FlowWindower", "parse_window_columns", "window_column_names"]

_WINDOW_COLUMN = re.compile(r"^t-(\d+)__(.+)$", flags=re.DOTALL)


def window_column_names(window, feature_names):
    """Column names of a flattened window, oldest step first.

    Parameters
    ----------
    window : int
        Window length, at least 1.
    feature_names : sequence of str
        Per-flow feature names, in order.

    Returns
    -------
    names : ndarray of str of shape (window * n_features,)
        ``t-{lag}__{feature}`` for lag ``window - 1`` down to 0.

    See Also
    --------
    parse_window_columns : The inverse operation.

    Examples
    --------
    >>> from sklearn_2dbm import window_column_names
    >>> window_column_names(2, ["sbytes", "dur"]).tolist()
    ['t-1__sbytes', 't-1__dur', 't-0__sbytes', 't-0__dur']
    """
    _check_window(window)
    return np.asarray(
        [
            f"t-{lag}__{feature}"
            for lag in range(window - 1, -1, -1)
            for feature in feature_names
        ],
        dtype=object,
    )


def parse_window_columns(columns):
    """Recover the window length and flow features from window column names.

    Parameters
    ----------
    columns : sequence of str
        Column names, e.g. ``X.columns`` of a :class:`FlowWindower` output.

    Returns
    -------
    parsed : tuple (window, feature_names) or None
        ``window`` is an int and ``feature_names`` a list of str, such that
        the columns are exactly ``window_column_names(window,
        feature_names)``. None when the names do not follow that pattern
        (other names, missing or shuffled steps, features differing between
        steps).

    See Also
    --------
    window_column_names : Builds the names.

    Examples
    --------
    >>> from sklearn_2dbm import parse_window_columns
    >>> parse_window_columns(["t-1__a", "t-1__b", "t-0__a", "t-0__b"])
    (2, ['a', 'b'])
    >>> parse_window_columns(["a", "b"]) is None
    True
    """
    columns = list(columns)
    if not columns or not all(isinstance(col, str) for col in columns):
        return None
    matches = [_WINDOW_COLUMN.match(col) for col in columns]
    if not all(matches):
        return None

    window = int(matches[0].group(1)) + 1
    if len(columns) % window:
        return None
    n_features = len(columns) // window
    feature_names = [match.group(2) for match in matches[-n_features:]]
    expected = window_column_names(window, feature_names)
    if list(expected) != columns:
        return None
    return window, feature_names


def _check_window(window):
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise TypeError(
            f"`window` must be an int >= 1 (the number of flows per window), "
            f"got {window!r} of type {type(window).__name__}."
        )
    if window < 1:
        raise ValueError(
            f"`window` must be >= 1, got {window}. Use window=1 for models "
            "that see one flow at a time."
        )


class FlowWindower(TransformerMixin, BaseEstimator):
    """Turn each flow into the window of the flows that end at it.

    For every input row the output holds the ``window`` flows ending at that
    row (the row itself and the ``window - 1`` flows before it), optionally
    only among rows of the same ``group_by`` value and in ``order_by``
    order. There is exactly one output row per input row, in input order, so
    labels stay aligned; a window stands for the label of its **last** flow,
    the row it was built for.

    Parameters
    ----------
    window : int, default=8
        Number of flows per window, at least 1. ``window=1`` gives back the
        flow features under ``t-0__`` names.
    group_by : str or int, default=None
        Column whose value splits the flows into independent sequences (a
        host, a connection pair, a capture file); windows never span two
        groups. A name for a DataFrame, a position for an array. The column
        is consumed: it is not a feature of the output.
    order_by : str or int, default=None
        Column giving the order of flows within a group (e.g. start time);
        ties and ``order_by=None`` keep the input order (stable sort). Also
        consumed.
    purity_threshold : float or None, default=0.95
        When :meth:`fit` gets labels, it computes :attr:`label_purity_` and
        warns with :class:`~sklearn_2dbm.exceptions.LabelPurityWarning` when
        the purity is above this value, unless rows in random order would be
        that pure too (one label makes up nearly all rows). None turns the
        warning off.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in :meth:`fit`, ``group_by`` and ``order_by``
        included.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in :meth:`fit`, when ``X`` had string names.
    flow_feature_names_ : ndarray of shape (n_flow_features,)
        The per-flow features that are windowed: the input columns without
        ``group_by`` and ``order_by`` (``x0``, ``x1``, ... for arrays).
    label_purity_ : float or None
        Fraction of training windows of two or more flows whose flows all
        share the label of the last flow (see
        :func:`~sklearn_2dbm.window_label_purity`); None when ``fit`` got no
        labels.

    See Also
    --------
    parse_window_columns : Recovers ``window`` and the features from the
        output column names.
    window_label_purity : The label leakage measure used by ``fit``.

    Notes
    -----
    The output is a float32 :class:`pandas.DataFrame` with columns
    ``t-{lag}__{feature}``, oldest step first, so that
    ``X.to_numpy().reshape(n_rows, window, n_flow_features)`` restores the
    sequences and samplers of imbalanced-learn keep the names. It keeps the
    index of a DataFrame input, and stays a DataFrame under
    ``set_output(transform="default")``.

    Steps before the start of a group are padded with zeros. After
    :class:`~sklearn_2dbm.FlowPreprocessor` (standardisation) zero is the
    training mean of each feature, a neutral value.

    Windows are built only within the batch given to :meth:`transform`:
    the statistics learned in ``fit`` are the feature names only, and rows
    seen in ``fit`` are not remembered. At predict time, pass whole
    sequences (a capture, a host's flows) in one call; splitting a sequence
    into batches pads the start of every batch. For the same reason the
    output of a row depends on the other rows of the batch and on their
    order, unlike most scikit-learn transformers.

    Windows over rows sorted by label (as many published CSV files are) hold
    flows of a single label, so a model can read the label from the
    neighbours. ``fit`` with ``y`` measures this; see
    :class:`~sklearn_2dbm.exceptions.LabelPurityWarning`.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_2dbm import FlowWindower
    >>> X = pd.DataFrame({"host": ["a", "b", "a", "a", "b"],
    ...                   "bytes": [1.0, 10.0, 2.0, 3.0, 20.0]})
    >>> windower = FlowWindower(window=2, group_by="host")
    >>> windower.fit_transform(X)
       t-1__bytes  t-0__bytes
    0         0.0         1.0
    1         0.0        10.0
    2         1.0         2.0
    3         2.0         3.0
    4        10.0        20.0
    """

    _parameter_constraints = {
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "group_by": [str, numbers.Integral, None],
        "order_by": [str, numbers.Integral, None],
        "purity_threshold": [Interval(numbers.Real, 0, 1, closed="both"), None],
    }

    def __init__(
        self, *, window=8, group_by=None, order_by=None, purity_threshold=0.95
    ):
        self.window = window
        self.group_by = group_by
        self.order_by = order_by
        self.purity_threshold = purity_threshold

    def fit(self, X, y=None):
        """Record the input columns and, given labels, the window label purity.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Flow table, ``group_by`` and ``order_by`` columns included.
        y : array-like of shape (n_samples,), default=None
            Labels in row order. Only used to measure label purity.

        Returns
        -------
        self : FlowWindower
            Fitted windower.
        """
        # The dedicated message first: it is clearer than the generic one.
        _check_window(self.window)
        self._validate_params()
        frame = self._validate_input(X, reset=True)
        keys = self._key_columns(list(frame.columns))

        if y is None:
            self.label_purity_ = None
        else:
            y = np.asarray(y)
            if len(y) != len(frame):
                raise ValueError(
                    f"y has {len(y)} labels but X has {len(frame)} rows; "
                    "pass one label per flow."
                )
            self.label_purity_ = window_label_purity(
                y,
                self.window,
                groups=frame[keys["group_by"]] if "group_by" in keys else None,
                order=frame[keys["order_by"]] if "order_by" in keys else None,
            )
            self._warn_on_purity(y)

        key_names = set(keys.values())
        self.flow_feature_names_ = np.asarray(
            [col for col in frame.columns if col not in key_names], dtype=object
        )
        # Fail in fit, not at predict time, on features that are not numbers.
        self._flow_features(frame)
        return self

    def transform(self, X):
        """Build the window ending at each row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Flow table with the columns seen in :meth:`fit`.

        Returns
        -------
        X_windows : DataFrame of shape (n_samples, window * n_flow_features)
            float32 windows, one row per input row in input order, columns
            ``t-{lag}__{feature}``.
        """
        check_is_fitted(self)
        frame = self._validate_input(X, reset=False)

        keys = self._key_columns(list(frame.columns))
        n_samples = len(frame)
        features = self._flow_features(frame)
        permutation, new_group = _sorted_positions(
            n_samples,
            groups=frame[keys["group_by"]] if "group_by" in keys else None,
            order=frame[keys["order_by"]] if "order_by" in keys else None,
        )
        position = _position_in_group(new_group)

        # source[i, step] is the input row whose flow fills that step of row
        # i's window, or n_samples (an extra zero row) for padding; one
        # gather then builds every window, already in input order.
        n_features = features.shape[1]
        padded = np.zeros((n_samples + 1, n_features), dtype=np.float32)
        padded[:n_samples] = features
        sorted_rows = np.arange(n_samples)
        source = np.full((n_samples, self.window), n_samples, dtype=np.intp)
        for lag in range(self.window):
            has_flow = position >= lag
            source[permutation[has_flow], self.window - 1 - lag] = permutation[
                sorted_rows[has_flow] - lag
            ]
        windows = padded[source]

        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(
            windows.reshape(n_samples, self.window * n_features),
            columns=self.get_feature_names_out(),
            index=index,
            copy=False,
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, ``t-{lag}__{feature}``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; must match ``feature_names_in_`` when that
            is defined.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Window column names, oldest step first.
        """
        check_is_fitted(self, "flow_feature_names_")
        _check_feature_names_in(self, input_features)
        return window_column_names(self.window, self.flow_feature_names_)

    def _validate_input(self, X, reset):
        """Check X against the fitted columns; return a DataFrame with str names.

        Columns keep their names when X is a DataFrame with string column
        names and are called ``x0``, ``x1``, ... otherwise.
        """
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < 1:
                raise ValueError(
                    f"FlowWindower needs at least one row, got shape {X.shape}."
                )
            frame = X.reset_index(drop=True)
            if not all(isinstance(col, str) for col in frame.columns):
                frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        else:
            array = validate_data(
                self, X, dtype=None, ensure_all_finite=False, reset=reset
            )
            names = [f"x{i}" for i in range(array.shape[1])]
            frame = pd.DataFrame(array, columns=names, copy=False)
        self._key_columns(list(frame.columns))
        return frame

    def _key_columns(self, names):
        """Internal names of the ``group_by`` and ``order_by`` columns."""
        keys = {}
        for param in ("group_by", "order_by"):
            key = getattr(self, param)
            if key is None:
                continue
            if isinstance(key, str):
                if key not in names:
                    raise ValueError(
                        f"`{param}`={key!r} is not a column of X. Available "
                        f"columns: {names}. For an array without column "
                        "names, give the column position as an int."
                    )
                keys[param] = key
            elif -len(names) <= key < len(names):
                keys[param] = names[key]
            else:
                raise ValueError(
                    f"`{param}`={key} is not a column position of X, which "
                    f"has {len(names)} columns."
                )
        if len(set(keys.values())) < len(keys):
            raise ValueError(
                f"`group_by` and `order_by` name the same column "
                f"{keys['group_by']!r}; give the sort key its own column."
            )
        return keys

    def _flow_features(self, frame):
        """The flow feature block as float32, with a diagnosis on failure."""
        columns = list(self.flow_feature_names_)
        try:
            return frame[columns].to_numpy(dtype=np.float32)
        except (TypeError, ValueError) as exc:
            bad = [
                col
                for col in columns
                if not pd.api.types.is_numeric_dtype(frame[col])
                and not pd.api.types.is_bool_dtype(frame[col])
            ]
            raise type(exc)(
                f"FlowWindower needs numeric flow features; column(s) {bad} "
                "are not numeric. Encode them first (FlowPreprocessor) or "
                f"consume them with group_by/order_by. Original error: {exc}"
            ) from exc

    def _warn_on_purity(self, y):
        if (
            self.purity_threshold is None
            or self.label_purity_ is None
            or np.isnan(self.label_purity_)
            or self.label_purity_ <= self.purity_threshold
        ):
            return
        _, counts = np.unique(y, return_counts=True)
        chance = float(np.sum((counts / counts.sum()) ** self.window))
        if chance > self.purity_threshold:
            # Nearly a single label: windows are pure in any order, so the
            # purity says nothing about how the rows are sorted.
            return
        warnings.warn(
            f"{self.label_purity_:.1%} of the training windows (window="
            f"{self.window}) hold flows of a single label, above "
            f"purity_threshold={self.purity_threshold}; rows in random order "
            f"would give about {chance:.1%}. Windows over rows sorted by label "
            "let a sequence model read a flow's label from its neighbours, so "
            "scores would measure the file's ordering rather than detection. "
            "Window real sequences (group_by a host or capture and order_by "
            "time), or shuffle the rows first if they carry no real order.",
            LabelPurityWarning,
            stacklevel=3,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
