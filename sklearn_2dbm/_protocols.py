"""Evaluation protocols that keep duplicated flows and label order honest.

Flow tables of intrusion-detection data sets hold many exact duplicates
(UNSW-NB15: about a third of the rows once ``id`` is dropped) and are often
stored sorted by attack. A random split then puts copies of the same flow on
both sides, and windows over sorted rows let a sequence model read a flow's
label from its neighbours. The helpers here measure both effects and give
splitters that avoid the first one.
"""

import numbers

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils.validation import check_consistent_length

from ._utils import local_random_state

__all__ = [
    "DuplicateAwareStratifiedKFold",
    "dedup_train_test_split",
    "duplicate_groups",
    "duplicate_overlap",
    "window_label_purity",
]


def _as_frame(X, ignore=None):
    """Return ``X`` as a DataFrame without the ``ignore`` columns."""
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        array = np.asarray(X)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise ValueError(
                f"Expected a 2-D table of flows, got an array with shape "
                f"{array.shape}. Reshape it to (n_rows, n_features)."
            )
        frame = pd.DataFrame(array)
    if ignore is None:
        return frame

    ignore = [ignore] if isinstance(ignore, (str, numbers.Integral)) else list(ignore)
    if isinstance(X, pd.DataFrame):
        missing = [col for col in ignore if col not in frame.columns]
        if missing:
            raise ValueError(
                f"`ignore` names columns that are not in X: {missing}. "
                f"X has the columns {list(frame.columns)}."
            )
        return frame.drop(columns=ignore)
    bad = [col for col in ignore if not isinstance(col, numbers.Integral)]
    if bad:
        raise ValueError(
            f"`ignore` must hold integer column positions when X is an array, "
            f"got {bad}. Pass a DataFrame to ignore columns by name."
        )
    return frame.drop(columns=frame.columns[ignore])


def _row_hashes(frame):
    """64-bit hash of each row's values (the index is not part of the hash)."""
    if frame.shape[1] == 0:
        return np.zeros(len(frame), dtype=np.uint64)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def duplicate_groups(X, *, ignore=None):
    """Label the rows of a flow table by exact duplicate group.

    Two rows get the same group id when all their feature values are equal
    (``NaN`` equals ``NaN`` here). Group ids are consecutive integers
    numbered in order of first appearance.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Flow table.
    ignore : str, int or list, default=None
        Columns left out of the comparison, typically a row number such as
        UNSW-NB15's ``id``. Names for a DataFrame, positions for an array.

    Returns
    -------
    groups : ndarray of shape (n_samples,), dtype int64
        Duplicate group id of each row.

    Notes
    -----
    Rows are compared through a 64-bit hash of their values, so two
    different rows share a group only on a hash collision (odds about
    ``n_samples**2 / 2**64``); a collision can only keep two rows on the same
    side of a split, never put a duplicate on both sides. Columns are hashed
    with their dtype, so ``1`` in an integer column and ``1.0`` in a float
    column of another table hash differently: compare tables with
    :func:`duplicate_overlap`, which aligns dtypes first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import duplicate_groups
    >>> X = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]])
    >>> duplicate_groups(X)
    array([0, 1, 0, 2, 1])
    """
    frame = _as_frame(X, ignore=ignore)
    codes, _ = pd.factorize(_row_hashes(frame))
    return codes.astype(np.int64)


def duplicate_overlap(X_train, X_test, *, ignore=None):
    """Fraction of test rows that have an exact duplicate in the training rows.

    Use it to report how much a random split lets a model be scored on flows
    it was trained on.

    Parameters
    ----------
    X_train : array-like or DataFrame of shape (n_train, n_features)
        Training rows.
    X_test : array-like or DataFrame of shape (n_test, n_features)
        Test rows, with the same columns as ``X_train``.
    ignore : str, int or list, default=None
        Columns left out of the comparison (see :func:`duplicate_groups`).

    Returns
    -------
    overlap : float
        Fraction in [0, 1] of test rows equal to at least one training row;
        0.0 when ``X_test`` has no rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import duplicate_overlap
    >>> X_train = np.array([[0, 1], [2, 3], [4, 5]])
    >>> X_test = np.array([[2, 3], [6, 7], [0, 1], [8, 9]])
    >>> float(duplicate_overlap(X_train, X_test))
    0.5
    """
    train = _as_frame(X_train, ignore=ignore)
    test = _as_frame(X_test, ignore=ignore)
    if list(train.columns) != list(test.columns):
        raise ValueError(
            "X_train and X_test must have the same columns in the same order; "
            f"got {list(train.columns)} and {list(test.columns)}."
        )
    if len(test) == 0:
        return 0.0

    # Hash both tables as one so that a column has a single dtype on both
    # sides (int in one table and float in the other would hash differently).
    both = pd.concat(
        [train.reset_index(drop=True), test.reset_index(drop=True)],
        ignore_index=True,
    )
    hashes = _row_hashes(both)
    in_train = np.isin(hashes[len(train) :], hashes[: len(train)])
    return float(in_train.mean())


