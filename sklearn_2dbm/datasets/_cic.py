"""Loader for CIC-IDS2017 (Sharafaldin et al., 2018) flow CSV files."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import (
    LoadReport,
    _add,
    _check_choice,
    _dataset_folder,
    _emit_warning,
    _format_notes,
    _parse_csv,
    _read_text,
    _to_numeric,
)

__all__ = ["load_cic_ids2017"]

#: The 77 flow features shared by both published layouts, in file order
#: (names stripped; the duplicated ``Fwd Header Length`` counted once).
CIC_FEATURES = (
    "Destination Port",
    "Flow Duration",
    "Total Fwd Packets",
    "Total Backward Packets",
    "Total Length of Fwd Packets",
    "Total Length of Bwd Packets",
    "Fwd Packet Length Max",
    "Fwd Packet Length Min",
    "Fwd Packet Length Mean",
    "Fwd Packet Length Std",
    "Bwd Packet Length Max",
    "Bwd Packet Length Min",
    "Bwd Packet Length Mean",
    "Bwd Packet Length Std",
    "Flow Bytes/s",
    "Flow Packets/s",
    "Flow IAT Mean",
    "Flow IAT Std",
    "Flow IAT Max",
    "Flow IAT Min",
    "Fwd IAT Total",
    "Fwd IAT Mean",
    "Fwd IAT Std",
    "Fwd IAT Max",
    "Fwd IAT Min",
    "Bwd IAT Total",
    "Bwd IAT Mean",
    "Bwd IAT Std",
    "Bwd IAT Max",
    "Bwd IAT Min",
    "Fwd PSH Flags",
    "Bwd PSH Flags",
    "Fwd URG Flags",
    "Bwd URG Flags",
    "Fwd Header Length",
    "Bwd Header Length",
    "Fwd Packets/s",
    "Bwd Packets/s",
    "Min Packet Length",
    "Max Packet Length",
    "Packet Length Mean",
    "Packet Length Std",
    "Packet Length Variance",
    "FIN Flag Count",
    "SYN Flag Count",
    "RST Flag Count",
    "PSH Flag Count",
    "ACK Flag Count",
    "URG Flag Count",
    "CWE Flag Count",
    "ECE Flag Count",
    "Down/Up Ratio",
    "Average Packet Size",
    "Avg Fwd Segment Size",
    "Avg Bwd Segment Size",
    "Fwd Avg Bytes/Bulk",
    "Fwd Avg Packets/Bulk",
    "Fwd Avg Bulk Rate",
    "Bwd Avg Bytes/Bulk",
    "Bwd Avg Packets/Bulk",
    "Bwd Avg Bulk Rate",
    "Subflow Fwd Packets",
    "Subflow Fwd Bytes",
    "Subflow Bwd Packets",
    "Subflow Bwd Bytes",
    "Init_Win_bytes_forward",
    "Init_Win_bytes_backward",
    "act_data_pkt_fwd",
    "min_seg_size_forward",
    "Active Mean",
    "Active Std",
    "Active Max",
    "Active Min",
    "Idle Mean",
    "Idle Std",
    "Idle Max",
    "Idle Min",
)
#: Identifier columns of the GeneratedLabelledFlows layout, kept in ``frame``.
IDENTIFIER_COLUMNS = (
    "Flow ID",
    "Source IP",
    "Source Port",
    "Destination IP",
    "Protocol",
    "Timestamp",
)
_DUPLICATE_COLUMN = "Fwd Header Length.1"
_FLOAT32_MAX = float(np.finfo(np.float32).max)
NONFINITE_POLICIES = ("minus-one", "nan", "clip", "drop")

# "Web Attack" + any dash (ASCII, en/em dash, the Windows-1252 en dash once
# decoded, U+FFFD from a lossy decoder, or UTF-8 en dash read as Windows-1252)
# + the attack name.
_WEB_ATTACK = re.compile(
    r"^Web Attack\s*(?:[-\u2013\u2014\ufffd]|\u00e2\u20ac\u201c)?\s*(\S.*)$",
    flags=re.IGNORECASE,
)

DESCR = """\
CIC-IDS2017 network intrusion dataset
-------------------------------------

