"""Command line, main job plumbing and report writers, on hand-made flows.

The CSV files here are generated inside each test (``tmp_path``) with the
column layout of UNSW-NB15 or CIC-IDS2017 and random values; they are not
samples of the real data. Real-data runs live in test_main_job_real.py.
"""

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from sklearn_2dbm import _report
from sklearn_2dbm._cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from sklearn_2dbm._main_job import (
    InputError,
    JobConfig,
    detect_layout,
    load_labelled_csv,
    normalise_flow_chunk,
    split_for_protocol,
    stratified_subsample,
)
from sklearn_2dbm.datasets._cic import CIC_FEATURES
from sklearn_2dbm.datasets._unsw import PARTITION_FEATURES

FAST = ["--preset", "quick", "--epochs", "2", "--max-rows", "0", "--quiet"]
CATEGORIES = ["Normal", "Generic", "Exploits", "DoS"]


def unsw_frame(n_rows=240, seed=0, sorted_by_label=True):
    """Random flows in the UNSW-NB15 partition layout, attacks separable."""
    rng = np.random.default_rng(seed)
    category = rng.choice(CATEGORIES, size=n_rows, p=[0.4, 0.3, 0.2, 0.1])
    if sorted_by_label:
        category = np.sort(category)
    attack = category != "Normal"
    frame = pd.DataFrame(
        {name: rng.integers(0, 5, size=n_rows) for name in PARTITION_FEATURES}
    )
    frame["dur"] = rng.random(n_rows).round(4)
    frame["sbytes"] = np.where(attack, 5000, 100) + rng.integers(0, 50, n_rows)
    frame["sttl"] = np.where(attack, 254, 31)
    frame["proto"] = rng.choice(["tcp", "udp"], size=n_rows)
    frame["service"] = rng.choice(["-", "http", "dns"], size=n_rows)
    frame["state"] = rng.choice(["FIN", "INT", "CON"], size=n_rows)
    frame.insert(0, "id", np.arange(1, n_rows + 1))
    frame["attack_cat"] = category
    frame["label"] = attack.astype(int)
    # Exact duplicates, as in the real partition files.
    frame.iloc[1::9, 1:] = frame.iloc[0::9, 1:].to_numpy()[: len(frame.iloc[1::9])]
    return frame


def write_unsw_csv(path, **kwargs):
    frame = unsw_frame(**kwargs)
    # The real file's quirks: a byte-order mark and CRLF line endings.
    text = frame.to_csv(index=False, lineterminator="\r\n")
    Path(path).write_bytes(b"\xef\xbb\xbf" + text.encode())
    return frame


