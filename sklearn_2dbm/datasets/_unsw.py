"""Loader for UNSW-NB15 (Moustafa and Slay, 2015)."""

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
    _find_file,
    _format_notes,
    _parse_csv,
    _read_text,
    _to_numeric,
)

__all__ = ["load_unsw_nb15"]

#: Official row counts of the two partitions (dataset page and paper).
OFFICIAL_PARTITION_ROWS = {"training": 175_341, "testing": 82_332}

_PARTITION_STEMS = {
    "training": ["UNSW_NB15_training-set", "UNSW-NB15_training-set"],
    "testing": ["UNSW_NB15_testing-set", "UNSW-NB15_testing-set"],
}
_RAW_STEMS = [f"UNSW-NB15_{i}" for i in range(1, 5)]
_FEATURES_STEM = "NUSW-NB15_features"

#: The 42 features of the partition files, in file order.
PARTITION_FEATURES = (
    "dur proto service state spkts dpkts sbytes dbytes rate sttl dttl sload "
    "dload sloss dloss sinpkt dinpkt sjit djit swin stcpb dtcpb dwin tcprtt "
    "synack ackdat smean dmean trans_depth response_body_len ct_srv_src "
    "ct_state_ttl ct_dst_ltm ct_src_dport_ltm ct_dst_sport_ltm ct_dst_src_ltm "
    "is_ftp_login ct_ftp_cmd ct_flw_http_mthd ct_src_ltm ct_srv_dst "
    "is_sm_ips_ports"
).split()
TEXT_FEATURES = ("proto", "service", "state")

# Raw names (lower-cased, inner spaces removed) that differ from the
# partition names of the same quantity.
_RAW_RENAMES = {
    "sintpkt": "sinpkt",
    "dintpkt": "dinpkt",
    "smeansz": "smean",
    "dmeansz": "dmean",
    "res_bdy_len": "response_body_len",
}
#: Raw-only columns, kept in ``frame`` as metadata (not features).
RAW_METADATA = ("srcip", "sport", "dstip", "dsport", "stime", "ltime")
_RAW_TEXT = ("srcip", "sport", "dstip", "dsport")
_RAW_COLUMN_COUNT = 49

CATEGORIES = (
    "Normal",
    "Generic",
    "Exploits",
    "Fuzzers",
    "DoS",
    "Reconnaissance",
    "Analysis",
    "Backdoor",
    "Shellcode",
    "Worms",
)
_CATEGORY_SPELLINGS = {name.lower(): name for name in CATEGORIES}
_CATEGORY_SPELLINGS["backdoors"] = "Backdoor"

DESCR = """\
UNSW-NB15 network intrusion dataset
-----------------------------------

Flows captured at the UNSW Canberra Cyber Range Lab with the IXIA
PerfectStorm tool; features from Argus, Bro-IDS and 12 further algorithms.
The official partitions hold 175,341 (training) and 82,332 (testing) rows
with 42 features, a nine-way attack category (``attack_cat``, plus
``Normal``) and a binary ``label``. The raw files UNSW-NB15_1..4.csv hold
2,540,044 rows of 49 headerless columns described by NUSW-NB15_features.csv.

Terms: free for academic research; commercial use must be agreed with the
authors. Cite N. Moustafa and J. Slay, "UNSW-NB15: a comprehensive data set
for network intrusion detection systems", MilCIS 2015,
doi:10.1109/MilCIS.2015.7348942.
"""


