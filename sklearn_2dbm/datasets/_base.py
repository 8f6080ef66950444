"""Shared plumbing of the dataset loaders: locating, decoding, reporting."""

import gzip
import io
import os
import re
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._config import DATA_ENV_VAR, get_data_home
from ..exceptions import DataQualityWarning

__all__ = ["LoadReport"]

_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass
class LoadReport:
    """What a loader read, repaired, dropped and counted.

    Every row read from a file is either returned or counted under
    :attr:`dropped`, so ``rows_read - sum(dropped.values()) == rows_returned``.

    Attributes
    ----------
    dataset : str
        Name of the dataset, e.g. ``"UNSW-NB15"``.
    files : dict of str to dict
        Per file (by file name): ``layout``, ``rows_read``, ``rows_returned``
        and ``duplicate_rows`` (rows equal to an earlier row of the same file
        on features and label).
    rows_read : int
        Data rows read from all files (the header excluded).
    rows_returned : int
        Rows in the returned frame.
    dropped : dict of str to int
        Rows dropped, by reason.
    repairs : dict of str to int
        Values changed, by kind of repair, with the number of cells or rows.
    kept : dict of str to int
        Oddities counted but left as they are (duplicate rows, ``-1``
        sentinels).
    notes : list of str
        Format facts handled silently (byte-order mark, CRLF line endings,
        stripped column names, columns kept out of the features).
    warnings : list of str
        Findings that need the user's attention.

    Examples
    --------
    >>> from sklearn_2dbm.datasets import LoadReport
    >>> report = LoadReport("toy", rows_read=3, rows_returned=2)
    >>> report.dropped["empty row"] = 1
    >>> print(report.summary())
    toy: 3 rows read, 2 returned; dropped: empty row 1
    """

    dataset: str
    files: dict = field(default_factory=dict)
    rows_read: int = 0
    rows_returned: int = 0
    dropped: dict = field(default_factory=dict)
    repairs: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def needs_attention(self):
        """bool : Whether anything was repaired, dropped or flagged."""
        return bool(self.dropped or self.repairs or self.warnings)

    def summary(self):
        """Return a one-paragraph summary of the load.

        Returns
        -------
        summary : str
            Rows read and returned, drops, repairs and warnings.
        """
        parts = [
            f"{self.dataset}: {self.rows_read} rows read, {self.rows_returned} returned"
        ]
        for title, counts in (("dropped", self.dropped), ("repaired", self.repairs)):
            if counts:
                items = ", ".join(f"{key} {value}" for key, value in counts.items())
                parts.append(f"{title}: {items}")
        parts.extend(self.warnings)
        return "; ".join(parts)

    def to_dict(self):
        """Return the report as plain dicts and lists (JSON-friendly).

        Returns
        -------
        report : dict
        """
        return asdict(self)

    def __str__(self):
        # The summary is what the warning says; printing the report also
        # shows what was counted but kept, and the format facts handled.
        lines = [self.summary()]
        if self.kept:
            kept = ", ".join(f"{key} {value}" for key, value in self.kept.items())
            lines.append(f"kept as they are: {kept}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _add(counts, key, n):
    """Add ``n`` to ``counts[key]``, leaving zero counts out."""
    n = int(n)
    if n:
        counts[key] = counts.get(key, 0) + n


def _check_choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"`{name}` must be one of {options}; got {value!r}. "
            f"Pass one of the listed values."
        )


def _setting_hint(data_home):
    if data_home is not None:
        return "the `data_home` argument"
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return f"the environment variable {DATA_ENV_VAR}={env!r}"
    return (
        f"the default (neither the `data_home` argument nor the environment "
        f"variable {DATA_ENV_VAR} is set)"
    )


def _dataset_folder(data_home, subfolder):
    """Return ``<data_home>/<subfolder>``; FileNotFoundError if it is missing."""
    folder = get_data_home(data_home) / subfolder
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Dataset folder {str(folder)!r} does not exist; it was chosen by "
            f"{_setting_hint(data_home)}. Put the `{subfolder}` files there, or "
            f"pass `data_home=` (or set {DATA_ENV_VAR}) to the folder that "
            f"holds `{subfolder}/`."
        )
    return folder


