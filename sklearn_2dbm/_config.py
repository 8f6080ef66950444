"""Where the datasets live."""

import os
from pathlib import Path

DATA_ENV_VAR = "SKLEARN_2DBM_DATA"
DEFAULT_DATA_HOME = Path("~") / "sklearn_2dbm_data"


def get_data_home(data_home=None):
    """Return the folder that holds the intrusion-detection datasets.

    The folder is chosen in this order: the ``data_home`` argument, the
    environment variable ``SKLEARN_2DBM_DATA``, then ``~/sklearn_2dbm_data``.
    Nothing is created or downloaded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The folder, which may not exist.

    Examples
    --------
    >>> from sklearn_2dbm.datasets import get_data_home
    >>> get_data_home("/srv/ids-data").as_posix()
    '/srv/ids-data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_HOME
    return Path(data_home).expanduser()
