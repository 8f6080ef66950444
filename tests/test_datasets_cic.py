"""CIC-IDS2017 loader on tiny hand-written files, one quirk at a time."""

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_2dbm.datasets import load_cic_ids2017
from sklearn_2dbm.datasets._cic import CIC_FEATURES, IDENTIFIER_COLUMNS
from sklearn_2dbm.exceptions import DataQualityWarning

FEATURES = list(CIC_FEATURES)
# MachineLearningCVE: the second `Fwd Header Length` sits after
# `Avg Bwd Segment Size`; most names start with a space.
RAW_COLUMNS = [*FEATURES[:55], "Fwd Header Length", *FEATURES[55:], "Label"]
RAW_HEADER = ",".join(
    name if name.startswith("Flow Bytes") else " " + name for name in RAW_COLUMNS
)
F32_MAX = float(np.finfo(np.float32).max)


def raw_line(label="BENIGN", duplicate=None, **values):
    """A MachineLearningCVE line; ``values`` by feature name, spaces as ``_``."""
    cells = dict.fromkeys(FEATURES, "1")
    cells.update({key.replace("_", " "): str(v) for key, v in values.items()})
    if "Init Win bytes forward" in cells:
        cells["Init_Win_bytes_forward"] = cells.pop("Init Win bytes forward")
    row = [cells[name] for name in FEATURES[:55]]
    row.append(cells["Fwd Header Length"] if duplicate is None else str(duplicate))
    row.extend(cells[name] for name in FEATURES[55:])
    return ",".join([*row, label])


