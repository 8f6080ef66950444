"""Loaders for public network intrusion-detection datasets."""

from .._config import get_data_home

__all__ = [
    "get_data_home",
]
