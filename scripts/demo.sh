#!/usr/bin/env bash
# Run the mxtorch demo (python -m mxtorch.demo): trains an MLP on the shipped digits with
# Module.fit, checkpoints, reloads and scores it. Sets up .venv on first use.
# Extra arguments go to the demo, e.g. scripts/demo.sh --epochs 10 --out-dir /tmp/ck
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
ensure_venv base
cd "$REPO"
exec "$VENV/bin/python" -m mxtorch.demo "$@"
