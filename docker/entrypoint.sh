#!/usr/bin/env bash
# Container entry point: tritonserver (the image's own binary) with the deploy mode's models,
# then the bridge on :8000. Models come from mounted folders (CHAT_MODEL, TOOL_MODEL).
set -euo pipefail
mode=${DEPLOY_MODELS:-both}
case "$mode" in
  both) models=(chat screen_intent tokenizer turn_prompt chat_turn) ;;
  chat) models=(chat tokenizer turn_prompt chat_turn) ;;
  tool) models=(screen_intent tokenizer) ;;
  *) echo "DEPLOY_MODELS=$mode: expected both, chat or tool" >&2; exit 2 ;;
esac
: "${TEXT_API_KEY:?TEXT_API_KEY is required}"
: "${MAX_CONCURRENT_CONNECTIONS:?MAX_CONCURRENT_CONNECTIONS is required}"
if [ "$mode" != tool ]; then : "${CHAT_MODEL:?CHAT_MODEL must point at a mounted chat checkpoint}"; fi
if [ "$mode" != chat ]; then : "${TOOL_MODEL:?TOOL_MODEL must point at a mounted classifier checkpoint}"; fi

# QUANTIZATION=4bit|8bit on a float checkpoint: export once into the state volume.
if [ "$mode" != tool ] && [[ "${QUANTIZATION:-auto}" =~ ^(4bit|8bit)$ ]]; then
  CHAT_MODEL=$(python3 -c 'import os; from serving.stack import prepare_chat_model as p; e=dict(os.environ); p(e); print(e["CHAT_MODEL"])')
  export CHAT_MODEL
fi

load_args=()
for m in "${models[@]}"; do load_args+=("--load-model=$m"); done
tritonserver --model-repository=/opt/yap/model_repository --model-control-mode=explicit \
  "${load_args[@]}" --http-port=8090 --grpc-port=8001 --metrics-port=8002 \
  --allow-metrics=true --exit-timeout-secs=30 &
triton=$!
trap 'kill -TERM $triton 2>/dev/null; kill -TERM ${bridge:-0} 2>/dev/null; wait' TERM INT

until curl -fsS http://127.0.0.1:8090/v2/health/ready >/dev/null 2>&1; do
  kill -0 $triton 2>/dev/null || { echo "tritonserver exited during start-up" >&2; exit 1; }
  sleep 2
done
TRITON_GRPC_URL=127.0.0.1:8001 BRIDGE_HOST=0.0.0.0 BRIDGE_PORT=8000 python3 -m bridge &
bridge=$!
wait -n $triton $bridge
exit 1
