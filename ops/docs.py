"""Generated README sections: the settings tables come from the code, never typed by hand.

``python -m ops.docs`` rewrites the marked blocks of README.md; ``--check`` exits 1 when the
README is stale (a unit test runs it).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from common import paths
from common.settings import markdown_table

README = paths.REPO_ROOT / "README.md"


def _bridge_env() -> str:
    from bridge.protocol.config import env_table_markdown

    return env_table_markdown()


def _chat() -> str:
    from serving.chat.config import CHAT_SETTINGS

    return markdown_table(CHAT_SETTINGS)


def _screen_intent() -> str:
    from serving.screen_intent.classifier import SCREEN_INTENT_SETTINGS

    return markdown_table(SCREEN_INTENT_SETTINGS)


def _tokenizer() -> str:
    from serving.token_budget import TOKENIZER_SETTINGS

    return markdown_table(TOKENIZER_SETTINGS)


def _supervisor() -> str:
    from ops.stack import SUPERVISOR_SETTINGS

    return markdown_table(SUPERVISOR_SETTINGS)


SECTIONS: dict[str, Callable[[], str]] = {
    "bridge-env": _bridge_env,
    "chat-settings": _chat,
    "screen-intent-settings": _screen_intent,
    "tokenizer-settings": _tokenizer,
    "supervisor-settings": _supervisor,
}


def render(text: str) -> str:
    for name, build in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(<!-- END GENERATED: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated block '{name}'")
        replacement = build().rstrip() + "\n"
        text = pattern.sub(lambda m: m.group(1) + replacement + m.group(2), text)  # noqa: B023
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md tables are stale: run python -m ops.docs", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
