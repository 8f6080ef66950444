#!/usr/bin/env bash
# The whole test suite: lint, format check, tests (doctests and examples
# included) and the documentation build with warnings as errors.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

echo "[test] ruff check"
ruff check .
echo "[test] ruff format --check"
ruff format --check .
echo "[test] pytest"
python -m pytest "$@"
echo "[test] sphinx-build -W"
SKLEARN_2DBM_QUICK=1 python -m sphinx -W --keep-going -q -b html docs docs/_build/html
python tools/check_docs_build.py
