#!/usr/bin/env bash
# Run the service with the embedded default models (no GPU, no hub):
# installs what is missing (scripts/setup.sh), starts tritonserver, then the WebSocket bridge on
# port 8000. Configuration comes from the environment (see README). Ctrl-C stops both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "${YAP_VENV:-$root/.venv}/bin/python" -m serving.stack "$@"