def load_unsw_nb15(
    *,
    data_home=None,
    partition="testing",
    files=None,
    target="binary",
    return_X_y=False,
    as_frame=True,
    drop_duplicates=False,
):
    """Load UNSW-NB15 from local CSV files, repairing its known quirks.

    Nothing is downloaded: the files must be in ``<data_home>/unsw_nb15/``,
    plain (``.csv``) or gzip-compressed (``.csv.gz``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``unsw_nb15/``. ``None`` uses the environment variable
        ``SKLEARN_2DBM_DATA``, then ``~/sklearn_2dbm_data``.
    partition : {"testing", "training", "raw"}, default="testing"
        ``"testing"`` reads ``UNSW_NB15_testing-set.csv``, ``"training"``
        reads ``UNSW_NB15_training-set.csv``, ``"raw"`` reads the four
        headerless files ``UNSW-NB15_1.csv`` ... ``UNSW-NB15_4.csv`` with
        column names from ``NUSW-NB15_features.csv``. Ignored when ``files``
        is given.
    files : list of str or path-like, default=None
        Explicit files to read instead of a partition, in this order. A bare
        file name is looked up in ``<data_home>/unsw_nb15/``. The layout
        (partition or raw) is detected from each file's first line; raw files
        need ``NUSW-NB15_features.csv`` next to them or in the data folder.
    target : {"binary", "category"}, default="binary"
        ``"binary"``: the 0/1 ``label`` (1 = attack). ``"category"``: the
        attack category, ``"Normal"`` for normal traffic.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects. With ``False``, ``data`` is a NumPy object
        array (the features mix text and numbers) and ``target`` a NumPy
        array.
    drop_duplicates : bool, default=False
        Drop rows equal to an earlier row on every feature and both labels
        (the ``id`` row number ignored). Duplicates are counted in the report
        either way.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        With ``data`` (DataFrame of the features: numbers as float64,
        ``proto``, ``service``, ``state`` as text), ``target`` (Series),
        ``target_names`` (``["normal", "attack"]`` or the categories present,
        sorted), ``feature_names``, ``metadata_names`` (columns of ``frame``
        that are neither features nor labels), ``frame`` (features, metadata,
        ``source_file``, ``attack_cat`` and ``label``), ``source_file`` (file
        name of each row), ``DESCR`` and ``load_report``
        (:class:`LoadReport`).
    (data, target) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        A file is missing; the message names the files looked for, the
        folder and the setting that chose it.
    ValueError
        A file is corrupt, empty or not UNSW-NB15; the message names it.

    Notes
    -----
    Quirks handled (every repair is counted in ``load_report``; one
    :class:`~sklearn_2dbm.exceptions.DataQualityWarning` summarises them):

    - A UTF-8 byte-order mark and CRLF line endings are read transparently.
    - ``id`` is a row number: kept in ``frame`` as metadata, never a feature.
    - ``-`` in ``service`` and ``state`` is a real value ("none") and stays
      the string ``"-"``.
    - Attack categories are stripped of whitespace, ``Backdoors`` becomes
      ``Backdoor``, and an empty category on a normal row becomes ``Normal``.
      An attack row without a category is dropped (counted).
    - In the raw files, blank cells in numeric columns (``ct_ftp_cmd``,
      ``ct_flw_http_mthd``, ``is_ftp_login``) are set to 0: the counter was
      not computed for that flow. Raw names are mapped to the partition
      names (``Sintpkt`` -> ``sinpkt``, ``smeansz`` -> ``smean``,
      ``res_bdy_len`` -> ``response_body_len``, ``Label`` -> ``label``,
      case and inner spaces ignored). The raw files have no ``rate``, so
      they give 41 features. ``srcip``, ``sport``, ``dstip``, ``dsport``
      (text: ports can be hexadecimal or ``-``) and ``stime``, ``ltime``
      (Unix seconds) are kept in ``frame`` as metadata for grouping and
      ordering flows, not as features.
    - In several circulating copies (Kaggle among them) the partition file
      names are swapped. A file whose name says one partition but whose row
      count is the official count of the other gets a warning; the rows are
      loaded as they are.

    Row disagreements between ``label`` and ``attack_cat`` are counted
    in the report and kept.

    Examples
    --------
    >>> import pathlib, tempfile, warnings
    >>> from sklearn_2dbm.datasets import load_unsw_nb15
    >>> from sklearn_2dbm.datasets._unsw import PARTITION_FEATURES
    >>> header = "id," + ",".join(PARTITION_FEATURES) + ",attack_cat,label"
    >>> row = "1,0.1,tcp,-,FIN" + ",0" * 38 + ",Backdoors ,1"
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "tiny.csv").write_text(header + "\\n" + row + "\\n")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     bunch = load_unsw_nb15(files=[folder / "tiny.csv"], target="category")
    >>> bunch.data.shape
    (1, 42)
    >>> bunch.target.tolist(), bunch.data["service"].tolist()
    (['Backdoor'], ['-'])
    >>> bunch.load_report.repairs
    {'attack_cat whitespace stripped': 1, 'attack_cat Backdoors -> Backdoor': 1}
    """
    _check_choice("partition", partition, ("testing", "training", "raw"))
    _check_choice("target", target, ("binary", "category"))
    paths = _resolve_files(data_home, partition, files)

    report = LoadReport("UNSW-NB15")
    parts = []
    for path in paths:
        parts.append(_read_one(path, data_home, report))
    layouts = {report.files[Path(p).name]["layout"] for p in paths}
    if len(layouts) > 1:
        raise ValueError(
            "The files mix the partition layout (45 named columns) and the raw "
            "layout (49 headerless columns), which have different features. "
            "Load them with separate calls."
        )
    frame = pd.concat(parts, ignore_index=True)
    features = [c for c in PARTITION_FEATURES if c in frame.columns]
    labels = ["attack_cat", "label"]
    metadata = [c for c in frame.columns if c not in features + labels]

    duplicated = frame.duplicated(subset=features + labels)
    _add(report.kept, "duplicate_rows", duplicated.sum())
    if drop_duplicates:
        _add(report.dropped, "duplicate row", duplicated.sum())
        frame = frame.loc[~duplicated].reset_index(drop=True)
    frame = frame[features + metadata + labels]
    file_rows = frame["source_file"].value_counts()
    for source, entry in report.files.items():
        entry["rows_returned"] = int(file_rows.get(source, 0))
    report.rows_returned = len(frame)
    _emit_warning(report)

    return _make_bunch(frame, features, metadata, target, return_X_y, as_frame, report)


