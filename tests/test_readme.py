"""The README's quick example runs as written on the real data."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_example_runs(data_home, tmp_path):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    script = tmp_path / "readme_example.py"
    script.write_text(code)

    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    scores = [float(s) for s in re.findall(r"\d\.\d+", result.stdout)]
    assert len(scores) == 3
    # Three folds of balanced accuracy, clearly above chance (0.5).
    assert min(scores) > 0.7
