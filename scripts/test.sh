#!/usr/bin/env bash
# Run the test suite (pytest) in .venv, setting it up on first use.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/module -x
# Tests run in parallel with pytest-xdist (one worker per CPU, files kept together);
# MXTORCH_TEST_WORKERS=0 runs them in one process.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
ensure_venv test
cd "$REPO"
workers="${MXTORCH_TEST_WORKERS:-auto}"
args=(-q)
if [ "$workers" != 0 ]; then
    # one torch thread per worker, so workers do not fight over the cores
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
    args+=(-n "$workers" --dist loadfile)
fi
set +e
"$VENV/bin/python" -m pytest "${args[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests (exit 5); a test run that tests nothing fails." >&2
fi
exit "$rc"
