"""Wall time of ``sklearn-2dbm run`` for each preset, on the real data.

Run from the repository root with ``SKLEARN_2DBM_DATA`` set::

    python benchmarks/bench_presets.py [quick readme default]

Each preset runs in a fresh process (imports and data loading included), as
a user would run it; the script prints one line per preset with the wall
time and the step times from the run's report. The budgets in the README
(quick <= 2 min, default <= 10 min on 2 CPU cores) refer to an otherwise idle
machine: other load inflates every figure.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(presets):
    print(f"{'preset':<8} {'wall (s)':>9}  steps (s)")
    for preset in presets:
        with tempfile.TemporaryDirectory() as folder:
            command = [sys.executable, "-m", "sklearn_2dbm", "run", "--preset", preset]
            command += ["--output", folder, "--quiet"]
            start = time.perf_counter()
            result = subprocess.run(
                command, capture_output=True, text=True, check=False
            )
            wall = time.perf_counter() - start
            if result.returncode != 0:
                print(f"{preset:<8} failed: {result.stderr.strip().splitlines()[-1]}")
                continue
            timing = json.loads((Path(folder) / "report.json").read_text())["timing"]
        steps = ", ".join(
            f"{name} {seconds:.0f}"
            for name, seconds in timing.items()
            if name != "total"
        )
        print(f"{preset:<8} {wall:>9.1f}  {steps}", flush=True)
    print(f"cpu_count={os.cpu_count()}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["quick", "readme", "default"])
