"""Session history: the turn list, its text format and the chat message list (§8, §11.1).

Everything here is pure. Where a token budget applies, the caller passes the counting (and
tail-truncating) functions, which the bridge backs with Triton; nothing here loads a tokenizer.

``SessionHistory`` is immutable: every change returns a new history, so a state machine can
keep the old value until it commits. Turns carry an id so the assistant text of a turn can be
filled in after ``done`` even when older turns were trimmed meanwhile.

Decision: the reference quirk of appending a second user-only copy of a turn whose response
was empty (§8.2) is not reproduced; such a turn simply stays user-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

TokenCounter = Callable[[str], int]
# (text, max_tokens) -> the text of the last max_tokens tokens
TailTruncator = Callable[[str, int], str]
Role = Literal["system", "user", "assistant"]

USER_LABEL = "User:"
ASSISTANT_LABEL = "Assistant:"
TURN_SEPARATOR = "\n\n"

# §8.4: the first of these found in the text splits it into messages.
MESSAGE_SEPARATORS: tuple[str, ...] = (
    "\nUser: ",
    "\nAssistant: ",
    "\n\nUser: ",
    "\n\nAssistant: ",
    "\n\n",
    "\n",
)


@dataclass(frozen=True, slots=True)
class HistoryTurn:
    """One exchange; ``assistant`` is empty while the reply is pending or was never given."""

    turn_id: int
    user: str
    assistant: str = ""

    def render(self) -> str:
        text = f"{USER_LABEL} {self.user}"
        if self.assistant:
            text += f"\n{ASSISTANT_LABEL} {self.assistant}"
        return text


def parse_history_text(text: str) -> list[tuple[str, str]]:
    """Parse a ``User: …`` / ``Assistant: …`` transcript into ``(user, assistant)`` pairs.

    Line by line (labels are case-sensitive, at column 0): ``User:`` starts a new turn;
    ``Assistant:`` sets (replaces) the current turn's reply; other lines continue the current
    part; a non-blank line before any label is user text. Parts are stripped.
    """
    turns: list[tuple[str, str]] = []
    user: list[str] = []
    assistant: list[str] = []
    mode: Literal["user", "assistant"] | None = None

    def flush() -> None:
        if user or assistant:
            turns.append(("\n".join(user).strip(), "\n".join(assistant).strip()))

    for line in text.strip().splitlines():
        if line.startswith(USER_LABEL):
            flush()
            user, assistant = [line[len(USER_LABEL) :].lstrip()], []
            mode = "user"
        elif line.startswith(ASSISTANT_LABEL):
            assistant = [line[len(ASSISTANT_LABEL) :].lstrip()]
            mode = "assistant"
        elif mode == "assistant":
            assistant.append(line)
        elif mode == "user":
            user.append(line)
        elif line.strip():
            user.append(line)
            mode = "user"
    flush()
    return turns


def strip_check_screen_prefix(utterance: str, prefix: str) -> str:
    """Remove the check-screen prefix from the start of an utterance (case-insensitive)."""
    if prefix and utterance[: len(prefix)].casefold() == prefix.casefold():
        return utterance[len(prefix) :].lstrip()
    return utterance


def with_check_screen_prefix(utterance: str, prefix: str) -> str:
    """What the chat model sees when the tool said yes: ``"<prefix> <utterance>"``."""
    return f"{prefix} {utterance}"


@dataclass(frozen=True, slots=True)
class SessionHistory:
    """The stored turns of a session, oldest first."""

    turns: tuple[HistoryTurn, ...] = ()
    next_turn_id: int = 1

    @classmethod
    def from_text(cls, text: str) -> SessionHistory:
        """A new history parsed from a transcript."""
        return cls().replaced_from_text(text)

    def replaced_from_text(self, text: str) -> SessionHistory:
        """The history that replaces this one for ``start.history_text`` (``""`` clears it).

        Turn ids keep counting from this history, so the id of a turn still in flight can
        never name one of the new turns.
        """
        return SessionHistory((), self.next_turn_id).extended(parse_history_text(text))

    def extended(self, pairs: Iterable[tuple[str, str]]) -> SessionHistory:
        """This history with ``(user, assistant)`` turns appended."""
        next_id = self.next_turn_id
        turns = list(self.turns)
        for user, assistant in pairs:
            turns.append(HistoryTurn(next_id, user, assistant))
            next_id += 1
        return SessionHistory(tuple(turns), next_id)

    def render(self) -> str:
        """The text form of §8.4: turns joined with a blank line."""
        return TURN_SEPARATOR.join(turn.render() for turn in self.turns)

    def with_user_turn(
        self, utterance: str, check_screen_prefix: str
    ) -> tuple[SessionHistory, int | None]:
        """Append the (already token-trimmed) utterance as a user-only turn (§8.2).

        The check-screen prefix is removed first. Returns the new history and the new turn's
        id, or the unchanged history and None for an empty utterance.
        """
        text = strip_check_screen_prefix(utterance, check_screen_prefix)
        if not text.strip():
            return self, None
        turn = HistoryTurn(self.next_turn_id, text)
        return SessionHistory((*self.turns, turn), self.next_turn_id + 1), turn.turn_id

    def with_assistant_text(self, turn_id: int, text: str) -> SessionHistory:
        """Record the reply of a turn; a no-op when the turn is gone (trimmed or replaced)."""
        turns = tuple(
            replace(turn, assistant=text) if turn.turn_id == turn_id else turn
            for turn in self.turns
        )
        return SessionHistory(turns, self.next_turn_id)

    def trimmed(self, count_tokens: TokenCounter, max_tokens: int) -> SessionHistory:
        """Drop the oldest turns while the rendered history has more than ``max_tokens``."""
        turns = self.turns
        while turns and count_tokens(TURN_SEPARATOR.join(t.render() for t in turns)) > max_tokens:
            turns = turns[1:]
        return self if turns == self.turns else SessionHistory(turns, self.next_turn_id)

    def user_texts(self) -> list[str]:
        """The classifier's user-history lines: non-empty user texts, newest last (§12.3)."""
        return [turn.user for turn in self.turns if turn.user]


