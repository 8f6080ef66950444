"""The main job and the CSV commands end to end on the real data.

These tests read ``SKLEARN_2DBM_DATA`` (the ``data_home`` fixture of
conftest.py). They do not skip when it is missing: they fail with the
loader's message, which names the folder and the setting that chose it.
"""

import gzip
import json
import os

import numpy as np
import pandas as pd
import pytest

from sklearn_2dbm._cli import EXIT_OK, main
from sklearn_2dbm._config import get_data_home
from sklearn_2dbm._main_job import (
    load_flows,
    load_labelled_csv,
    normalise_flow_chunk,
    split_for_protocol,
)

pytestmark = pytest.mark.slow


def unsw_file():
    return get_data_home() / "unsw_nb15" / "UNSW_NB15_testing-set.csv.gz"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, data_home):
    output = tmp_path_factory.mktemp("quick")
    status = main(["run", "--preset", "quick", "--output", str(output), "--quiet"])
    assert status == EXIT_OK, (
        "`sklearn-2dbm run --preset quick` failed with the error printed above; "
        f"SKLEARN_2DBM_DATA={os.environ.get('SKLEARN_2DBM_DATA')!r}"
    )
    return output


def test_quick_preset_end_to_end(quick_run, capsys):
    report = json.loads((quick_run / "report.json").read_text())
    assert report["config"]["preset"] == "quick"
    assert report["data"]["n_rows_file"] == 82_332
    assert report["data"]["subsampled"]
    assert "stratified random subsample" in report["data"]["notes"][0]
    assert report["protocol"]["name"] == "dedup-split"
    assert report["protocol"]["figures"]["duplicate_overlap"] == 0.0

    models = report["models"]
    # Sanity, not a result: every model must beat the majority class (55%
    # attacks) on this balanced-enough test set.
    for name in ("teacher", "student", "baseline"):
        assert models[name]["accuracy"] > 0.6, name
        assert set(models[name]["detection_rate_by_category"]) >= {"Normal", "Generic"}
    assert models["student"]["n_parameters"] < models["teacher"]["n_parameters"]
    markdown = (quick_run / "report.md").read_text()
    assert "published claim (different protocol, not reproduced)" in markdown
    assert "stratified random subsample" in markdown


def test_quick_category_run_has_a_working_baseline(tmp_path, data_home):
    # With ten classes, some of a few dozen rows, scikit-learn's default
    # gradient boosting diverged on the quick sample (45% accuracy, worse
    # than predicting Normal); the job's baseline must not.
    argv = ["run", "--preset", "quick", "--target", "category", "--quiet"]
    assert main([*argv, "--output", str(tmp_path)]) == EXIT_OK
    report = json.loads((tmp_path / "report.json").read_text())

    counts = report["data"]["category_counts_test"]
    majority = max(counts.values()) / sum(counts.values())
    for name in ("teacher", "student", "baseline"):
        assert report["models"][name]["accuracy"] > majority + 0.1, name
    assert "n/a (the claim is binary UNSW-NB15)" in (tmp_path / "report.md").read_text()


def test_real_file_order_is_label_sorted_and_duplicated(data_home):
    flows = load_flows("unsw-nb15", target="binary")
    X, y = flows["X"], flows["y"]
    assert len(X) == 82_332

    whole = split_for_protocol(
        "file-order", X, y, window=8, test_size=0.25, random_state=0
    )
    figures = whole["figures"]
    # The binary label changes only 4 times in the whole partition file.
    assert figures["label_changes_in_file_order"] == 4
    assert figures["window_label_purity"] > 0.99
    assert figures["window_label_purity_shuffled_reference"] < 0.3

    plain = split_for_protocol(
        "random-split", X, y, window=8, test_size=0.25, random_state=0
    )
    dedup = split_for_protocol(
        "dedup-split", X, y, window=8, test_size=0.25, random_state=0
    )
    assert plain["figures"]["duplicate_overlap"] > 0.1
    assert dedup["figures"]["duplicate_overlap"] == 0.0


def test_chunk_normaliser_matches_the_loaders_on_real_files(data_home):
    paths = [unsw_file()]
    paths += sorted((data_home / "cic_ids2017").rglob("*.csv.gz"))
    for path in paths:
        flows = load_labelled_csv(path, target="category")
        with gzip.open(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
            raw = pd.read_csv(handle, dtype=str, keep_default_na=False)
        assert len(raw) == len(flows["X"]), path.name
        chunk = normalise_flow_chunk(
            raw, layout=flows["layout"], feature_names=list(flows["X"].columns)
        )
        pd.testing.assert_frame_equal(
            chunk.reset_index(drop=True), flows["X"], check_dtype=False, obj=path.name
        )


def test_predict_real_flows_in_chunks(quick_run, tmp_path):
    source = tmp_path / "flows.csv"
    with gzip.open(unsw_file(), "rb") as handle:
        lines = handle.read().splitlines(keepends=True)
    rng = np.random.default_rng(0)
    start = int(rng.integers(1, len(lines) - 3000))
    source.write_bytes(lines[0] + b"".join(lines[start : start + 3000]))
    model = str(quick_run / "teacher_pipeline.joblib")

    outputs = {}
    for chunksize in ("0", "250"):
        outputs[chunksize] = tmp_path / f"scored-{chunksize}.csv"
        argv = ["predict", "--model", model, "--input", str(source)]
        argv += ["--output", str(outputs[chunksize]), "--chunksize", chunksize]
        assert main([*argv, "--quiet"]) == EXIT_OK
    whole, chunked = (pd.read_csv(outputs[k]) for k in ("0", "250"))
    assert len(whole) == 3000
    pd.testing.assert_series_equal(whole["predicted_label"], chunked["predicted_label"])
    np.testing.assert_allclose(
        whole["attack_probability"], chunked["attack_probability"], atol=1e-6
    )

    report = tmp_path / "eval.json"
    argv = [
        "evaluate",
        "--model",
        model,
        "--input",
        str(source),
        "--report",
        str(report),
    ]
    assert main(argv) == EXIT_OK
    metrics = json.loads(report.read_text())["metrics"]
    assert metrics["n_test"] == 3000
