"""UNSW-NB15 loader on tiny hand-written files, one quirk at a time."""

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_2dbm.datasets import LoadReport, _unsw, load_unsw_nb15
from sklearn_2dbm.datasets._unsw import PARTITION_FEATURES
from sklearn_2dbm.exceptions import DataQualityWarning

HEADER = "id," + ",".join(PARTITION_FEATURES) + ",attack_cat,label"
RAW_NAMES = [
    "srcip", "sport", "dstip", "dsport", "proto", "state", "dur", "sbytes",
    "dbytes", "sttl", "dttl", "sloss", "dloss", "service", "Sload", "Dload",
    "Spkts", "Dpkts", "swin", "dwin", "stcpb", "dtcpb", "smeansz", "dmeansz",
    "trans_depth", "res_bdy_len", "Sjit", "Djit", "Stime", "Ltime", "Sintpkt",
    "Dintpkt", "tcprtt", "synack", "ackdat", "is_sm_ips_ports", "ct_state_ttl",
    "ct_flw_http_mthd", "is_ftp_login", "ct_ftp_cmd", "ct_srv_src", "ct_srv_dst",
    "ct_dst_ltm", "ct_src_ ltm", "ct_src_dport_ltm", "ct_dst_sport_ltm",
    "ct_dst_src_ltm", "attack_cat", "Label",
]  # fmt: skip


def partition_row(row_id, cat="Normal", label=0, service="-", state="FIN", value=1):
    """One partition-layout line: 38 numeric features after `state`."""
    numbers = ",".join([str(value)] * 38)
    return f"{row_id},0.5,tcp,{service},{state},{numbers},{cat},{label}"