def _group_strata(groups, y):
    """Majority label (as a code) of each duplicate group."""
    y_codes, _ = pd.factorize(np.asarray(y), use_na_sentinel=False)
    n_groups = groups.max() + 1 if len(groups) else 0
    n_classes = y_codes.max() + 1 if len(y_codes) else 0
    counts = np.zeros((n_groups, n_classes), dtype=np.int64)
    np.add.at(counts, (groups, y_codes), 1)
    return counts.argmax(axis=1), counts.sum(axis=1)


def dedup_train_test_split(
    X, y, *, test_size=0.25, random_state=None, stratify=True, ignore=None
):
    """Split flows into train and test so that no duplicate crosses the split.

    Rows are first grouped by exact duplicate (:func:`duplicate_groups`);
    whole groups are then assigned to one side, class by class, so that each
    class keeps about ``test_size`` of its rows in the test set.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Flow table.
    y : array-like of shape (n_samples,)
        Labels.
    test_size : float or int, default=0.25
        Fraction (float in (0, 1)) or number (int) of rows to put in the
        test set. Met as closely as whole duplicate groups allow.
    random_state : int, RandomState instance or None, default=None
        Controls which groups go to the test set. Pass an int for
        reproducible splits.
    stratify : bool, default=True
        Whether to split each class separately. A group whose rows carry
        different labels counts for its most frequent label.
    ignore : str, int or list, default=None
        Columns left out of the duplicate comparison, e.g. a row number.
        They stay in the returned tables.

    Returns
    -------
    X_train, X_test, y_train, y_test : same types as ``X`` and ``y``
        The two sides of the split, rows in their original order.

    See Also
    --------
    DuplicateAwareStratifiedKFold : Cross-validation with the same guarantee.
    duplicate_overlap : Measures what a random split leaks.

    Notes
    -----
    The test fraction of a class can differ from ``test_size`` when that
    class has few rows or a few very large duplicate groups (an identical
    flow repeated thousands of times goes entirely to one side). A class with
    a single distinct row ends up in the training set. This never raises
    because of a small class, unlike
    :func:`sklearn.model_selection.train_test_split` with ``stratify``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import dedup_train_test_split
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 3, size=(200, 2))  # many exact duplicates
    >>> y = (X[:, 0] > 0).astype(int)
    >>> X_train, X_test, y_train, y_test = dedup_train_test_split(
    ...     X, y, test_size=0.3, random_state=0)
    >>> len(X_train) + len(X_test)
    200
    >>> train_rows = {tuple(row) for row in X_train}
    >>> any(tuple(row) in train_rows for row in X_test)
    False
    """
    check_consistent_length(X, y)
    n_samples = len(y)
    if n_samples < 2:
        raise ValueError(
            f"dedup_train_test_split needs at least 2 rows, got {n_samples}."
        )
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        if not 1 <= test_size < n_samples:
            raise ValueError(
                f"`test_size` as an int must be in [1, {n_samples - 1}] "
                f"(the number of test rows), got {test_size}."
            )
        fraction = test_size / n_samples
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        fraction = float(test_size)
    else:
        raise ValueError(
            "`test_size` must be a float in (0, 1) or an int number of rows, "
            f"got {test_size!r}."
        )

    rng = local_random_state(random_state)
    groups = duplicate_groups(X, ignore=ignore)
    strata, sizes = _group_strata(groups, y)
    if not stratify:
        strata = np.zeros_like(strata)

    test_groups = []
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        cumulative = np.concatenate([[0], np.cumsum(sizes[members])])
        target = fraction * cumulative[-1]
        # The shortest prefix of shuffled groups whose size is closest to
        # the target; whole groups only, so duplicates stay together.
        n_take = int(np.argmin(np.abs(cumulative - target)))
        test_groups.append(members[:n_take])
    is_test = np.isin(groups, np.concatenate(test_groups))

    train_idx = np.flatnonzero(~is_test)
    test_idx = np.flatnonzero(is_test)
    return (
        _safe_indexing(X, train_idx),
        _safe_indexing(X, test_idx),
        _safe_indexing(y, train_idx),
        _safe_indexing(y, test_idx),
    )