def _resolve_files(data_home, partition, files):
    """Return the paths of the data files to read."""
    if files is None:
        folder = _dataset_folder(data_home, "unsw_nb15")
        if partition == "raw":
            paths = [
                _find_file(folder, [stem], data_home, f"UNSW-NB15 raw file {stem}")
                for stem in _RAW_STEMS
            ]
        else:
            paths = [
                _find_file(
                    folder,
                    _PARTITION_STEMS[partition],
                    data_home,
                    f"UNSW-NB15 {partition} partition",
                )
            ]
        return paths
    if isinstance(files, (str, Path)):
        files = [files]
    if len(files) == 0:
        raise ValueError("`files` is empty; give at least one file or use None.")
    paths = []
    for item in files:
        path = Path(item)
        if not path.exists() and path.parent == Path("."):
            path = _dataset_folder(data_home, "unsw_nb15") / path
        if not path.is_file():
            raise FileNotFoundError(
                f"UNSW-NB15 file {str(path)!r} does not exist. Give an existing "
                f"path, or a bare file name found in <data_home>/unsw_nb15/."
            )
        paths.append(path)
    return paths


def _first_line_fields(text):
    end = text.find("\n")
    line = text if end < 0 else text[:end]
    return [field.strip().lower() for field in line.rstrip("\r").split(",")]


