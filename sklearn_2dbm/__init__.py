"""Distilled two-layer BiLSTM network intrusion detection for scikit-learn."""

from ._persistence import load_weights, save_weights
from ._preprocessing import FlowPreprocessor
from ._protocols import (
    DuplicateAwareStratifiedKFold,
    dedup_train_test_split,
    duplicate_groups,
    duplicate_overlap,
    window_label_purity,
)
from ._student import DistilledStudentClassifier
from ._teacher import BiLSTMTeacherClassifier
from ._version import __version__
from ._windowing import FlowWindower, parse_window_columns, window_column_names

__all__ = [
    "BiLSTMTeacherClassifier",
    "DistilledStudentClassifier",
    "load_weights",
    "save_weights",
    "__version__",
    "DuplicateAwareStratifiedKFold",
    "dedup_train_test_split",
    "duplicate_groups",
    "duplicate_overlap",
    "window_label_purity",
    "FlowPreprocessor",
    "FlowWindower",
    "parse_window_columns",
    "window_column_names",
]