def _find_file(folder, stems, data_home, what):
    """Return the first ``<stem>.csv`` or ``<stem>.csv.gz`` found in folder."""
    candidates = [f"{stem}{ext}" for stem in stems for ext in (".csv", ".csv.gz")]
    for name in candidates:
        path = Path(folder) / name
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{what} not found: looked for {', '.join(repr(c) for c in candidates)} "
        f"in {str(folder)!r}, a folder chosen by {_setting_hint(data_home)}. "
        f"Put the file there, pass `data_home=` (or set {DATA_ENV_VAR}) to the "
        f"folder that holds it, or give the paths with `files=`."
    )


def _read_text(path):
    """Read a CSV file, plain or gzip, and decode it to text.

    Returns the text and a dict of format facts: ``bom`` (a UTF-8
    byte-order mark was removed), ``crlf`` (Windows line endings),
    ``cp1252_bytes`` (bytes that are not UTF-8, decoded as Windows-1252).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Data file {str(path)!r} does not exist.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(
                f"{path.name}: the gzip data is truncated or corrupt ({exc}). "
                f"Download or copy the file again."
            ) from exc
    elif path.name.endswith(".gz"):
        raise ValueError(
            f"{path.name}: the name ends with .gz but the file is not gzip "
            f"(it starts with {raw[:8]!r}). Rename it or compress it again."
        )
    if not raw.strip():
        raise ValueError(f"{path.name}: the file is empty; expected a CSV table.")
    info = {"bom": raw.startswith(b"\xef\xbb\xbf"), "cp1252_bytes": 0}
    if info["bom"]:
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Mostly UTF-8 with stray Windows-1252 bytes (the CIC-IDS2017 0x96
        # dash): decode the valid UTF-8 as such and only the stray bytes as
        # Windows-1252, so a file mixing both reads right.
        text = raw.decode("utf-8", errors="surrogateescape")
        info["cp1252_bytes"] = len(_SURROGATE.findall(text))
        text = _SURROGATE.sub(_decode_stray_byte, text)
    first_newline = text.find("\n")
    info["crlf"] = first_newline > 0 and text[first_newline - 1] == "\r"
    return text, info


def _decode_stray_byte(match):
    byte = bytes([ord(match.group()) - 0xDC00])
    try:
        return byte.decode("cp1252")
    except UnicodeDecodeError:
        return byte.decode("latin-1")


def _parse_csv(text, name, **kwargs):
    """pandas.read_csv on text, with empty strings as the only missing value."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            low_memory=False,
            **kwargs,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ValueError(f"{name}: not a readable CSV table ({exc}).") from exc


def _to_numeric(column, name, column_name, literal_nan=False):
    """Convert a parsed column to float64.

    Returns the values and a mask of cells that were blank (empty or only
    whitespace). Text that is not a number raises ValueError naming the file
    and column. ``literal_nan`` accepts ``NaN`` spelled out.
    """
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.astype("float64")
        return values, values.isna()
    text = column.astype("str").str.strip()
    blank = column.isna() | (text == "")
    values = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
    bad = values.isna() & ~blank
    if literal_nan:
        bad &= ~text.str.lower().isin(["nan", "-nan", "+nan"])
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{name}: column {column_name!r} should hold numbers but has "
            f"{int(bad.sum())} non-numeric cells, the first {text.iloc[position]!r}"
            f" on data row {position + 1}. Is this the right file?"
        )
    return values, blank


def _emit_warning(report):
    if report.needs_attention:
        warnings.warn(
            f"{report.summary()}. See the `load_report` of the returned Bunch.",
            DataQualityWarning,
            stacklevel=3,
        )


def _format_notes(report, name, info):
    if info["bom"]:
        report.notes.append(f"{name}: UTF-8 byte-order mark removed")
    if info["crlf"]:
        report.notes.append(f"{name}: CRLF line endings")
    if info["cp1252_bytes"]:
        _add(report.repairs, "bytes decoded as Windows-1252", info["cp1252_bytes"])
