"""Shared fixtures of the test suite."""

import pytest

from sklearn_2dbm.datasets import get_data_home
from sklearn_2dbm.datasets._base import _dataset_folder


@pytest.fixture(scope="session")
def data_home():
    """Folder of the real datasets (``SKLEARN_2DBM_DATA``).

    A missing folder fails the test with the loaders' own message: CI must
    have the data, so real-data tests never skip.
    """
    try:
        for subfolder in ("unsw_nb15", "cic_ids2017"):
            _dataset_folder(None, subfolder)
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    return get_data_home()
