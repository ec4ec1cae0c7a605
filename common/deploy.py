"""Deploy modes: which engines serve turns, and which Triton models each mode loads."""

from __future__ import annotations

from typing import Final, Literal

from common.settings import Choice, Setting

DeployMode = Literal["both", "chat", "tool"]
#: The models each deploy mode loads; the bridge calls the ones its mode needs.
DEPLOY_MODES: Final[dict[DeployMode, tuple[str, ...]]] = {
    "both": ("chat", "screen_intent", "tokenizer", "turn_prompt", "chat_turn"),
    "chat": ("chat", "tokenizer", "turn_prompt", "chat_turn"),
    "tool": ("screen_intent", "tokenizer"),
}
DEPLOY_MODELS = Setting(
    "DEPLOY_MODELS",
    Choice(*DEPLOY_MODES),
    "both",
    "Which engines serve turns: `both` (tool decision, then chat), `chat` or `tool`.",
)