class DuplicateAwareStratifiedKFold(BaseCrossValidator):
    """Stratified K-fold that keeps exact duplicate rows in the same fold.

    Rows of ``X`` that are exact duplicates (:func:`duplicate_groups`) are
    never split between a training and a test fold, so no fold is scored on
    copies of its training flows. Folds are balanced by label as far as the
    duplicate groups allow: groups are placed largest first, each in the fold
    that holds the fewest rows of its label so far.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=True
        Whether to shuffle the groups before assigning them to folds.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling when ``shuffle=True``; pass an int for
        reproducible folds.
    ignore : str, int or list, default=None
        Columns left out of the duplicate comparison, e.g. a row number.

    See Also
    --------
    dedup_train_test_split : One train/test split with the same guarantee.

    Notes
    -----
    ``groups`` given to :meth:`split` (for example the capture file or host
    of each flow) are honoured as well: rows linked by a shared group or by
    being duplicates, directly or through other rows, stay in one fold.
    A group whose rows carry different labels counts for its most frequent
    label. Very large duplicate groups make fold sizes and class
    proportions uneven, and a class with fewer distinct rows than
    ``n_splits`` is missing from some test folds.

    Unlike :class:`sklearn.model_selection.StratifiedGroupKFold`, whose cost
    grows with the number of groups times folds in Python, the greedy
    assignment handles the tens of thousands of groups of a flow table in
    well under a second.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_2dbm import DuplicateAwareStratifiedKFold
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 4, size=(120, 3))
    >>> y = (X.sum(axis=1) > 4).astype(int)
    >>> cv = DuplicateAwareStratifiedKFold(n_splits=3, random_state=0)
    >>> cross_val_score(LogisticRegression(), X, y, cv=cv).shape
    (3,)
    """

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None, ignore=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.ignore = ignore

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splitting iterations.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            The ``n_splits`` parameter.
        """
        return self.n_splits

    def split(self, X, y, groups=None):
        """Generate indices to split the data into training and test sets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Flow table; its exact duplicate rows define groups.
        y : array-like of shape (n_samples,)
            Labels to stratify by.
        groups : array-like of shape (n_samples,), default=None
            Further groups to keep together (e.g. capture file).

        Yields
        ------
        train : ndarray
            Training indices of the split.
        test : ndarray
            Test indices of the split.
        """
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 2:
            raise ValueError(f"`n_splits` must be an int >= 2, got {self.n_splits!r}.")
        if y is None:
            raise ValueError(
                "DuplicateAwareStratifiedKFold stratifies by label; pass y to "
                "split (cross_val_score does this for you)."
            )
        check_consistent_length(X, y)
        combined = duplicate_groups(X, ignore=self.ignore)
        if groups is not None:
            check_consistent_length(X, groups)
            combined = _merge_groupings(combined, np.asarray(groups))

        rng = local_random_state(self.random_state) if self.shuffle else None
        fold_of_group = _assign_folds(combined, y, self.n_splits, rng)
        fold = fold_of_group[combined]
        for k in range(self.n_splits):
            yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


def _assign_folds(groups, y, n_splits, rng):
    """Fold of each group: largest first, where its label is least present."""
    groups, _ = pd.factorize(groups)
    strata, sizes = _group_strata(groups, y)
    n_groups = len(sizes)
    if n_groups < n_splits:
        raise ValueError(
            f"Cannot make n_splits={n_splits} folds from {n_groups} groups of "
            "rows that must stay together (duplicates and the given groups); "
            "lower n_splits."
        )

    order = rng.permutation(n_groups) if rng is not None else np.arange(n_groups)
    order = order[np.argsort(-sizes[order], kind="stable")]
    loads = [[0] * n_splits for _ in range(strata.max() + 1)]
    totals = [0] * n_splits
    fold_of_group = np.empty(n_groups, dtype=np.intp)
    folds = range(n_splits)
    for group, stratum, size in zip(
        order.tolist(), strata[order].tolist(), sizes[order].tolist()
    ):
        load = loads[stratum]
        # Fewest rows of this label first, then fewest rows overall.
        k = min(folds, key=lambda f: (load[f], totals[f]))
        load[k] += size
        totals[k] += size
        fold_of_group[group] = k
    return fold_of_group


def _merge_groupings(first, second):
    """Connected components of the rows linked by either of two groupings."""
    first_codes, _ = pd.factorize(first, use_na_sentinel=False)
    second_codes, _ = pd.factorize(second, use_na_sentinel=False)
    n_first = first_codes.max() + 1
    n_nodes = n_first + second_codes.max() + 1
    # Bipartite graph: one node per group of each grouping, one edge per row.
    graph = sparse.coo_matrix(
        (np.ones(len(first_codes)), (first_codes, second_codes + n_first)),
        shape=(n_nodes, n_nodes),
    )
    _, component = connected_components(graph, directed=False)
    return component[first_codes]


def _sorted_positions(n_samples, groups=None, order=None):
    """Permutation that sorts rows by group then order, and group starts.

    Returns ``(permutation, new_group)`` where ``new_group[i]`` says whether
    the i-th row of the sorted order starts a new group. Sorting is stable,
    so rows with equal keys keep their input order.
    """
    if groups is None and order is None:
        permutation = np.arange(n_samples)
    else:
        keys = []
        if order is not None:
            # Dense ranks sort any comparable dtype (numbers, datetimes,
            # strings) with missing values last.
            ranks, _ = pd.factorize(np.asarray(order), sort=True)
            keys.append(np.where(ranks < 0, ranks.max() + 1, ranks))
        if groups is not None:
            group_codes, _ = pd.factorize(np.asarray(groups), use_na_sentinel=False)
            keys.append(group_codes)
        if len(keys) == 1:
            permutation = np.argsort(keys[0], kind="stable")
        else:
            # lexsort sorts by the last key first and is stable.
            permutation = np.lexsort(keys)

    new_group = np.zeros(n_samples, dtype=bool)
    if n_samples:
        new_group[0] = True
    if groups is not None and n_samples:
        sorted_codes = group_codes[permutation]
        new_group[1:] = sorted_codes[1:] != sorted_codes[:-1]
    return permutation, new_group


def _position_in_group(new_group):
    """Index of each sorted row within its group (0 for the first row)."""
    index = np.arange(len(new_group))
    starts = np.maximum.accumulate(np.where(new_group, index, 0))
    return index - starts


def window_label_purity(y, window, groups=None, order=None):
    """Fraction of windows whose flows all carry the label of the last flow.

    Windows are built as :class:`~sklearn_2dbm.FlowWindower` builds them:
    for each row, the ``window`` rows ending at it within its group, after a
    stable sort by ``groups`` then ``order``. Only windows holding at least
    two flows count (padding is not a flow). A purity near 1 means that the
    neighbours of a flow tell its label: rows sorted by label, as in many
    published CSV files, make sequence models look far better than they are.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, in row order.
    window : int
        Window length, at least 1.
    groups : array-like of shape (n_samples,), default=None
        Group of each row (e.g. host or capture file); windows never span
        two groups.
    order : array-like of shape (n_samples,), default=None
        Sort key within groups (e.g. start time); input order when None.

    Returns
    -------
    purity : float
        Value in [0, 1]; ``nan`` when no window holds two flows (``window=1``
        or groups of one row), where neighbours cannot leak a label.

    Notes
    -----
    Purity is high on shuffled rows too when one class dominates: with a
    share ``p`` of the majority class, random order gives about
    ``p**window``. Compare with that figure before blaming the ordering.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import window_label_purity
    >>> y_sorted = np.array([0] * 50 + [1] * 50)
    >>> round(window_label_purity(y_sorted, window=4), 3)
    0.97
    >>> y_alternating = np.array([0, 1] * 50)
    >>> window_label_purity(y_alternating, window=4)
    0.0
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"`y` must be 1-D, got shape {y.shape}.")
    if (
        isinstance(window, bool)
        or not isinstance(window, numbers.Integral)
        or window < 1
    ):
        raise ValueError(f"`window` must be >= 1, got {window!r}.")
    for name, values in (("groups", groups), ("order", order)):
        if values is not None and len(values) != len(y):
            raise ValueError(
                f"`{name}` must have one entry per label: got {len(values)} "
                f"for {len(y)} labels."
            )

    n_samples = len(y)
    if n_samples == 0:
        return float("nan")
    permutation, new_group = _sorted_positions(n_samples, groups, order)
    labels, _ = pd.factorize(y[permutation], use_na_sentinel=False)

    # Length of the run of equal labels ending at each row, within its group.
    run_start = new_group.copy()
    run_start[1:] |= labels[1:] != labels[:-1]
    index = np.arange(n_samples)
    run_length = index - np.maximum.accumulate(np.where(run_start, index, 0)) + 1
    n_flows = np.minimum(window, _position_in_group(new_group) + 1)

    counted = n_flows >= 2
    if not counted.any():
        return float("nan")
    return float(np.mean(run_length[counted] >= n_flows[counted]))
