"""Where the project keeps its local, git-ignored state (venv, server dist, models, caches)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("YAP_STATE_DIR", REPO_ROOT / ".yap"))
MODELS_DIR = STATE_DIR / "models"
CACHE_DIR = STATE_DIR / "cache"
MODEL_REPOSITORY = REPO_ROOT / "model_repository"

#: Outside the checkout, so that another clone on the same machine (CI's) reuses what was built.
MACHINE_CACHE_DIR = Path(
    os.environ.get("YAP_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yap-on-triton"
)

EMBEDDED_CHAT_DIR = MODELS_DIR / "chat-smollm2-135m-instruct"
EMBEDDED_SCREEN_INTENT_DIR = MODELS_DIR / "screen-intent-minilm"
