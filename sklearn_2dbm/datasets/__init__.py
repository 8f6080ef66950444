"""Loaders for public network intrusion-detection datasets."""

from .._config import get_data_home
from ._base import LoadReport
from ._cic import load_cic_ids2017
from ._unsw import load_unsw_nb15

__all__ = [
    "LoadReport",
    "get_data_home",
    "load_cic_ids2017",
    "load_unsw_nb15",
]