Five days of benign and attack traffic (July 2017) captured at the Canadian
Institute for Cybersecurity, with flows extracted by CICFlowMeter. Two CSV
layouts circulate: MachineLearningCVE (78 features + Label) and
GeneratedLabelledFlows (adds Flow ID, Source IP, Source Port, Destination
IP, Protocol, Timestamp). The loader returns the 77 distinct flow features
both layouts share.

Terms: public for researchers, who must cite I. Sharafaldin, A. Habibi
Lashkari, A. A. Ghorbani, "Toward Generating a New Intrusion Detection
Dataset and Intrusion Traffic Characterization", ICISSP 2018.
"""


def load_cic_ids2017(
    *,
    data_home=None,
    files=None,
    target="binary",
    nonfinite="minus-one",
    drop_duplicates=False,
    return_X_y=False,
    as_frame=True,
):
    """Load CIC-IDS2017 flow CSV files into one table, repairing their quirks.

    Nothing is downloaded: the files must be in ``<data_home>/cic_ids2017/``
    or ``<data_home>/cic_ids2017/processed/``, plain (``.csv``) or
    gzip-compressed (``.csv.gz``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``cic_ids2017/``. ``None`` uses the environment
        variable ``SKLEARN_2DBM_DATA``, then ``~/sklearn_2dbm_data``.
    files : list of str or path-like, default=None
        Files to read, in this order. ``None`` reads every ``*.csv`` and
        ``*.csv.gz`` in ``cic_ids2017/`` and then ``cic_ids2017/processed/``,
        sorted by name. A relative name is looked up in those two folders,
        with or without its ``.csv`` / ``.csv.gz`` ending.
    target : {"binary", "category"}, default="binary"
        ``"binary"``: 1 for any attack, 0 for ``BENIGN``. ``"category"``:
        the normalised ``Label`` text.
    nonfinite : {"minus-one", "nan", "clip", "drop"}, default="minus-one"
        What becomes of feature cells that are NaN (written ``NaN`` or
        empty), infinite (``Infinity``, ``inf``) or too large for float32:

        - ``"minus-one"``: set to -1, the widely used fisher85 recipe. Files
          already cleaned that way then load to the same values as raw files.
        - ``"nan"``: set to NaN (impute later).
        - ``"clip"``: infinite and too-large values become the column's
          largest (smallest) finite value among the loaded rows; NaN stays.
        - ``"drop"``: drop the rows (counted in the report).
    drop_duplicates : bool, default=False
        Drop rows equal to an earlier row on every feature and the label
        (after the ``nonfinite`` policy). Counted in the report either way.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with ``False``, NumPy arrays.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        With ``data`` (DataFrame, 77 float32 feature columns),
        ``target`` (Series), ``target_names`` (``["normal", "attack"]`` or
        the labels present, sorted), ``feature_names``, ``metadata_names``
        (identifier and other non-feature columns of ``frame``), ``frame``
        (features, metadata, ``source_file``, ``Label`` and ``is_attack``),
        ``source_file`` (which file each row came from, relative to
        ``cic_ids2017/``), ``DESCR`` and ``load_report``
        (:class:`LoadReport`).
    (data, target) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        No file found; the message names the folder and the setting that
        chose it.
    ValueError
        A file is corrupt (truncated gzip, empty, unparsable), lacks the
        ``Label`` column, or is not CIC-IDS2017; the message names it.

    Notes
    -----
    Quirks handled (counted in ``load_report``; one
    :class:`~sklearn_2dbm.exceptions.DataQualityWarning` summarises them):

    - Column names are stripped (65 of 79 raw names start with a space).
    - The second ``Fwd Header Length`` (``Fwd Header Length.1`` once read)
      is dropped when it equals the first; otherwise it is kept in ``frame``
      (not ``data``) with a warning.
    - ``Infinity``, ``inf``, ``NaN``, empty cells and values beyond float32
      follow ``nonfinite``. With the default, features are finite float32.
    - ``-1`` in ``Init_Win_bytes_forward`` / ``Init_Win_bytes_backward``
      (and elsewhere) is a sentinel of the flow meter: counted per column in
      ``load_report.kept`` and kept as the value -1. So are negative
      ``Flow IAT Min`` values.
    - Rows with every cell empty (the official Thursday GeneratedLabelledFlows
      file ends with ~288,600 of them) are dropped and counted; so are rows
      without a label.
    - Labels are read as UTF-8; stray bytes that are not UTF-8 are read as
      Windows-1252 (the official ``0x96`` dash). Every ``Web Attack``
      spelling (``0x96``, en dash, em dash, hyphen, extra spaces) becomes
      ``"Web Attack - <name>"`` with one ASCII hyphen, e.g.
      ``"Web Attack - Brute Force"``. Labels are stripped of whitespace.
    - Files cleaned by pandas (stripped names, ``.0`` on integers, -1 for
      ``Infinity``) load to the same 77 features.
    - Identifier columns (``Flow ID``, ``Source IP``, ``Source Port``,
      ``Destination IP``, ``Timestamp``) and ``Protocol``, present only in
      the GeneratedLabelledFlows layout, are kept in ``frame`` but are not
      features, so every layout gives the same ``data`` columns.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> from sklearn_2dbm.datasets import load_cic_ids2017
    >>> from sklearn_2dbm.datasets._cic import CIC_FEATURES
    >>> header = ",".join(" " + name for name in CIC_FEATURES) + ", Label"
    >>> rows = ["80,Infinity" + ",1" * 75 + ",BENIGN",
    ...         "80,3" + ",1" * 75 + ",Web Attack \\u2013 XSS"]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
    >>> _ = path.write_bytes("\\r\\n".join([header, *rows]).encode("cp1252"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     bunch = load_cic_ids2017(files=[path], target="category")
    >>> bunch.data.shape, str(bunch.data.dtypes.iloc[0])
    ((2, 77), 'float32')
    >>> bunch.data["Flow Duration"].tolist(), bunch.target.tolist()
    ([-1.0, 3.0], ['BENIGN', 'Web Attack - XSS'])
    """
    _check_choice("target", target, ("binary", "category"))
    _check_choice("nonfinite", nonfinite, NONFINITE_POLICIES)
    paths = _resolve_files(data_home, files)

    report = LoadReport("CIC-IDS2017")
    report.notes.append(f"non-finite policy: {nonfinite!r}")
    parts = [_read_one(path, source, report) for path, source in paths]
    frame = pd.concat(parts, ignore_index=True)
    features = list(CIC_FEATURES)
    frame = _apply_nonfinite(frame, features, nonfinite, report)

    subset = [*features, "Label"]
    within_file = frame.duplicated(subset=[*subset, "source_file"])
    duplicated = frame.duplicated(subset=subset)
    _add(report.kept, "duplicate_rows", duplicated.sum())
    file_duplicates = frame.loc[within_file, "source_file"].value_counts()
    if drop_duplicates:
        _add(report.dropped, "duplicate row", duplicated.sum())
        frame = frame.loc[~duplicated].reset_index(drop=True)
    file_rows = frame["source_file"].value_counts()
    for source, entry in report.files.items():
        entry["rows_returned"] = int(file_rows.get(source, 0))
        entry["duplicate_rows"] = int(file_duplicates.get(source, 0))
    frame["is_attack"] = (frame["Label"] != "BENIGN").astype("int64")
    metadata = [
        c for c in frame.columns if c not in (*features, "source_file", "Label")
    ]
    metadata.remove("is_attack")
    frame = frame[[*features, *metadata, "source_file", "Label", "is_attack"]]
    report.rows_returned = len(frame)
    _emit_warning(report)

    return _make_bunch(frame, features, metadata, target, return_X_y, as_frame, report)


def _resolve_files(data_home, files):
    """Return ``(path, source name)`` pairs of the files to read."""
    folder = None
    if files is None or any(not Path(f).is_absolute() for f in _as_list(files)):
        folder = _dataset_folder(data_home, "cic_ids2017")
    folders = [] if folder is None else [folder, folder / "processed"]
    if files is None:
        paths = []
        for place in folders:
            found = [*place.glob("*.csv"), *place.glob("*.csv.gz")]
            paths.extend(sorted(p for p in found if p.is_file()))
        if not paths:
            raise FileNotFoundError(
                f"No CIC-IDS2017 file (*.csv or *.csv.gz) found in "
                f"{', '.join(repr(str(p)) for p in folders)}. Put the files "
                f"there, pass `data_home=` (or set SKLEARN_2DBM_DATA) to the "
                f"folder that holds `cic_ids2017/`, or give them with `files=`."
            )
    else:
        paths = [_locate(item, folders, data_home) for item in _as_list(files)]
        if not paths:
            raise ValueError("`files` is empty; give at least one file or use None.")
    return [(path, _source_name(path, folder)) for path in paths]


def _as_list(files):
    if files is None:
        return []
    if isinstance(files, (str, Path)):
        return [files]
    return list(files)


def _locate(item, folders, data_home):
    path = Path(item)
    if path.is_file():
        return path
    tried = []
    if not path.is_absolute():
        for place in folders:
            for suffix in ("", ".csv", ".csv.gz"):
                candidate = place / f"{path}{suffix}"
                tried.append(str(candidate))
                if candidate.is_file():
                    return candidate
    raise FileNotFoundError(
        f"CIC-IDS2017 file {str(item)!r} not found (looked at {str(path)!r}"
        + (f" and {', '.join(tried)}" if tried else "")
        + "). Give an existing path, or a name found in <data_home>/cic_ids2017/"
        " or its processed/ folder (data_home set with `data_home=` or "
        "SKLEARN_2DBM_DATA)."
    )


def _source_name(path, folder):
    if folder is not None:
        try:
            return Path(path).resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).name


def _normalise_names(columns):
    """Strip names; suffix repeats that only differed by spaces with ``.1``."""
    names, seen = [], {}
    for column in columns:
        name = str(column).strip()
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _read_one(path, source, report):
    """Read one file into features (float64), metadata, source and Label."""
    text, info = _read_text(path)
    table = _parse_csv(text, source)
    original = [str(c) for c in table.columns]
    table.columns = _normalise_names(table.columns)
    if any(name != name.strip() for name in original):
        report.notes.append(f"{source}: column names stripped")

    label = _find_label_column(table.columns)
    if label is None:
        raise ValueError(
            f"{source}: the label column `Label` is missing (found "
            f"{len(table.columns)} columns, the last {list(table.columns)[-3:]}). "
            f"Load only labelled CIC-IDS2017 flow files."
        )
    missing = [c for c in CIC_FEATURES if c not in table.columns]
    if missing:
        raise ValueError(
            f"{source}: {len(missing)} of the 77 CIC-IDS2017 feature columns are "
            f"missing, e.g. {missing[:4]}. Is this a CIC-IDS2017 "
            f"MachineLearningCVE or GeneratedLabelledFlows file?"
        )
    if len(table) == 0:
        raise ValueError(f"{source}: the file has a header but no data rows.")
    _format_notes(report, source, info)
    layout = (
        "GeneratedLabelledFlows" if "Flow ID" in table.columns else "MachineLearningCVE"
    )
    rows_read = len(table)
    report.rows_read += rows_read
    report.files[source] = {"layout": layout, "rows_read": rows_read}

    empty = table.isna().all(axis=1)
    _add(report.dropped, "empty row", empty.sum())
    table = table.loc[~empty]

    labels = table[label].astype("str").str.strip()
    no_label = table[label].isna() | (labels == "")
    _add(report.dropped, "missing label", no_label.sum())
    table = table.loc[~no_label]
    labels = labels.loc[~no_label]
    normalised = _normalise_labels(labels)
    _add(report.repairs, "labels respelled", (normalised != table[label]).sum())

    features = {}
    for column in CIC_FEATURES:
        features[column], _ = _to_numeric(
            table[column], source, column, literal_nan=True
        )
    features = pd.DataFrame(features)
    for column in CIC_FEATURES:
        _add(report.kept, f"-1 in {column}", (features[column] == -1).sum())

    extras = [c for c in table.columns if c not in (*CIC_FEATURES, label)]
    metadata = table[extras].copy()
    if _DUPLICATE_COLUMN in metadata.columns:
        copy, _ = _to_numeric(metadata[_DUPLICATE_COLUMN], source, _DUPLICATE_COLUMN)
        first = features["Fwd Header Length"]
        differ = ~((copy == first) | (copy.isna() & first.isna()))
        if differ.any():
            report.warnings.append(
                f"{source}: the second `Fwd Header Length` differs from the first "
                f"on {int(differ.sum())} rows; kept in frame as "
                f"`{_DUPLICATE_COLUMN}`"
            )
        else:
            metadata = metadata.drop(columns=_DUPLICATE_COLUMN)
            report.notes.append(f"{source}: identical `{_DUPLICATE_COLUMN}` dropped")
    unknown = [c for c in metadata.columns if c not in IDENTIFIER_COLUMNS]
    unknown = [c for c in unknown if c != _DUPLICATE_COLUMN]
    if unknown:
        report.notes.append(f"{source}: extra columns kept as metadata: {unknown}")
    elif len(metadata.columns):
        report.notes.append(
            f"{source}: identifier columns kept out of the features: "
            f"{list(metadata.columns)}"
        )

    part = pd.concat([features, metadata], axis=1)
    part["source_file"] = source
    part["Label"] = normalised
    return part.reset_index(drop=True)


def _find_label_column(columns):
    if "Label" in columns:
        return "Label"
    for column in columns:
        if column.lower() == "label":
            return column
    return None


def _normalise_labels(labels):
    """Strip, collapse inner spaces and respell the Web Attack labels."""
    labels = labels.str.replace(r"\s+", " ", regex=True)
    return labels.str.replace(_WEB_ATTACK, r"Web Attack - \1", regex=True)


def _apply_nonfinite(frame, features, policy, report):
    """Apply the non-finite policy to the feature block; cast it to float32."""
    values = frame[features].to_numpy(dtype="float64", copy=True)
    nan = np.isnan(values)
    infinite = np.isinf(values)
    beyond = np.isfinite(values) & (np.abs(values) > _FLOAT32_MAX)
    counts = {
        "NaN": int(nan.sum()),
        "infinite": int(infinite.sum()),
        "beyond float32": int(beyond.sum()),
    }
    outside = infinite | beyond
    if policy == "minus-one":
        values[nan | outside] = -1.0
        for kind, n in counts.items():
            _add(report.repairs, f"{kind} cells -> -1", n)
    elif policy == "nan":
        values[outside] = np.nan
        _add(report.repairs, "infinite cells -> NaN", counts["infinite"])
        _add(report.repairs, "beyond float32 cells -> NaN", counts["beyond float32"])
        _add(report.kept, "NaN cells", counts["NaN"])
    elif policy == "clip":
        inside = np.isfinite(values) & ~beyond
        high = np.where(inside, values, -np.inf).max(axis=0, initial=-np.inf)
        low = np.where(inside, values, np.inf).min(axis=0, initial=np.inf)
        high = np.where(np.isfinite(high), high, _FLOAT32_MAX)
        low = np.where(np.isfinite(low), low, -_FLOAT32_MAX)
        rows, cols = np.nonzero(outside & (values > 0))
        values[rows, cols] = high[cols]
        rows, cols = np.nonzero(outside & (values < 0))
        values[rows, cols] = low[cols]
        _add(report.repairs, "infinite cells clipped", counts["infinite"])
        _add(report.repairs, "beyond float32 cells clipped", counts["beyond float32"])
        _add(report.kept, "NaN cells", counts["NaN"])
    else:
        bad = (nan | outside).any(axis=1)
        _add(report.dropped, "non-finite feature", bad.sum())
        keep = ~bad
        values = values[keep]
        frame = frame.loc[keep].reset_index(drop=True)
    block = pd.DataFrame(values.astype(np.float32), columns=features, index=frame.index)
    rest = frame.drop(columns=features)
    return pd.concat([block, rest], axis=1)


def _make_bunch(frame, features, metadata, target, return_X_y, as_frame, report):
    data = frame[features]
    if target == "binary":
        y = frame["is_attack"]
        target_names = np.array(["normal", "attack"], dtype=object)
    else:
        y = frame["Label"]
        target_names = np.array(sorted(y.unique()), dtype=object)
    if not as_frame:
        data = data.to_numpy()
        y = y.to_numpy()
    if return_X_y:
        return data, y
    return Bunch(
        data=data,
        target=y,
        target_names=target_names,
        feature_names=list(features),
        metadata_names=list(metadata),
        frame=frame if as_frame else None,
        source_file=frame["source_file"].to_numpy(),
        DESCR=DESCR,
        load_report=report,
    )