def write_cic_csv(path, n_rows=60, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 100, size=(n_rows, len(CIC_FEATURES))).astype(str)
    data[0, 1] = "Infinity"
    frame = pd.DataFrame(data, columns=[" " + name for name in CIC_FEATURES])
    frame[" Label"] = rng.choice(["BENIGN", "DDoS"], size=n_rows)
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="module")
def fake_data_home(tmp_path_factory):
    """A data folder holding a hand-made file in the UNSW-NB15 layout."""
    home = tmp_path_factory.mktemp("data_home")
    (home / "unsw_nb15").mkdir()
    write_unsw_csv(home / "unsw_nb15" / "UNSW_NB15_testing-set.csv", n_rows=320)
    return home


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A student pipeline trained by the CLI on a hand-made UNSW-layout CSV."""
    folder = tmp_path_factory.mktemp("trained")
    csv = folder / "flows.csv"
    write_unsw_csv(csv, n_rows=200, seed=1)
    model = folder / "model.joblib"
    status = main(["train", "--input", str(csv), "--output", str(model), *FAST])
    assert status == EXIT_OK
    return {"csv": csv, "model": model, "folder": folder}


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "expected an error message on stderr"
    assert "Traceback" not in "\n".join(err)
    return err[-1]


# --------------------------------------------------------------------------
# Help, entry points, exit codes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["run"], ["train"], ["evaluate"], ["predict"]])
def test_help_of_every_command_documents_exit_codes(command, capsys):
    assert main([*command, "--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "exit status" in out
    assert "2  usage error or bad input" in out
    if command == ["run"]:
        for text in ("dedup-split", "random-split", "file-order", "quick", "readme"):
            assert text in out


def test_module_and_console_script_entry_points():
    module = subprocess.run(
        [sys.executable, "-m", "sklearn_2dbm", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0
    assert module.stdout.startswith("sklearn-2dbm ")
    script = Path(sys.executable).parent / "sklearn-2dbm"
    result = subprocess.run(
        [str(script), "run", "--dataset", "kdd99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_USAGE
    assert "sklearn-2dbm: error:" in result.stderr
    assert "invalid choice: 'kdd99'" in result.stderr


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == EXIT_USAGE
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "--dataset", "kdd99"], "invalid choice: 'kdd99'"),
        (["run", "--protocol", "magic"], "invalid choice: 'magic'"),
        (["run", "--epochs", "0"], "expected an integer >= 1, got 0"),
        (["predict", "--model", "m.joblib"], "the following arguments are required"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, expected, capsys):
    assert main(argv) == EXIT_USAGE
    line = error_line(capsys)
    assert line.startswith("sklearn-2dbm: error:")
    assert expected in line


def test_missing_data_folder_gives_loader_message(tmp_path, capsys):
    output = tmp_path / "out"
    status = main(
        ["run", "--data-home", str(tmp_path / "nowhere"), "--output", str(output)]
        + FAST
    )
    assert status == EXIT_USAGE
    line = error_line(capsys)
    assert line.startswith("sklearn-2dbm: error: Dataset folder")
    assert "nowhere" in line and "SKLEARN_2DBM_DATA" in line
    assert not output.exists()


def test_unexpected_error_exits_1_with_traceback(monkeypatch, capsys):
    from sklearn_2dbm import _cli

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setitem(_cli.COMMANDS, "evaluate", broken)
    assert main(["evaluate", "--model", "m", "--input", "i"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1] == (
        "sklearn-2dbm: unexpected error: RuntimeError: boom"
    )


# --------------------------------------------------------------------------
# run: the main job on hand-made data
# --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["dedup-split", "random-split", "file-order"])
def test_run_writes_every_output_and_labels_the_protocol(
    protocol, fake_data_home, tmp_path, capsys
):
    output = tmp_path / "run"
    argv = ["run", "--data-home", str(fake_data_home), "--protocol", protocol]
    argv += ["--output", str(output), *FAST]
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out

    expected = {
        "report.json",
        "report.md",
        "teacher_pipeline.joblib",
        "student_pipeline.joblib",
        "baseline_pipeline.joblib",
        "teacher_weights.pt",
        "student_weights.pt",
        "confusion_matrices.png",
        "detection_rates.png",
        "training_curves.png",
    }
    assert {p.name for p in output.iterdir()} == expected
    for png in output.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"

    report = json.loads((output / "report.json").read_text())
    assert set(report["files"]) == expected
    assert report["protocol"]["name"] == protocol
    assert report["data"]["n_train"] + report["data"]["n_test"] == 320
    for name in ("teacher", "student", "baseline"):
        model = report["models"][name]
        assert model["protocol"] == protocol
        for key in ("accuracy", "precision", "recall", "f1", "false_positive_rate"):
            assert 0.0 <= model[key] <= 1.0
        assert model["latency_p99_ms"] >= model["latency_median_ms"] > 0
        assert model["throughput_flows_per_second"] > 0
        assert (
            model["model_file_bytes"] == (output / model["model_file"]).stat().st_size
        )
        rates = model["detection_rate_by_category"]
        assert set(rates) <= set(CATEGORIES)
        assert rates["Normal"] == pytest.approx(model["false_positive_rate"])
    teacher, student = report["models"]["teacher"], report["models"]["student"]
    assert student["n_parameters"] < teacher["n_parameters"]
    assert len(teacher["history"]) >= 1 and "train_loss" in teacher["history"][0]

    markdown = (output / "report.md").read_text()
    assert f"## Results (protocol: `{protocol}`)" in markdown
    assert f"### Detection rate by attack category (protocol: `{protocol}`)" in markdown
    assert _report.PUBLISHED_CLAIM_HEADER in markdown
    assert f"protocol: {protocol}" in out
    assert _report.PUBLISHED_CLAIM_HEADER in out

    figures = report["protocol"]["figures"]
    if protocol == "dedup-split":
        assert figures["duplicate_overlap"] == 0.0
        assert "carry no label information" in markdown
    elif protocol == "random-split":
        assert figures["duplicate_overlap"] > 0.0
        assert "exact copies of training rows" in markdown
    else:
        assert figures["window_label_purity"] > 0.9
        assert "measure the file's ordering, not detection" in markdown
        assert "WARNING:" in out

    pipeline = joblib.load(output / "student_pipeline.joblib")
    flows = pd.read_csv(fake_data_home / "unsw_nb15" / "UNSW_NB15_testing-set.csv")
    flows.columns = [c.lstrip("\ufeff") for c in flows.columns]
    flows = flows[pipeline.feature_names_in_].head(20)
    assert pipeline.predict(flows).shape == (20,)
    # The student learned from the very teacher that was saved: trained once.
    teacher = joblib.load(output / "teacher_pipeline.joblib")
    windows = teacher[:-1].transform(flows)
    np.testing.assert_allclose(
        pipeline[-1].teacher_.predict_proba(windows),
        teacher[-1].predict_proba(windows),
    )


def test_run_category_target_reports_macro_f1(fake_data_home, tmp_path, capsys):
    output = tmp_path / "run"
    argv = ["run", "--data-home", str(fake_data_home), "--target", "category"]
    assert main([*argv, "--output", str(output), *FAST]) == EXIT_OK
    report = json.loads((output / "report.json").read_text())
    for model in report["models"].values():
        assert 0.0 <= model["macro_f1"] <= 1.0
        assert set(model["confusion_labels"]) == set(CATEGORIES)
    assert "macro-F1" in capsys.readouterr().out


def test_run_output_that_is_a_file_is_rejected(fake_data_home, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    argv = ["run", "--data-home", str(fake_data_home), "--output", str(target), *FAST]
    assert main(argv) == EXIT_USAGE
    assert "is not a folder" in error_line(capsys)
    assert target.read_text() == "keep me"


# --------------------------------------------------------------------------
# train, evaluate, predict
# --------------------------------------------------------------------------


def test_train_saves_a_pipeline_that_predicts(trained):
    pipeline = joblib.load(trained["model"])
    assert type(pipeline[-1]).__name__ == "DistilledStudentClassifier"
    assert [name for name, _ in pipeline.steps] == [
        "preprocess",
        "window",
        "classifier",
    ]


def test_evaluate_prints_metrics_and_writes_json(trained, tmp_path, capsys):
    report = tmp_path / "eval.json"
    argv = [
        "evaluate",
        "--model",
        str(trained["model"]),
        "--input",
        str(trained["csv"]),
    ]
    assert main([*argv, "--report", str(report)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "false_positive_rate" in out and "Normal (false alarms)" in out
    # The hand-made file is sorted by label, as the real partition files are.
    assert "measure the file's ordering, not detection" in out
    result = json.loads(report.read_text())
    assert result["layout"] == "unsw-nb15"
    metrics = result["metrics"]
    assert metrics["n_test"] == 200
    assert sum(metrics["support_by_category"].values()) == 200
    assert "file order" in metrics["protocol"]


@pytest.mark.parametrize("chunksize", ["3", "7", "64"])
def test_predict_in_chunks_equals_one_pass(trained, tmp_path, chunksize):
    model, csv = str(trained["model"]), str(trained["csv"])
    one_pass, chunked = tmp_path / "one.csv", tmp_path / "chunked.csv"
    argv = ["predict", "--model", model, "--input", csv, "--quiet"]
    assert main([*argv, "--output", str(one_pass), "--chunksize", "0"]) == EXIT_OK
    assert main([*argv, "--output", str(chunked), "--chunksize", chunksize]) == EXIT_OK

    whole = pd.read_csv(one_pass)
    parts = pd.read_csv(chunked)
    assert len(whole) == 200
    pd.testing.assert_series_equal(whole["predicted_label"], parts["predicted_label"])
    np.testing.assert_allclose(
        whole["attack_probability"], parts["attack_probability"], atol=1e-6
    )
    # The input columns come back as they were read, text untouched.
    original = pd.read_csv(csv, dtype=str, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(whole[original.columns].astype(str), original)


def test_predict_reads_gzip_and_unlabelled_flows(trained, tmp_path):
    frame = unsw_frame(n_rows=30, seed=5).drop(columns=["attack_cat", "label"])
    source = tmp_path / "flows.csv.gz"
    frame.to_csv(source, index=False, compression="gzip")
    output = tmp_path / "scored.csv"
    argv = ["predict", "--model", str(trained["model"]), "--input", str(source)]
    assert main([*argv, "--output", str(output), "--quiet"]) == EXIT_OK
    scored = pd.read_csv(output)
    assert len(scored) == 30
    assert scored["attack_probability"].between(0, 1).all()
    assert set(scored["predicted_label"]) <= {0, 1}


def test_predict_failure_midway_leaves_no_output(trained, tmp_path, capsys):
    frame = unsw_frame(n_rows=50, seed=2)
    frame["sbytes"] = frame["sbytes"].astype(str)
    frame.loc[40, "sbytes"] = "lots"
    source = tmp_path / "bad.csv"
    frame.to_csv(source, index=False)
    output = tmp_path / "scored.csv"
    argv = ["predict", "--model", str(trained["model"]), "--input", str(source)]
    status = main([*argv, "--output", str(output), "--chunksize", "10", "--quiet"])
    assert status == EXIT_USAGE
    line = error_line(capsys)
    assert "column 'sbytes' should hold numbers" in line and "'lots'" in line
    assert list(tmp_path.iterdir()) == [source]


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "is empty"),
        (b"\x1f\x8b\x08garbage-not-gzip", "cannot read"),
        (b"alpha,beta\n1,2\n", "matches neither UNSW-NB15 nor CIC-IDS2017"),
    ],
    ids=["empty", "corrupt-gzip", "foreign-columns"],
)
def test_bad_csv_gives_one_line_error(
    command, content, expected, trained, tmp_path, capsys
):
    source = tmp_path / "input.csv"
    source.write_bytes(content)
    output = tmp_path / "out.file"
    argv = {
        "train": ["train", "--input", str(source), "--output", str(output), *FAST],
        "evaluate": [
            "evaluate",
            "--model",
            str(trained["model"]),
            "--input",
            str(source),
        ],
        "predict": [
            "predict",
            "--model",
            str(trained["model"]),
            "--input",
            str(source),
            "--output",
            str(output),
        ],
    }[command]
    assert main(argv) == EXIT_USAGE
    line = error_line(capsys)
    assert line.startswith("sklearn-2dbm: error:") and expected in line
    assert not output.exists()


def test_missing_input_file(trained, tmp_path, capsys):
    argv = ["evaluate", "--model", str(trained["model"]), "--input", "no/such.csv"]
    assert main(argv) == EXIT_USAGE
    assert "does not exist" in error_line(capsys)


@pytest.mark.parametrize("kind", ["text", "dict", "other-estimator"])
def test_model_that_is_not_ours_is_rejected(kind, trained, tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression

    model = tmp_path / "model.joblib"
    if kind == "text":
        model.write_text("definitely not a pickle")
    elif kind == "dict":
        joblib.dump({"weights": [1, 2, 3]}, model)
    else:
        joblib.dump(LogisticRegression(), model)
    output = tmp_path / "scored.csv"
    argv = ["predict", "--model", str(model), "--input", str(trained["csv"])]
    assert main([*argv, "--output", str(output)]) == EXIT_USAGE
    line = error_line(capsys)
    assert "not a model saved by sklearn-2dbm" in line or (
        "not a pipeline saved by sklearn-2dbm" in line
    )
    assert not output.exists()


def test_columns_that_do_not_match_the_model(trained, tmp_path, capsys):
    source = tmp_path / "cic.csv"
    write_cic_csv(source)
    output = tmp_path / "scored.csv"
    argv = ["predict", "--model", str(trained["model"]), "--input", str(source)]
    assert main([*argv, "--output", str(output)]) == EXIT_USAGE
    line = error_line(capsys)
    assert "lacks" in line and "column(s) the model was trained on" in line
    assert not output.exists()

    argv = ["evaluate", "--model", str(trained["model"]), "--input", str(source)]
    assert main(argv) == EXIT_USAGE
    assert "lacks" in error_line(capsys)


def test_train_on_a_single_class_is_bad_input(tmp_path, capsys):
    source = tmp_path / "normal.csv"
    frame = unsw_frame(n_rows=40)
    frame = frame[frame["label"] == 0]
    frame.to_csv(source, index=False)
    argv = ["train", "--input", str(source), "--output", str(tmp_path / "m.joblib")]
    assert main([*argv, *FAST]) == EXIT_USAGE
    assert "the labels hold a single class" in error_line(capsys)


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def test_layout_detection(tmp_path):
    unsw, cic = tmp_path / "u.csv", tmp_path / "c.csv"
    write_unsw_csv(unsw, n_rows=5)
    write_cic_csv(cic, n_rows=5)
    assert detect_layout(unsw) == "unsw-nb15"
    assert detect_layout(cic) == "cic-ids2017"


def test_chunk_normaliser_matches_the_loader(tmp_path):
    for writer, layout in (
        (write_unsw_csv, "unsw-nb15"),
        (write_cic_csv, "cic-ids2017"),
    ):
        path = tmp_path / f"{layout}.csv"
        writer(path)
        flows = load_labelled_csv(path, target="category")
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        chunk = normalise_flow_chunk(
            raw, layout=layout, feature_names=list(flows["X"].columns)
        )
        pd.testing.assert_frame_equal(
            chunk.reset_index(drop=True),
            flows["X"],
            check_dtype=False,
        )


def test_stratified_subsample_keeps_rare_classes_and_file_order():
    strata = np.array(["a"] * 500 + ["b"] * 100 + ["rare"])
    keep = stratified_subsample(len(strata), strata, 60, random_state=0)
    assert len(keep) == 60
    assert np.all(np.diff(keep) > 0)
    counts = pd.Series(strata[keep]).value_counts()
    assert counts["a"] == 49 and counts["b"] == 10 and counts["rare"] == 1


def test_protocol_splits():
    frame = unsw_frame(n_rows=300)
    X = frame[PARTITION_FEATURES]
    y = frame["label"].to_numpy()
    dedup = split_for_protocol(
        "dedup-split", X, y, window=4, test_size=0.25, random_state=0
    )
    assert dedup["figures"]["duplicate_overlap"] == 0.0
    assert not np.all(np.diff(dedup["train"]) > 0), "rows should be shuffled"
    plain = split_for_protocol(
        "random-split", X, y, window=4, test_size=0.25, random_state=0
    )
    assert np.all(np.diff(plain["train"]) > 0), "rows should stay in file order"
    assert plain["figures"]["window_label_purity_train"] > 0.9
    assert dedup["figures"]["window_label_purity_train"] < 0.9
    whole = split_for_protocol(
        "file-order", X, y, window=4, test_size=0.25, random_state=0
    )
    assert whole["windowing"] == "whole-file"
    assert len(whole["train"]) + len(whole["test"]) == 300
    assert whole["figures"]["label_changes_in_file_order"] == 1

    # A class with a single row cannot be stratified: it stays in training.
    y_rare = np.where(np.arange(300) == 150, 7, y)
    for protocol in ("random-split", "file-order"):
        split = split_for_protocol(
            protocol, X, y_rare, window=4, test_size=0.25, random_state=0
        )
        assert 150 in split["train"] and 150 not in split["test"]


def test_job_config_validation():
    assert JobConfig(preset="quick", epochs=7).resolved()["epochs"] == 7
    assert JobConfig(max_rows=0).resolved()["max_rows"] is None
    with pytest.raises(InputError, match="unknown dataset 'kdd'"):
        JobConfig(dataset="kdd").resolved()
    with pytest.raises(InputError, match="--max-rows must be 0"):
        JobConfig(max_rows=5).resolved()


def test_detection_metrics_hand_worked():
    categories = ["Normal", "Normal", "Normal", "Normal", "DoS", "DoS", "Worms"]
    attack_true = [c != "Normal" for c in categories]
    attack_pred = [False, False, False, True, True, False, True]
    metrics = _report.detection_metrics(
        np.array(attack_true, dtype=int),
        np.array(attack_pred, dtype=int),
        attack_true=attack_true,
        attack_pred=attack_pred,
        categories=categories,
        normal_category="Normal",
    )
    # 2 of 3 attacks caught, 1 of 4 normal flows flagged.
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["false_positive_rate"] == pytest.approx(1 / 4)
    assert metrics["accuracy"] == pytest.approx(5 / 7)
    assert metrics["detection_rate_by_category"] == {
        "DoS": 0.5,
        "Normal": 0.25,
        "Worms": 1.0,
    }
    assert metrics["confusion_matrix"] == [[3, 1], [1, 2]]


def test_macro_f1_leaves_out_classes_absent_from_the_test_side():
    y_true = np.array(["Normal", "Normal", "DoS", "DoS"])
    y_pred = np.array(["Normal", "DoS", "DoS", "DoS"])
    metrics = _report.detection_metrics(
        y_true,
        y_pred,
        attack_true=y_true != "Normal",
        attack_pred=y_pred != "Normal",
        categories=y_true,
        normal_category="Normal",
        target="category",
        # Worms was in the data but has no test row and is never predicted.
        labels=["DoS", "Normal", "Worms"],
    )

    # F1(Normal) = 2/3 (precision 1, recall 1/2); F1(DoS) = 4/5 (precision
    # 2/3, recall 1); their mean is 11/15. Worms does not count.
    assert metrics["macro_f1"] == pytest.approx(11 / 15)
    assert set(metrics["recall_by_class"]) == {"DoS", "Normal"}
    assert metrics["confusion_labels"] == ["DoS", "Normal", "Worms"]


def test_atomic_write_failure_leaves_nothing(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        _report.atomic_write_json(target, {"bad": object()})
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    with pytest.raises(RuntimeError), _report.atomic_path(tmp_path / "new.bin") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == [target]


def test_summary_table_labels_published_claims():
    report = {
        "config": {"dataset": "unsw-nb15", "target": "binary"},
        "protocol": {"name": "file-order"},
        "models": {
            "teacher": {
                "accuracy": 0.5,
                "n_parameters": 1000,
                "latency_median_ms": 2.0,
            },
            "student": {"accuracy": 0.4, "n_parameters": 600, "latency_median_ms": 1.0},
        },
    }
    table = _report.format_summary_table(report)
    assert "protocol=file-order" in table.splitlines()[0]
    assert "published claim (different protocol, not reproduced)" in table
    reduction = next(
        line for line in table.splitlines() if "parameter reduction" in line
    )
    assert "40.0%" in reduction and "38% fewer than teacher" in reduction
    accuracy = next(line for line in table.splitlines() if line.startswith("accu"))
    assert "99.86% (UNSW-NB15)" in accuracy


@pytest.mark.parametrize(
    "config",
    [
        {"dataset": "unsw-nb15", "target": "category"},
        {"dataset": "cic-ids2017", "target": "binary"},
    ],
)
def test_published_accuracy_only_next_to_binary_unsw(config):
    report = {
        "config": config,
        "protocol": {"name": "dedup-split"},
        "models": {"teacher": {"accuracy": 0.5, "false_positive_rate": 0.1}},
    }

    lines = _report.format_summary_table(report).splitlines()

    for metric in ("accuracy", "false-positive rate"):
        line = next(line for line in lines if line.startswith(metric))
        assert "99.86" not in line and "< 0.5%" not in line
        assert "n/a (the claim is binary UNSW-NB15)" in line


# --------------------------------------------------------------------------
# CIC-IDS2017 through the command line
# --------------------------------------------------------------------------


def write_cic_bytes(path, n_rows=80, seed=0):
    """A CIC-IDS2017 MachineLearningCVE-style file whose attack label holds the
    official Windows-1252 dash byte (0x96), as in the Thursday file."""
    frame = write_cic_csv(path, n_rows=n_rows, seed=seed)
    text = path.read_bytes().replace(b"DDoS", b"Web Attack \x96 Brute Force")
    path.write_bytes(text)
    return frame


def test_run_on_cic_ids2017(tmp_path, capsys):
    home = tmp_path / "home"
    (home / "cic_ids2017").mkdir(parents=True)
    write_cic_csv(home / "cic_ids2017" / "Monday.csv", n_rows=160, seed=3)
    output = tmp_path / "run"

    argv = ["run", "--dataset", "cic-ids2017", "--data-home", str(home)]
    assert main([*argv, "--output", str(output), *FAST]) == EXIT_OK

    report = json.loads((output / "report.json").read_text())
    assert report["config"]["dataset"] == "cic-ids2017"
    assert report["data"]["n_train"] + report["data"]["n_test"] == 160
    assert "teacher" in capsys.readouterr().out


def test_predict_writes_undecodable_label_bytes_back_unchanged(tmp_path):
    csv = tmp_path / "thursday.csv"
    write_cic_bytes(csv)
    model = tmp_path / "model.joblib"
    assert main(["train", "--input", str(csv), "--output", str(model), *FAST]) == 0
    scored = tmp_path / "scored.csv"

    argv = ["predict", "--model", str(model), "--input", str(csv), "--quiet"]
    assert main([*argv, "--output", str(scored)]) == EXIT_OK

    raw = scored.read_bytes()
    assert b"Web Attack \x96 Brute Force" in raw
    assert raw.count(b"\n") == 81


def test_raw_headerless_unsw_file_is_explained(trained, tmp_path, capsys):
    raw = tmp_path / "UNSW-NB15_1.csv"
    row = ",".join(["59.166.0.0", "1390", "149.171.126.6", "53", "udp"] + ["0"] * 44)
    raw.write_text(row + "\n" + row + "\n")
    argv = ["predict", "--model", str(trained["model"]), "--input", str(raw)]

    assert main([*argv, "--output", str(tmp_path / "out.csv")]) == 2

    assert "headerless UNSW-NB15" in error_line(capsys)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_output_that_is_a_folder_is_bad_input(command, trained, tmp_path, capsys):
    folder = tmp_path / "existing"
    folder.mkdir()
    option = "--output" if command == "predict" else "--report"
    argv = [command, "--model", str(trained["model"]), "--input", str(trained["csv"])]

    assert main([*argv, option, str(folder)]) == 2

    assert "is a folder" in error_line(capsys)
    assert list(folder.iterdir()) == []


def test_input_or_model_that_is_a_folder_is_bad_input(trained, tmp_path, capsys):
    model, csv = str(trained["model"]), str(trained["csv"])
    output = str(tmp_path / "out.csv")

    assert (
        main(["predict", "--model", str(tmp_path), "--input", csv, "--output", output])
        == 2
    )
    assert "is a folder" in error_line(capsys)
    assert (
        main(
            ["predict", "--model", model, "--input", str(tmp_path), "--output", output]
        )
        == 2
    )
    assert "is a folder" in error_line(capsys)


def test_evaluate_one_class_file_is_not_called_label_sorted(trained, tmp_path, capsys):
    frame = unsw_frame(n_rows=60, seed=7)
    normal_only = frame[frame["attack_cat"] == "Normal"]
    csv = tmp_path / "normal_only.csv"
    normal_only.to_csv(csv, index=False)

    argv = ["evaluate", "--model", str(trained["model"]), "--input", str(csv)]
    assert main(argv) == EXIT_OK

    assert "file's ordering" not in capsys.readouterr().out


def test_predict_warns_once_about_unseen_categories(trained, tmp_path, capsys):
    frame = unsw_frame(n_rows=40, seed=9).assign(proto="never-seen")
    csv = tmp_path / "flows.csv"
    frame.to_csv(csv, index=False)
    argv = ["predict", "--model", str(trained["model"]), "--input", str(csv)]
    argv += ["--output", str(tmp_path / "o.csv"), "--chunksize", "7"]

    assert main(argv) == EXIT_OK

    lines = [
        line
        for line in capsys.readouterr().err.splitlines()
        if "UnknownCategoryWarning" in line
    ]
    assert len(lines) == 1
    assert "6 of 6 chunk(s)" in lines[0]
    assert "never-seen" in lines[0]
