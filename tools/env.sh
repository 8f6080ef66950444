# Sourced by tools/test.sh and tools/main.sh: creates or reuses a local virtual
# environment, installs the project with pinned versions when they changed, and
# points SKLEARN_2DBM_DATA at the development data folder when it is not set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SKLEARN_2DBM_VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment in $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi

stamp="$VENV/.sklearn-2dbm-installed"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[setup] installing sklearn-2dbm and its pinned dependencies"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet \
        -c "$ROOT/requirements/constraints.txt" -e "$ROOT[test,docs]"
    echo "$want" > "$stamp"
fi

if [ -z "${SKLEARN_2DBM_DATA:-}" ] && [ -d "$ROOT/../shared/data" ]; then
    SKLEARN_2DBM_DATA="$(cd "$ROOT/../shared/data" && pwd)"
    export SKLEARN_2DBM_DATA
fi

export PATH="$VENV/bin:$PATH"
cd "$ROOT"
