#!/usr/bin/env bash
# Run the whole test suite: installs what is missing (scripts/setup.sh), then lints, type-checks
# and runs pytest: unit tests plus integration tests against a real tritonserver serving the
# real model repository. Extra arguments go to pytest (e.g. -k bridge, --run-slow).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
py="${YAP_VENV:-$root/.venv}/bin/python"
echo "[test] ruff"
"$py" -m ruff check common bridge serving ops quantize bench yap_pipecat tests model_repository
echo "[test] mypy"
"$py" -m mypy common bridge serving ops quantize bench yap_pipecat
echo "[test] pytest"
exec "$py" -m pytest -p no:cacheprovider "$@"
