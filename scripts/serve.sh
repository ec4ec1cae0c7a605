#!/usr/bin/env bash
# Run the service with the embedded default models (no GPU, no hub):
# installs what is missing (scripts/setup.sh), then runs the supervisor (python -m ops.stack,
# the same one as the container's entry point): settings checked first, tritonserver, then the
# WebSocket bridge on port 8000; Triton is restarted if it dies. Configuration comes from the
# environment (see README). Ctrl-C drains the bridge and stops both; a second Ctrl-C stops now.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "${YAP_VENV:-$root/.venv}/bin/python" -m ops.stack "$@"
