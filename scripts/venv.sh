# Sourced by scripts/demo.sh and scripts/test.sh: make sure the project's virtual
# environment exists and holds torch and mxtorch (editable), installing only what is missing.
#
#   ensure_venv base|test
#
# The venv is $MXTORCH_VENV (default: .venv in the repository). torch is pinned to
# 2.13.0 only when the venv has no torch yet (a looser pin may pull a multi-GB CUDA
# build); an existing torch >= 2.4 is kept. A stamp file records the pyproject.toml
# the editable install was made from, so a second run installs nothing.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MXTORCH_VENV:-$REPO/.venv}"
TORCH_PIN="torch==2.13.0"

_find_python() {
    local cand
    for cand in "${PYTHON:-}" python3 python; do
        [ -n "$cand" ] || continue
        if command -v "$cand" >/dev/null 2>&1 &&
           "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    echo "error: mxtorch needs Python >= 3.10 with venv and pip; none found as \$PYTHON, python3 or python." >&2
    echo "       Install one, or point PYTHON at it: PYTHON=/path/to/python3.11 $0" >&2
    return 1
}

ensure_venv() {
    local extra="$1" py stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        py="$(_find_python)" || return 1
        echo "==> creating virtual environment $VENV ($("$py" --version 2>&1))"
        "$py" -m venv "$VENV" || return 1
    fi
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
        echo "error: $VENV/bin/python does not run or is older than 3.10; remove $VENV and run again." >&2
        return 1
    fi
    if ! "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)'; then
        echo "==> installing $TORCH_PIN (CPU build)"
        "$VENV/bin/python" -m pip install --quiet "$TORCH_PIN" || return 1
    fi
    want="$REPO $(cksum < "$REPO/pyproject.toml")"
    stamp="$VENV/.mxtorch-installed-$extra"
    # a test install satisfies a base install as well
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] ||
       { [ "$extra" = base ] && [ "$(cat "$VENV/.mxtorch-installed-test" 2>/dev/null)" = "$want" ]; }; then
        return 0
    fi
    local target="$REPO"
    [ "$extra" = base ] || target="$REPO[$extra]"
    echo "==> installing mxtorch (editable) from $target"
    "$VENV/bin/python" -m pip install --quiet -e "$target" || return 1
    echo "$want" > "$stamp"
}