def write(path, lines, *, newline="\n", encoding="utf-8", gz=False):
    data = (newline.join(lines) + newline).encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def load_quietly(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_cic_ids2017(**kwargs)


def test_raw_layout_quirks(tmp_path):
    lines = [
        RAW_HEADER,
        raw_line(Flow_Duration=5, Init_Win_bytes_forward=-1),
        raw_line(**{"Flow Bytes/s": "Infinity", "Flow Packets/s": "inf"}),
        raw_line(**{"Flow Bytes/s": "NaN", "Flow IAT Min": -3}),
        raw_line(label=" DDoS ", **{"Flow Bytes/s": ""}),
    ]
    path = write(tmp_path / "raw.csv", lines, newline="\r\n")

    with pytest.warns(DataQualityWarning) as record:
        bunch = load_cic_ids2017(files=[path], target="category")

    assert len(record) == 1
    assert bunch.feature_names == FEATURES
    assert list(bunch.data.columns) == FEATURES
    assert (bunch.data.dtypes == np.float32).all()
    assert "Fwd Header Length.1" not in bunch.frame.columns
    assert bunch.data["Flow Bytes/s"].tolist() == [1.0, -1.0, -1.0, -1.0]
    assert bunch.data["Flow Packets/s"].tolist() == [1.0, -1.0, 1.0, 1.0]
    assert bunch.data["Init_Win_bytes_forward"].tolist() == [-1.0, 1.0, 1.0, 1.0]
    assert bunch.data["Flow IAT Min"].tolist() == [1.0, 1.0, -3.0, 1.0]
    assert bunch.target.tolist() == ["BENIGN", "BENIGN", "BENIGN", "DDoS"]
    report = bunch.load_report
    assert report.repairs == {
        "labels respelled": 1,
        "NaN cells -> -1": 2,
        "infinite cells -> -1": 2,
    }
    assert report.kept == {"-1 in Init_Win_bytes_forward": 1}
    assert report.rows_read == report.rows_returned == 4
    assert any("column names stripped" in note for note in report.notes)
    assert any("identical `Fwd Header Length.1` dropped" in n for n in report.notes)


@pytest.mark.parametrize(
    "policy, expected_bytes, expected_dropped",
    [
        ("minus-one", [7.0, -1.0, -1.0, -1.0, -1.0, -2.0], {}),
        ("nan", [7.0, np.nan, np.nan, np.nan, np.nan, -2.0], {}),
        ("clip", [7.0, 7.0, -2.0, 7.0, np.nan, -2.0], {}),
        ("drop", [7.0, -2.0], {"non-finite feature": 4}),
    ],
)
def test_nonfinite_policies(tmp_path, policy, expected_bytes, expected_dropped):
    lines = [
        RAW_HEADER,
        raw_line(**{"Flow Bytes/s": 7}),
        raw_line(**{"Flow Bytes/s": "Infinity"}),
        raw_line(**{"Flow Bytes/s": "-inf"}),
        raw_line(**{"Flow Bytes/s": "1e39"}),
        raw_line(**{"Flow Bytes/s": "NaN"}),
        raw_line(**{"Flow Bytes/s": -2}),
    ]
    path = write(tmp_path / "rates.csv", lines)

    bunch = load_quietly(files=[path], nonfinite=policy)

    np.testing.assert_array_equal(bunch.data["Flow Bytes/s"], expected_bytes)
    assert bunch.data["Flow Bytes/s"].dtype == np.float32
    assert bunch.load_report.dropped == expected_dropped
    report = bunch.load_report
    assert report.rows_read - sum(report.dropped.values()) == report.rows_returned


def test_nonfinite_repair_counts_name_the_policy(tmp_path):
    lines = [
        RAW_HEADER,
        raw_line(**{"Flow Bytes/s": "Infinity"}),
        raw_line(**{"Flow Bytes/s": "1e39", "Flow Packets/s": "NaN"}),
    ]
    path = write(tmp_path / "rates.csv", lines)

    nan = load_quietly(files=[path], nonfinite="nan").load_report
    clip = load_quietly(files=[path], nonfinite="clip").load_report

    assert nan.repairs == {"infinite cells -> NaN": 1, "beyond float32 cells -> NaN": 1}
    assert nan.kept["NaN cells"] == 1
    assert clip.repairs == {
        "infinite cells clipped": 1,
        "beyond float32 cells clipped": 1,
    }


def test_clip_without_any_finite_value_uses_float32_range(tmp_path):
    lines = [RAW_HEADER, raw_line(**{"Flow Bytes/s": "Infinity"})]
    path = write(tmp_path / "rates.csv", lines)

    bunch = load_quietly(files=[path], nonfinite="clip")

    assert bunch.data["Flow Bytes/s"].tolist() == [F32_MAX]


def test_web_attack_spellings_become_one(tmp_path):
    official = write(
        tmp_path / "official.csv",
        [
            RAW_HEADER,
            raw_line("Web Attack \u2013 Brute Force"),
            raw_line("Web Attack \u2013 XSS"),
        ],
        newline="\r\n",
        encoding="cp1252",
    )
    assert b"\x96" in official.read_bytes()
    respelled = write(
        tmp_path / "respelled.csv",
        [
            RAW_HEADER,
            raw_line("Web Attack \u2013 Brute Force"),
            raw_line("Web Attack - XSS"),
            raw_line("Web Attack  \u2014  Sql Injection"),
            raw_line("Web Attack Sql Injection"),
            raw_line("BENIGN"),
        ],
    )

    with pytest.warns(DataQualityWarning) as record:
        bunch = load_cic_ids2017(files=[official, respelled], target="category")

    assert len(record) == 1
    assert bunch.target.tolist() == [
        "Web Attack - Brute Force",
        "Web Attack - XSS",
        "Web Attack - Brute Force",
        "Web Attack - XSS",
        "Web Attack - Sql Injection",
        "Web Attack - Sql Injection",
        "BENIGN",
    ]
    assert bunch.frame["is_attack"].tolist() == [1, 1, 1, 1, 1, 1, 0]
    assert bunch.load_report.repairs == {
        "bytes decoded as Windows-1252": 2,
        "labels respelled": 5,
    }


def test_file_mixing_utf8_and_windows_1252_bytes(tmp_path):
    text = "\n".join([RAW_HEADER, raw_line("Web Attack \u2013 XSS"), raw_line("X")])
    data = text.encode("utf-8") + b"\n" + raw_line("Web Attack ").encode()
    data += b"\x96 Brute Force\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)

    bunch = load_quietly(files=[path], target="category")

    assert bunch.target.tolist() == [
        "Web Attack - XSS",
        "X",
        "Web Attack - Brute Force",
    ]
    assert bunch.load_report.repairs["bytes decoded as Windows-1252"] == 1


def test_differing_duplicate_column_is_kept_and_flagged(tmp_path):
    lines = [RAW_HEADER, raw_line(duplicate=1), raw_line(duplicate=9)]
    path = write(tmp_path / "dup.csv", lines)

    with pytest.warns(DataQualityWarning, match="differs from the first on 1 rows"):
        bunch = load_cic_ids2017(files=[path])

    assert bunch.frame["Fwd Header Length.1"].tolist() == [1, 9]
    assert "Fwd Header Length.1" not in bunch.data.columns
    assert bunch.metadata_names == ["Fwd Header Length.1"]


def generated_flows_lines():
    header = ", ".join(["Flow ID", "Source IP", "Source Port", "Destination IP"])
    header += ", Destination Port, Protocol, Timestamp, "
    header += ", ".join([*FEATURES[1:55], "Fwd Header Length", *FEATURES[55:]])
    header += ", Label"
    ids = "192.168.10.5-104.16.207.165-54865-443-6,104.16.207.165,443,192.168.10.5"
    line = f"{ids},54865,6,3/7/2017 8:55,"
    line += ",".join(["4"] * 77) + ",BENIGN"
    return [header, line, "," * 84, ""]


def test_generated_labelled_flows_layout(tmp_path):
    path = write(tmp_path / "flows.csv", generated_flows_lines())

    with pytest.warns(DataQualityWarning, match="empty row 2"):
        bunch = load_cic_ids2017(files=[path])

    assert list(bunch.data.columns) == FEATURES
    assert bunch.data["Destination Port"].tolist() == [54865.0]
    assert bunch.metadata_names == list(IDENTIFIER_COLUMNS)
    assert bunch.frame["Source IP"].tolist() == ["104.16.207.165"]
    assert bunch.frame["Timestamp"].tolist() == ["3/7/2017 8:55"]
    for column in IDENTIFIER_COLUMNS:
        assert column not in bunch.data.columns
    report = bunch.load_report
    assert report.dropped == {"empty row": 2}
    assert report.rows_read == 3 and report.rows_returned == 1
    assert report.files["flows.csv"]["layout"] == "GeneratedLabelledFlows"


def test_pandas_cleaned_file_loads_like_the_raw_file(tmp_path):
    raw_lines = [
        RAW_HEADER,
        raw_line(Flow_Duration=5, **{"Flow Bytes/s": "Infinity"}),
        raw_line(Flow_Duration=6, **{"Flow Packets/s": "NaN"}),
    ]
    raw = write(tmp_path / "raw.csv", raw_lines)
    table = pd.read_csv(raw)
    table.columns = table.columns.str.strip()
    table = table.replace([np.inf, -np.inf], np.nan).fillna(-1)
    table = table.astype({"Flow Duration": "float64", "Destination Port": "float64"})
    cleaned = tmp_path / "cleaned.csv"
    table.to_csv(cleaned, index=False)
    assert "Fwd Header Length.1" in cleaned.read_text().splitlines()[0]
    assert "5.0" in cleaned.read_text()
    without_copy = tmp_path / "without_copy.csv"
    table.drop(columns="Fwd Header Length.1").to_csv(without_copy, index=False)

    from_raw = load_quietly(files=[raw])
    from_cleaned = load_quietly(files=[cleaned])
    from_without_copy = load_quietly(files=[without_copy])

    pd.testing.assert_frame_equal(from_raw.data, from_cleaned.data)
    pd.testing.assert_frame_equal(from_raw.data, from_without_copy.data)
    assert from_cleaned.load_report.kept == {
        "-1 in Flow Bytes/s": 1,
        "-1 in Flow Packets/s": 1,
    }


def test_empty_rows_and_missing_labels_are_counted(tmp_path):
    lines = [RAW_HEADER, raw_line(), "", "," * 78, raw_line(label=""), raw_line()]
    path = write(tmp_path / "gaps.csv", lines)

    bunch = load_quietly(files=[path])

    report = bunch.load_report
    assert report.dropped == {"empty row": 2, "missing label": 1}
    assert report.rows_read == 5
    assert report.rows_returned == 2 == len(bunch.data)


def test_duplicates_counted_and_dropped_on_request(tmp_path):
    lines = [RAW_HEADER, raw_line(), raw_line(), raw_line(label="DDoS"), raw_line()]
    path = write(tmp_path / "dups.csv", lines)

    kept = load_quietly(files=[path])
    dropped = load_quietly(files=[path], drop_duplicates=True)

    assert kept.load_report.kept == {"duplicate_rows": 2}
    assert kept.load_report.files["dups.csv"]["duplicate_rows"] == 2
    assert len(kept.data) == 4
    assert dropped.target.tolist() == [0, 1]
    assert dropped.load_report.dropped == {"duplicate row": 2}
    assert dropped.load_report.files["dups.csv"]["rows_returned"] == 2


def test_several_files_default_discovery_and_source_file(tmp_path, monkeypatch):
    folder = tmp_path / "cic_ids2017"
    write(folder / "b.csv", [RAW_HEADER, raw_line(), raw_line()], newline="\r\n")
    write(folder / "processed" / "a.csv.gz", [RAW_HEADER, raw_line("DDoS")], gz=True)
    write(folder / "notes.txt", ["not a csv"])
    monkeypatch.setenv("SKLEARN_2DBM_DATA", str(tmp_path))

    bunch = load_quietly()
    by_name = load_quietly(files=["processed/a", "b.csv"])

    assert bunch.source_file.tolist() == ["b.csv", "b.csv", "processed/a.csv.gz"]
    assert bunch.frame["source_file"].tolist() == bunch.source_file.tolist()
    assert "source_file" not in bunch.data.columns
    assert bunch.target.tolist() == [0, 0, 1]
    assert by_name.source_file.tolist() == ["processed/a.csv.gz", "b.csv", "b.csv"]
    assert set(bunch.load_report.files) == {"b.csv", "processed/a.csv.gz"}


def test_numpy_output_and_return_x_y(tmp_path):
    path = write(tmp_path / "one.csv", [RAW_HEADER, raw_line("PortScan")])

    X, y = load_cic_ids2017(files=[path], return_X_y=True, as_frame=False)
    bunch = load_cic_ids2017(files=[path], as_frame=False, target="category")

    assert X.shape == (1, 77) and X.dtype == np.float32
    assert y.tolist() == [1]
    assert bunch.target.tolist() == ["PortScan"]
    assert list(bunch.target_names) == ["PortScan"]
    assert bunch.frame is None


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="cic_ids2017") as no_folder:
        load_cic_ids2017(data_home=tmp_path)
    (tmp_path / "cic_ids2017").mkdir()
    with pytest.raises(FileNotFoundError, match=r"\*\.csv") as no_files:
        load_cic_ids2017(data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match="Monday"):
        load_cic_ids2017(data_home=tmp_path, files=["Monday.csv"])

    assert "`data_home` argument" in str(no_folder.value)
    assert "SKLEARN_2DBM_DATA" in str(no_files.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (gzip.compress(RAW_HEADER.encode() * 40)[:-30], "truncated or corrupt"),
        (b"id,dur,proto,attack_cat,label\n1,0.1,tcp,Normal,0\n", "feature columns"),
        (RAW_HEADER.replace(", Label", ", Class").encode(), "`Label` is missing"),
        (RAW_HEADER.encode() + b"\n", "no data rows"),
        (
            (RAW_HEADER + "\n" + raw_line(Flow_Duration="fast")).encode(),
            "'Flow Duration'.*'fast'",
        ),
        (b'"unclosed\n1,2\n', "not a readable CSV"),
    ],
)
def test_wrong_input_raises_value_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.csv.gz" if content[:2] == b"\x1f\x8b" else tmp_path / "bad"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=message) as info:
        load_quietly(files=[path])

    assert "bad" in str(info.value)


def test_gz_name_without_gzip_content(tmp_path):
    path = write(tmp_path / "plain.csv.gz", [RAW_HEADER, raw_line()])

    with pytest.raises(ValueError, match="plain.csv.gz.*not gzip"):
        load_cic_ids2017(files=[path])


@pytest.mark.parametrize(
    "kwargs, name",
    [({"nonfinite": "zero"}, "nonfinite"), ({"target": "multi"}, "target")],
)
def test_invalid_parameters(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be one of"):
        load_cic_ids2017(**kwargs)
