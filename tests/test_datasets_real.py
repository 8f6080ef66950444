"""Loaders on the real files of SKLEARN_2DBM_DATA (see PROVENANCE.md there).

The expected numbers are the published facts about those files. A missing
data folder fails these tests through the ``data_home`` fixture.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_2dbm.datasets import load_cic_ids2017, load_unsw_nb15
from sklearn_2dbm.exceptions import DataQualityWarning

pytestmark = pytest.mark.slow

UNSW_TESTING_CATEGORIES = {
    "Normal": 37_000,
    "Generic": 18_871,
    "Exploits": 11_132,
    "Fuzzers": 6_062,
    "DoS": 4_089,
    "Reconnaissance": 3_496,
    "Analysis": 677,
    "Backdoor": 583,
    "Shellcode": 378,
    "Worms": 44,
}

# file -> (rows, labels with counts, exact duplicate rows or None if unpublished)
CIC_FILES = {
    "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv.gz": (
        9_998,
        {"BENIGN": 9_998},
        73,
    ),
    "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv.gz": (
        1_664,
        {"BENIGN": 1_664},
        15,
    ),
    "processed/Tuesday_Working_balanced.csv.gz": (
        46_117,
        {"BENIGN": 32_282, "FTP-Patator": 7_938, "SSH-Patator": 5_897},
        5_128,
    ),
    "processed/web_attacks_balanced.csv.gz": (
        7_267,
        {
            "BENIGN": 5_087,
            "Web Attack - Brute Force": 1_507,
            "Web Attack - XSS": 652,
            "Web Attack - Sql Injection": 21,
        },
        None,
    ),
    "processed/cicids-ddos.csv.gz": (1_300, {"DDoS": 1_000, "BENIGN": 300}, None),
    "processed/cicids-portscan.csv.gz": (
        1_300,
        {"PortScan": 1_000, "BENIGN": 300},
        7,
    ),
}


def test_unsw_testing_partition(data_home):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        bunch = load_unsw_nb15(data_home=data_home, target="category")

    assert bunch.data.shape == (82_332, 42)
    assert "id" not in bunch.data.columns
    assert bunch.frame["id"].tolist()[:3] == [1, 2, 3]
    assert bunch.target.value_counts().to_dict() == UNSW_TESTING_CATEGORIES
    assert int(bunch.frame["label"].sum()) == 45_332
    assert (bunch.data["service"] == "-").sum() == 47_153
    assert set(bunch.data["state"]) >= {"FIN", "INT", "CON", "REQ", "ACC"}
    assert bunch.data["proto"].nunique() == 131
    report = bunch.load_report
    assert report.kept["duplicate_rows"] == 26_387
    assert report.warnings == [] and report.dropped == {}
    assert any("byte-order mark" in note for note in report.notes)


def test_unsw_binary_target_and_duplicate_drop(data_home):
    with pytest.warns(DataQualityWarning, match="duplicate row 26387"):
        bunch = load_unsw_nb15(data_home=data_home, drop_duplicates=True)

    assert len(bunch.data) == 82_332 - 26_387
    subset = [*bunch.feature_names, "attack_cat", "label"]
    assert bunch.frame.duplicated(subset=subset).sum() == 0
    assert set(bunch.target) == {0, 1}
    assert bunch.load_report.rows_returned == 82_332 - 26_387


@pytest.mark.parametrize("name", sorted(CIC_FILES))
def test_each_cic_file(data_home, name):
    rows, labels, duplicates = CIC_FILES[name]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        bunch = load_cic_ids2017(data_home=data_home, files=[name], target="category")

    assert bunch.data.shape == (rows, 77)
    assert (bunch.data.dtypes == np.float32).all()
    assert np.isfinite(bunch.data.to_numpy()).all()
    assert bunch.target.value_counts().to_dict() == labels
    assert set(bunch.source_file) == {name}
    report = bunch.load_report
    assert report.rows_read == report.rows_returned == rows
    if duplicates is not None:
        assert report.kept.get("duplicate_rows", 0) == duplicates


def test_cic_raw_head_files_quirks(data_home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        ddos = load_cic_ids2017(
            data_home=data_home,
            files=["Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv.gz"],
            nonfinite="nan",
        )

    report = ddos.load_report
    assert report.repairs == {"infinite cells -> NaN": 13}
    assert report.kept["NaN cells"] == 1
    assert report.kept["-1 in Init_Win_bytes_forward"] == 4_634
    assert report.kept["-1 in Init_Win_bytes_backward"] == 5_886
    assert ddos.data["Flow Bytes/s"].isna().sum() == 7
    assert ddos.data["Flow Packets/s"].isna().sum() == 7
    assert (ddos.data["Flow IAT Min"] < 0).sum() == 9
    assert "Fwd Header Length.1" not in ddos.frame.columns


def test_cic_web_attacks_identifiers_and_no_duplicates_with_them(data_home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        bunch = load_cic_ids2017(
            data_home=data_home, files=["processed/web_attacks_balanced.csv.gz"]
        )

    assert bunch.metadata_names == [
        "Flow ID",
        "Source IP",
        "Source Port",
        "Destination IP",
        "Protocol",
        "Timestamp",
    ]
    columns = [*bunch.feature_names, *bunch.metadata_names, "Label"]
    assert bunch.frame.duplicated(subset=columns).sum() == 0
    assert bunch.load_report.repairs["labels respelled"] == 1_507 + 652 + 21
    assert (bunch.data["Flow Bytes/s"] == -1).sum() == 4


def test_all_cic_files_together(data_home):
    with pytest.warns(DataQualityWarning) as record:
        bunch = load_cic_ids2017(data_home=data_home, target="category")

    assert len(record) == 1
    assert set(bunch.source_file) == set(CIC_FILES)
    assert len(bunch.data) == sum(rows for rows, _, _ in CIC_FILES.values())
    assert (bunch.data.dtypes == np.float32).all()
    assert np.isfinite(bunch.data.to_numpy()).all()
    expected = {}
    for _, labels, _ in CIC_FILES.values():
        for label, count in labels.items():
            expected[label] = expected.get(label, 0) + count
    assert bunch.target.value_counts().to_dict() == expected
    for name, (rows, _, _) in CIC_FILES.items():
        assert (bunch.frame["source_file"] == name).sum() == rows
    assert "source_file" not in bunch.data.columns


def test_real_feature_list_names_a_generated_raw_file(data_home, tmp_path):
    # The raw UNSW-NB15_1..4.csv files are not in the data folder; a raw row
    # written here is named by the real NUSW-NB15_features.csv (Windows-1252,
    # `Type ` header), which the loader finds in data_home.
    listing = pd.read_csv(
        data_home / "unsw_nb15" / "NUSW-NB15_features.csv", encoding="cp1252"
    )
    assert list(listing.columns) == ["No.", "Name", "Type ", "Description"]
    raw_names = listing["Name"].str.strip().tolist()
    assert len(raw_names) == 49

    values = dict.fromkeys(raw_names, "3")
    values.update(srcip="59.166.0.0", dstip="149.171.126.6", proto="udp")
    values.update(state="CON", service="dns", attack_cat=" Backdoors", Label="1")
    raw = tmp_path / "UNSW-NB15_2.csv"
    raw.write_bytes((",".join(values[n] for n in raw_names) + "\r\n").encode())

    with pytest.warns(DataQualityWarning, match="Backdoors -> Backdoor"):
        bunch = load_unsw_nb15(data_home=data_home, files=[raw], target="category")

    assert len(bunch.data) == 1
    assert bunch.target.tolist() == ["Backdoor"]
    assert {"sinpkt", "dinpkt", "smean", "dmean", "proto"} <= set(bunch.feature_names)
    assert bunch.data.loc[0, "service"] == "dns"
    assert "srcip" not in bunch.feature_names