def write_partition(path, rows, bom=False, crlf=False, gz=False):
    newline = "\r\n" if crlf else "\n"
    data = (newline.join([HEADER, *rows]) + newline).encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def load_quietly(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_unsw_nb15(**kwargs)


def test_partition_quirks_are_repaired_and_counted(tmp_path):
    rows = [
        partition_row(1, cat="", label=0),
        partition_row(2, cat=" Exploits ", label=1, service="http"),
        partition_row(3, cat="Backdoors", label=1, state="-"),
        partition_row(4, cat="Backdoor", label=1),
        partition_row(5, cat="Normal", label=0),
    ]
    path = write_partition(tmp_path / "part.csv", rows, bom=True, crlf=True)

    with pytest.warns(DataQualityWarning) as record:
        bunch = load_unsw_nb15(files=[path], target="category")

    assert len(record) == 1
    assert bunch.target.tolist() == [
        "Normal",
        "Exploits",
        "Backdoor",
        "Backdoor",
        "Normal",
    ]
    assert bunch.feature_names == PARTITION_FEATURES
    assert list(bunch.data.columns) == PARTITION_FEATURES
    assert "id" not in bunch.data.columns
    assert bunch.frame["id"].tolist() == [1, 2, 3, 4, 5]
    assert bunch.data["service"].tolist() == ["-", "http", "-", "-", "-"]
    assert bunch.data["state"].tolist() == ["FIN", "FIN", "-", "FIN", "FIN"]
    assert bunch.data["dur"].dtype == np.float64
    assert bunch.frame["label"].tolist() == [0, 1, 1, 1, 0]
    report = bunch.load_report
    assert isinstance(report, LoadReport)
    assert report.repairs == {
        "attack_cat whitespace stripped": 1,
        "attack_cat Backdoors -> Backdoor": 1,
        "empty attack_cat on normal row -> Normal": 1,
    }
    assert report.dropped == {}
    assert report.rows_read == report.rows_returned == 5
    assert any("byte-order mark" in note for note in report.notes)
    assert any("CRLF" in note for note in report.notes)
    assert list(bunch.target_names) == ["Backdoor", "Exploits", "Normal"]


def test_clean_file_emits_no_warning(tmp_path):
    path = write_partition(tmp_path / "clean.csv", [partition_row(1)])

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        bunch = load_unsw_nb15(files=[path])

    assert bunch.target.tolist() == [0]
    assert list(bunch.target_names) == ["normal", "attack"]


def test_data_home_argument_env_var_and_gzip(tmp_path, monkeypatch):
    for name, cat, label in (("argument", "Worms", 1), ("env", "Normal", 0)):
        write_partition(
            tmp_path / name / "unsw_nb15" / "UNSW_NB15_testing-set.csv.gz",
            [partition_row(1, cat=cat, label=label)],
            gz=True,
        )
    monkeypatch.setenv("SKLEARN_2DBM_DATA", str(tmp_path / "env"))

    from_env = load_unsw_nb15(target="category")
    from_argument = load_unsw_nb15(data_home=tmp_path / "argument", target="category")

    assert from_env.target.tolist() == ["Normal"]
    assert from_argument.target.tolist() == ["Worms"]
    assert from_argument.source_file.tolist() == ["UNSW_NB15_testing-set.csv.gz"]


def test_missing_file_names_files_folder_and_setting(tmp_path, monkeypatch):
    (tmp_path / "unsw_nb15").mkdir()
    monkeypatch.setenv("SKLEARN_2DBM_DATA", str(tmp_path / "nowhere"))

    with pytest.raises(FileNotFoundError) as by_argument:
        load_unsw_nb15(data_home=tmp_path, partition="training")
    with pytest.raises(FileNotFoundError) as by_env:
        load_unsw_nb15()

    message = str(by_argument.value)
    assert "UNSW_NB15_training-set.csv'" in message
    assert "UNSW_NB15_training-set.csv.gz'" in message
    assert str(tmp_path / "unsw_nb15") in message
    assert "`data_home` argument" in message
    assert "SKLEARN_2DBM_DATA" in message
    assert str(tmp_path / "nowhere") in str(by_env.value)
    assert "SKLEARN_2DBM_DATA=" in str(by_env.value)


def test_swapped_partition_names_are_flagged(tmp_path, monkeypatch):
    monkeypatch.setattr(_unsw, "OFFICIAL_PARTITION_ROWS", {"training": 5, "testing": 3})
    rows = [partition_row(i) for i in range(1, 4)]
    swapped = write_partition(tmp_path / "UNSW_NB15_training-set.csv", rows)
    correct = write_partition(tmp_path / "UNSW_NB15_testing-set.csv", rows)

    with pytest.warns(DataQualityWarning, match="UNSW_NB15_training-set.csv") as rec:
        bunch = load_unsw_nb15(files=[swapped])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        load_unsw_nb15(files=[correct])

    assert len(rec) == 1
    assert "3 rows" in str(rec[0].message)
    assert "testing partition" in str(rec[0].message)
    assert len(bunch.load_report.warnings) == 1
    assert len(bunch.data) == 3


def test_swap_detection_uses_official_counts(tmp_path):
    # Generated rows, not copied data: 82,332 rows under the training name.
    rows = [partition_row(i) for i in range(1, 82_333)]
    path = write_partition(tmp_path / "UNSW_NB15_training-set.csv.gz", rows, gz=True)

    with pytest.warns(DataQualityWarning, match="82,332 rows"):
        bunch = load_unsw_nb15(files=[path])

    assert bunch.load_report.rows_read == 82_332


def test_duplicates_ignore_id_and_are_dropped_on_request(tmp_path):
    rows = [partition_row(1), partition_row(2), partition_row(3, value=7)]
    path = write_partition(tmp_path / "dup.csv", rows)

    kept = load_unsw_nb15(files=[path])
    with pytest.warns(DataQualityWarning, match="duplicate row 1"):
        dropped = load_unsw_nb15(files=[path], drop_duplicates=True)

    assert kept.load_report.kept == {"duplicate_rows": 1}
    assert len(kept.data) == 3
    assert dropped.frame["id"].tolist() == [1, 3]
    assert dropped.load_report.dropped == {"duplicate row": 1}
    assert dropped.load_report.rows_returned == 2
    assert dropped.load_report.files["dup.csv"]["rows_returned"] == 2


def test_attack_without_category_and_label_disagreement(tmp_path):
    rows = [
        partition_row(1, cat="", label=1),
        partition_row(2, cat="Normal", label=1),
        partition_row(3),
        "",
    ]
    path = write_partition(tmp_path / "odd.csv", rows)

    with pytest.warns(DataQualityWarning) as record:
        bunch = load_unsw_nb15(files=[path])

    assert len(record) == 1
    report = bunch.load_report
    assert report.dropped == {"empty row": 1, "attack row without attack_cat": 1}
    assert report.rows_read == 4
    assert report.rows_returned == 2 == report.rows_read - sum(report.dropped.values())
    assert "1 rows where `label` disagrees" in report.warnings[0]


def test_return_x_y_and_numpy_output(tmp_path):
    path = write_partition(tmp_path / "p.csv", [partition_row(1, "DoS", 1)])

    X, y = load_unsw_nb15(files=[path], return_X_y=True)
    X_np, y_np = load_unsw_nb15(files=[path], return_X_y=True, as_frame=False)
    bunch = load_unsw_nb15(files=[path], as_frame=False)

    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X_np.shape == (1, 42) and X_np.dtype == object
    assert y_np.tolist() == [1]
    assert bunch.frame is None


def write_raw_folder(folder):
    """Features file (Windows-1252, CRLF, `Type `) and four raw files."""
    folder.mkdir(parents=True)
    lines = ["No.,Name,Type ,Description"]
    for number, name in enumerate(RAW_NAMES, start=1):
        lines.append(f"{number},{name},integer,the server\u2019s value")
    text = "\r\n".join(lines) + "\r\n"
    (folder / "NUSW-NB15_features.csv").write_bytes(text.encode("cp1252"))

    def raw_row(srcip, dsport, cat, label, ftp, stime):
        values = dict.fromkeys(RAW_NAMES, "2")
        values.update(
            srcip=srcip,
            sport="1043",
            dstip="149.171.126.6",
            dsport=dsport,
            proto="tcp",
            state="-",
            service="-",
            Sintpkt="0.25",
            smeansz="44",
            res_bdy_len="7",
            Stime=str(stime),
            Ltime=str(stime + 1),
            ct_ftp_cmd=ftp,
            attack_cat=cat,
            Label=str(label),
        )
        return ",".join(values[name] for name in RAW_NAMES)

    rows = {
        1: [raw_row("59.166.0.0", "0x000b", "", 0, " ", 1421927414)],
        2: [raw_row("175.45.176.1", "80", " Fuzzers", 1, "", 1421927415)],
        3: [raw_row("175.45.176.2", "-", "Backdoors", 1, "1", 1421927416)],
        4: [raw_row("175.45.176.3", "53", "Reconnaissance ", 1, "0", 1421927417)],
    }
    for index, lines in rows.items():
        data = "\r\n".join(lines) + "\r\n"
        (folder / f"UNSW-NB15_{index}.csv").write_bytes(data.encode("utf-8"))


def test_raw_headerless_files(tmp_path):
    write_raw_folder(tmp_path / "unsw_nb15")

    with pytest.warns(DataQualityWarning) as record:
        bunch = load_unsw_nb15(data_home=tmp_path, partition="raw", target="category")

    assert len(record) == 1
    expected_features = [c for c in PARTITION_FEATURES if c != "rate"]
    assert bunch.feature_names == expected_features
    assert bunch.target.tolist() == ["Normal", "Fuzzers", "Backdoor", "Reconnaissance"]
    assert bunch.frame["label"].tolist() == [0, 1, 1, 1]
    assert bunch.data["ct_ftp_cmd"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert bunch.data["sinpkt"].tolist() == [0.25] * 4
    assert bunch.data["smean"].tolist() == [44.0] * 4
    assert bunch.data["response_body_len"].tolist() == [7.0] * 4
    assert bunch.data["service"].tolist() == ["-"] * 4
    assert bunch.metadata_names == list(_unsw.RAW_METADATA)
    assert bunch.frame["dsport"].tolist() == ["0x000b", "80", "-", "53"]
    assert bunch.frame["stime"].dtype == np.int64
    assert bunch.frame["srcip"].iloc[1] == "175.45.176.1"
    for column in _unsw.RAW_METADATA:
        assert column not in bunch.data.columns
    assert bunch.load_report.repairs == {
        "blank ct_ftp_cmd set to 0": 2,
        "empty attack_cat on normal row -> Normal": 1,
        "attack_cat whitespace stripped": 2,
        "attack_cat Backdoors -> Backdoor": 1,
    }
    assert list(bunch.load_report.files) == [f"UNSW-NB15_{i}.csv" for i in range(1, 5)]


def test_raw_file_without_features_file(tmp_path):
    write_raw_folder(tmp_path / "unsw_nb15")
    (tmp_path / "unsw_nb15" / "NUSW-NB15_features.csv").unlink()

    with pytest.raises(FileNotFoundError, match="NUSW-NB15_features.csv"):
        load_unsw_nb15(data_home=tmp_path, partition="raw")


def test_mixed_layouts_are_refused(tmp_path):
    write_raw_folder(tmp_path / "unsw_nb15")
    part = write_partition(tmp_path / "unsw_nb15" / "p.csv", [partition_row(1)])

    with pytest.raises(ValueError, match="mix the partition layout"):
        load_quietly(files=[part, tmp_path / "unsw_nb15" / "UNSW-NB15_1.csv"])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (gzip.compress(HEADER.encode())[:-12], "truncated or corrupt"),
        (b" Destination Port, Flow Duration, Label\n80,3,BENIGN\n", "UNSW-NB15"),
        (HEADER.replace(",label", ",other").encode() + b"\n", "`label` is missing"),
        (b"id,dur,attack_cat,label\n1,0.5,Normal,0\n", "feature columns are miss"),
        ((HEADER + "\n" + partition_row(1, value="abc")).encode(), "non-numeric"),
        ((HEADER + "\n" + partition_row(1, label=3)).encode(), "must be 0 or 1"),
    ],
)
def test_wrong_input_raises_value_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=message) as info:
        load_quietly(files=[path])

    assert "bad.csv" in str(info.value)


def test_truncated_gzip_chains_the_cause(tmp_path):
    path = tmp_path / "cut.csv.gz"
    data = gzip.compress((HEADER + "\n" + partition_row(1)).encode())
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ValueError, match="cut.csv.gz") as info:
        load_unsw_nb15(files=[path])

    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    "kwargs, name",
    [({"partition": "train"}, "partition"), ({"target": "label"}, "target")],
)
def test_invalid_parameters(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}` must be one of"):
        load_unsw_nb15(**kwargs)


def test_printed_report_shows_kept_counts_and_notes():
    from sklearn_2dbm.datasets import LoadReport

    report = LoadReport("toy", rows_read=3, rows_returned=3)
    report.kept["duplicate_rows"] = 1
    report.notes.append("byte-order mark removed")

    assert str(report).splitlines() == [
        "toy: 3 rows read, 3 returned",
        "kept as they are: duplicate_rows 1",
        "note: byte-order mark removed",
    ]
