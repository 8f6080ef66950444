"""Every example runs as a script, as the documentation build runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

EXPECTED_OUTPUT = {
    "plot_pipeline_cross_validation.py": [
        "StratifiedKFold: cross-validated accuracy",
        "DuplicateAwareStratifiedKFold: cross-validated accuracy",
        "test flows with a duplicate in training 0.0%",
    ],
    "plot_grid_search.py": [
        "Best teacher parameters:",
        "Best student parameters:",
        "Held-out F1: teacher",
    ],
    "plot_imbalanced_pipeline.py": [
        "no correction: macro recall",
        "class_weight='balanced': macro recall",
        "oversampled windows: macro recall",
    ],
    "plot_save_and_score.py": [
        "Scores from the other process match: True",
        "Weights-only student predicts the same: True",
    ],
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("plot_*.py")) == sorted(EXPECTED_OUTPUT)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "SKLEARN_2DBM_QUICK": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for text in EXPECTED_OUTPUT[name]:
        assert text in result.stdout, result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_example_follows_the_gallery_format(name):
    source = (EXAMPLES / name).read_text()
    docstring = source.split('"""')[1].strip().splitlines()
    title, underline = docstring[0], docstring[1]
    assert set(underline) == {"="} and len(underline) >= len(title)
    assert "\n# %%\n" in source
    assert "plt.show()" in source