def _read_one(path, data_home, report):
    """Read one UNSW-NB15 file into canonical columns, repairing as it goes."""
    name = Path(path).name
    text, info = _read_text(path)
    fields = _first_line_fields(text)
    if "attack_cat" in fields and "srcip" not in fields:
        layout = "partition"
        table = _parse_csv(text, name, dtype=dict.fromkeys(TEXT_FEATURES, str))
        table.columns = [str(c).strip().lower() for c in table.columns]
        if "id" in table.columns:
            report.notes.append(f"{name}: `id` row number kept as metadata")
    elif "srcip" in fields or len(fields) == _RAW_COLUMN_COUNT:
        layout = "raw"
        names = _raw_names(path, data_home)
        has_header = "srcip" in fields
        text_columns = [*TEXT_FEATURES, *_RAW_TEXT, "attack_cat"]
        table = _parse_csv(
            text,
            name,
            header=0 if has_header else None,
            names=names,
            dtype=dict.fromkeys(text_columns, str),
        )
    else:
        raise ValueError(
            f"{name}: does not look like UNSW-NB15. Its first line has "
            f"{len(fields)} fields starting with {fields[:3]}; expected a header "
            f"with `attack_cat` and `label` (partition files) or "
            f"{_RAW_COLUMN_COUNT} headerless fields (raw files)."
        )
    _format_notes(report, name, info)
    if layout == "partition":
        _check_partition_columns(table, name)

    rows_read = len(table)
    report.rows_read += rows_read
    empty = table.isna().all(axis=1)
    _add(report.dropped, "empty row", empty.sum())
    table = table.loc[~empty]

    table = _repair_values(table, name, layout, report)
    if layout == "partition":
        _check_swapped_name(name, rows_read, report)

    features = [c for c in PARTITION_FEATURES if c in table.columns]
    duplicates = table.duplicated(subset=[*features, "attack_cat", "label"]).sum()
    report.files[name] = {
        "layout": layout,
        "rows_read": rows_read,
        "duplicate_rows": int(duplicates),
    }
    table["source_file"] = name
    return table.reset_index(drop=True)


def _check_partition_columns(table, name):
    if "label" not in table.columns:
        raise ValueError(
            f"{name}: the label column `label` is missing (columns found: "
            f"{list(table.columns)[:6]} ...). A UNSW-NB15 partition file ends "
            f"with `attack_cat,label`."
        )
    missing = [c for c in PARTITION_FEATURES if c not in table.columns]
    if missing:
        raise ValueError(
            f"{name}: {len(missing)} UNSW-NB15 feature columns are missing, "
            f"e.g. {missing[:5]}. Is this a UNSW-NB15 partition file?"
        )


def _raw_names(path, data_home):
    """Column names of a raw file, from NUSW-NB15_features.csv."""
    folders = [Path(path).parent]
    try:
        folders.append(_dataset_folder(data_home, "unsw_nb15"))
    except FileNotFoundError:
        pass
    for folder in folders:
        try:
            features_file = _find_file(folder, [_FEATURES_STEM], data_home, "")
            break
        except FileNotFoundError:
            continue
    else:
        raise FileNotFoundError(
            f"{Path(path).name} is a raw headerless UNSW-NB15 file, whose "
            f"column names come from {_FEATURES_STEM}.csv; that file was "
            f"not found in {', '.join(str(f) for f in folders)}. Put it next "
            f"to the raw files or in <data_home>/unsw_nb15/ (set with "
            f"`data_home=` or SKLEARN_2DBM_DATA)."
        )
    text, _ = _read_text(features_file)
    described = _parse_csv(text, features_file.name)
    described.columns = [str(c).strip() for c in described.columns]
    if "Name" not in described.columns or len(described) != _RAW_COLUMN_COUNT:
        raise ValueError(
            f"{features_file.name}: expected a `Name` column describing "
            f"{_RAW_COLUMN_COUNT} columns; got columns {list(described.columns)} "
            f"and {len(described)} rows."
        )
    names = []
    for raw in described["Name"].astype(str):
        key = raw.strip().lower().replace(" ", "")
        names.append(_RAW_RENAMES.get(key, key))
    expected = {*PARTITION_FEATURES, *RAW_METADATA, "attack_cat", "label"} - {"rate"}
    if set(names) != expected:
        raise ValueError(
            f"{features_file.name}: the described columns do not match "
            f"UNSW-NB15: unexpected {sorted(set(names) - expected)}, missing "
            f"{sorted(expected - set(names))}."
        )
    return names


