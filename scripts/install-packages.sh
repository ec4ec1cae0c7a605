#!/usr/bin/env bash
# Install the pinned packages of requirements/lock.txt (and this project, editable) into the
# venv given as $1. Called by scripts/setup.sh; bench/package_install.py times it.
#   YAP_INSTALLER=uv (default): uv installs the lock, handed pip's configuration (wheel folders,
#     indexes, constraints, CA file), so it takes the same wheels from the same places, several
#     times faster (bench/package_install.py); if uv cannot be had or fails, pip does the work.
#   YAP_INSTALLER=pip: pip only.
# Prints what it does to stdout/stderr; the last line says which installer did the work.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${1:?usage: install-packages.sh VENV}
installer=${YAP_INSTALLER:-uv}
case "$installer" in
  uv|pip) ;;
  *) echo "[setup] error: YAP_INSTALLER must be uv or pip, got '$installer'" >&2; exit 2 ;;
esac
uv_version=0.13.9
pip=("$venv/bin/python" -m pip -q)
export PIP_DISABLE_PIP_VERSION_CHECK=1

# --no-deps: the lock is the whole environment, resolved once by scripts/lock-requirements.sh.
# torch==2.13.0+cpu: from a local wheel folder where pip is configured for one (these
# machines), else from PyTorch's CPU wheel index (TORCH_INDEX_URL), which PyPI does not mirror.
torch_pin=$(grep -E '^torch==' requirements/lock.txt || true)
index=()
if [ -n "$torch_pin" ] && ! "${pip[@]}" install --no-deps --dry-run "$torch_pin"; then
  index=(--extra-index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}")
  echo "[setup] $torch_pin is not in the configured indexes; using ${index[1]}"
fi

uv_install() {
  "${pip[@]}" install "uv==$uv_version" || return 1
  local args=(--python "$venv/bin/python" --no-deps --index-strategy unsafe-best-match)
  local line key value v
  while IFS= read -r line; do
    key=${line%%=*}
    value=${line#*=}
    value=${value#\'}
    value=${value%\'}
    case "${key#*.}" in
      find-links) for v in $value; do args+=(--find-links "$v"); done ;;
      index-url) args+=(--index-url "$value") ;;
      extra-index-url) for v in $value; do args+=(--extra-index-url "$v"); done ;;
      constraint) for v in $value; do args+=(--constraint "$v"); done ;;
      cert) export SSL_CERT_FILE="$value" ;;
    esac
  done < <("$venv/bin/python" -m pip config list 2>/dev/null)
  "$venv/bin/uv" pip install "${args[@]}" "${index[@]}" -r requirements/lock.txt
}

"${pip[@]}" install -U "pip>=24"
used=pip
if [ "$installer" = uv ]; then
  if uv_install; then
    used=uv
  else
    used="pip (uv could not install the lock)"
  fi
fi
if [ "$used" != uv ]; then
  "${pip[@]}" install --no-deps "${index[@]}" -r requirements/lock.txt
fi
"${pip[@]}" install --no-deps --no-build-isolation -e .
echo "[setup] installed by $used"