def trim_history_text(
    text: str,
    max_tokens: int,
    count_tokens: TokenCounter,
    keep_last_tokens: TailTruncator,
) -> str:
    """The text-level "preserve messages" trimmer of §8.4 (``warm_history``, ``chat_prompt``).

    Split on the first separator of ``MESSAGE_SEPARATORS`` found in the text and keep the
    longest suffix of parts whose tokens (each part but the last counted with its separator)
    fit the budget. With no separator, or when not even the last part fits, keep the last
    ``max_tokens`` tokens instead (the reference returned an empty history in the second
    case).
    """
    if not text.strip():
        return ""
    separator = next((sep for sep in MESSAGE_SEPARATORS if sep in text), None)
    if separator is None:
        return keep_last_tokens(text, max_tokens).strip()
    parts = text.split(separator)
    kept: list[str] = []
    used = 0
    for index in range(len(parts) - 1, -1, -1):
        piece = parts[index] if index == len(parts) - 1 else separator + parts[index]
        cost = count_tokens(piece)
        if used + cost > max_tokens:
            break
        kept.insert(0, parts[index])
        used += cost
    if not kept:
        return keep_last_tokens(text, max_tokens).strip()
    return separator.join(kept).strip()


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One entry of the chat template's message list."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def build_chat_messages(
    system_prompt: str | None,
    turns: Sequence[HistoryTurn],
    user_text: str | None = None,
) -> list[ChatMessage]:
    """The message list of §11.1.

    System prompt, then each turn's user and assistant texts, then the current user text.
    Contents are stripped, empty ones skipped, and consecutive messages of the same role
    merged with a blank line so roles alternate. Warm prompts pass ``user_text=None``.
    """
    candidates: list[tuple[Role, str | None]] = [("system", system_prompt)]
    for turn in turns:
        candidates.append(("user", turn.user))
        candidates.append(("assistant", turn.assistant))
    candidates.append(("user", user_text))
    messages: list[ChatMessage] = []
    for role, content in candidates:
        text = (content or "").strip()
        if not text:
            continue
        if messages and messages[-1].role == role:
            messages[-1] = ChatMessage(role, f"{messages[-1].content}\n\n{text}")
        else:
            messages.append(ChatMessage(role, text))
    return messages
