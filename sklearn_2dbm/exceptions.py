"""Warning categories raised by sklearn-2dbm.

All warnings of this library derive from :class:`SklearnTwoDBMWarning`, so a
user can filter them in one line::

    import warnings
    from sklearn_2dbm.exceptions import SklearnTwoDBMWarning
    warnings.simplefilter("ignore", SklearnTwoDBMWarning)

Where scikit-learn or skorch already has a fitting category (for example
:class:`sklearn.exceptions.ConvergenceWarning` or
:class:`skorch.exceptions.DeviceWarning`), that one is used instead.
"""

__all__ = [
    "SklearnTwoDBMWarning",
    "DataQualityWarning",
    "UnknownCategoryWarning",
    "LabelPurityWarning",
]


class SklearnTwoDBMWarning(UserWarning):
    """Base class of every warning emitted by sklearn-2dbm."""


class DataQualityWarning(SklearnTwoDBMWarning):
    """A loader repaired, dropped or flagged something in a data file.

    The warning summarises the repairs; the full counts are in the
    ``load_report`` of the returned Bunch.
    """


class UnknownCategoryWarning(SklearnTwoDBMWarning):
    """A categorical value seen at transform time was not seen during fit."""


class LabelPurityWarning(SklearnTwoDBMWarning):
    """Almost every window holds flows of a single label.

    Windows over rows sorted by label let a sequence model read the label of a
    flow from its neighbours, so scores measure the file's ordering rather
    than detection.
    """
