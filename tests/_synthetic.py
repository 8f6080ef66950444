"""Synthetic windows shared by the classifier tests."""

import numpy as np


def make_windows(n=200, window=3, n_features=4, n_classes=2, seed=0):
    """Windows whose label depends on the last and the first step."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, window, n_features))
    score = X[:, -1, 0] + 0.5 * X[:, 0, 1]
    cuts = np.quantile(score, np.arange(1, n_classes) / n_classes)
    return X, np.digitize(score, cuts)