def _repair_values(table, name, layout, report):
    """Numbers, text features and labels of one file, repaired and counted."""
    if "label" not in table.columns:
        raise ValueError(f"{name}: the label column `label` is missing.")
    known_numeric = {*PARTITION_FEATURES, "stime", "ltime", "label"}
    numeric = [
        c for c in table.columns if c in known_numeric and c not in TEXT_FEATURES
    ]
    for column in numeric:
        values, blank = _to_numeric(table[column], name, column)
        if column == "label":
            table[column] = values
            continue
        if blank.any():
            _add(report.repairs, f"blank {column} set to 0", blank.sum())
            values = values.where(~blank, 0.0)
        table[column] = values

    for column in TEXT_FEATURES:
        raw = table[column]
        text = raw.str.strip()
        empty = text.isna() | (text == "")
        stripped = (text != raw) & raw.notna()
        _add(report.repairs, f"{column} whitespace stripped", stripped.sum())
        _add(report.repairs, f"empty {column} set to '-'", empty.sum())
        table[column] = text.where(~empty, "-")

    label = table["label"]
    if not label.dropna().isin([0.0, 1.0]).all():
        odd = label[~label.isin([0.0, 1.0]) & label.notna()].iloc[0]
        raise ValueError(f"{name}: `label` must be 0 or 1; found {odd!r}.")
    no_label = label.isna()
    _add(report.dropped, "missing label", no_label.sum())
    table = table.loc[~no_label].copy()
    table["label"] = table["label"].astype("int64")

    raw = table["attack_cat"]
    text = raw.str.strip()
    stripped = (text != raw) & raw.notna()
    _add(report.repairs, "attack_cat whitespace stripped", stripped.sum())
    canonical = text.str.lower().map(_CATEGORY_SPELLINGS)
    renamed = canonical.notna() & (canonical != text)
    backdoors = renamed & (text.str.lower() == "backdoors")
    _add(report.repairs, "attack_cat Backdoors -> Backdoor", backdoors.sum())
    _add(report.repairs, "attack_cat case normalised", (renamed & ~backdoors).sum())
    text = canonical.fillna(text)
    empty = text.isna() | (text == "")
    normal = empty & (table["label"] == 0)
    _add(report.repairs, "empty attack_cat on normal row -> Normal", normal.sum())
    text = text.where(~normal, "Normal")
    no_category = empty & (table["label"] == 1)
    _add(report.dropped, "attack row without attack_cat", no_category.sum())
    table["attack_cat"] = text
    table = table.loc[~no_category]

    unknown = sorted(set(table["attack_cat"]) - set(CATEGORIES))
    if unknown:
        report.warnings.append(f"{name}: unknown attack categories kept: {unknown}")
    is_normal = table["attack_cat"] == "Normal"
    mismatch = (is_normal & (table["label"] == 1)) | (
        ~is_normal & (table["label"] == 0)
    )
    if mismatch.any():
        report.warnings.append(
            f"{name}: {int(mismatch.sum())} rows where `label` disagrees with "
            f"`attack_cat` (kept)"
        )
    if layout == "raw":
        for column in ("stime", "ltime"):
            table[column] = table[column].astype("int64")
    return table


def _check_swapped_name(name, rows, report):
    lowered = name.lower()
    for said, other in (("training", "testing"), ("testing", "training")):
        if f"{said}-set" in lowered and rows == OFFICIAL_PARTITION_ROWS[other]:
            report.warnings.append(
                f"{name} is named as the {said} partition but has {rows:,} rows, "
                f"the official size of the {other} partition: the two file names "
                f"are swapped in several circulating copies. The rows were "
                f"loaded as they are; check which partition you meant"
            )


def _make_bunch(frame, features, metadata, target, return_X_y, as_frame, report):
    data = frame[features]
    if target == "binary":
        y = frame["label"].rename("label")
        target_names = np.array(["normal", "attack"], dtype=object)
    else:
        y = frame["attack_cat"].rename("attack_cat")
        target_names = np.array(sorted(y.unique()), dtype=object)
    if not as_frame:
        data = data.to_numpy(dtype=object)
        y = y.to_numpy()
    if return_X_y:
        return data, y
    return Bunch(
        data=data,
        target=y,
        target_names=target_names,
        feature_names=list(features),
        metadata_names=[c for c in metadata if c != "source_file"],
        frame=frame if as_frame else None,
        source_file=frame["source_file"].to_numpy(),
        DESCR=DESCR,
        load_report=report,
    )
