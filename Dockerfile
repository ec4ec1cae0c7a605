# GPU deployment: NVIDIA's Triton image that already carries vLLM, plus this project.
#   docker build -t yap-on-triton .
#   docker run --gpus all -p 8000:8000 -p 8001:8001 -p 8002:8002 \
#     -e TEXT_API_KEY=... -e MAX_CONCURRENT_CONNECTIONS=64 \
#     -e CHAT_MODEL=/models/chat -e TOOL_MODEL=/models/screen_intent \
#     -v /srv/models:/models yap-on-triton
# DEPLOY_MODELS=both|chat|tool picks the models; every engine setting is an env var (README).
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:24.10-vllm-python-py3
FROM ${TRITON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    YAP_STATE_DIR=/var/lib/yap \
    DEPLOY_MODELS=both

WORKDIR /opt/yap
# The image's vLLM, torch and numpy stay as NVIDIA built them; add only what the project needs.
COPY docker/requirements-gpu.txt docker/requirements-gpu.txt
RUN pip install --no-cache-dir -r docker/requirements-gpu.txt

COPY pyproject.toml README.md ./
COPY bridge bridge
COPY serving serving
COPY quantize quantize
COPY model_repository model_repository
COPY docker/entrypoint.sh /usr/local/bin/yap-entrypoint
RUN pip install --no-cache-dir --no-deps . && chmod +x /usr/local/bin/yap-entrypoint \
    && mkdir -p /var/lib/yap

EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/yap-entrypoint"]
