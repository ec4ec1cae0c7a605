"""Token budgets for the bridge, counted by Triton's ``tokenizer`` model.

The bridge never loads a tokenizer. Most texts of a voice turn are short, and a text of ``n``
UTF-8 bytes never has more than ``n + 1`` tokens (byte-level BPE: one token covers at least one
byte; SentencePiece may add one dummy-prefix token; WordPiece emits at most one token per
character), so a text that fits by that bound needs no round trip at all. Persona prompts
repeat across turns, so their counts are cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from bridge.protocol.history import (
    MESSAGE_SEPARATORS,
    TURN_SEPARATOR,
    SessionHistory,
    trim_history_text,
)
from bridge.triton_gateway import TritonGateway


def surely_fits(text: str, max_tokens: int) -> bool:
    """True when ``text`` cannot have more than ``max_tokens`` tokens, whatever the tokenizer."""
    return len(text.encode("utf-8")) + 1 <= max_tokens


class TokenBudgets:
    def __init__(self, gateway: TritonGateway, *, cache_size: int = 256) -> None:
        self.gateway = gateway
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._cache_size = cache_size
        self.round_trips = 0  # how many tokenizer calls were needed (for tests and metrics)

    async def counts(self, texts: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if t not in self._counts]
        if missing:
            self.round_trips += 1
            for text, (count, _) in zip(missing, await self.gateway.measure(missing)):
                self._remember(text, count)
        found = {}
        for text in wanted:
            self._counts.move_to_end(text)
            found[text] = self._counts[text]
        return found

    def _remember(self, text: str, count: int) -> None:
        self._counts[text] = count
        while len(self._counts) > self._cache_size:
            self._counts.popitem(last=False)

    async def exceeds(self, text: str, max_tokens: int) -> bool:
        """Whether ``text`` has more than ``max_tokens`` tokens (e.g. the persona limit)."""
        if surely_fits(text, max_tokens):
            return False
        return (await self.counts([text]))[text] > max_tokens

    async def head(self, text: str, max_tokens: int) -> str:
        """The first ``max_tokens`` tokens of ``text`` (the utterance budget, §5.1)."""
        if surely_fits(text, max_tokens):
            return text
        self.round_trips += 1
        [(_, kept)] = await self.gateway.measure([text], max_tokens, "head")
        return kept

    async def trim_history(self, history: SessionHistory, max_tokens: int) -> SessionHistory:
        """Drop the oldest turns while the rendered history exceeds ``max_tokens`` (§8.2)."""
        rendered = history.render()
        if surely_fits(rendered, max_tokens):
            return history
        turns = history.turns
        suffixes = [TURN_SEPARATOR.join(t.render() for t in turns[i:]) for i in range(len(turns))]
        counts = await self.counts(suffixes)
        return history.trimmed(lambda text: counts.get(text, 0), max_tokens)

    async def trim_histories(
        self, histories: Sequence[SessionHistory], max_tokens: int
    ) -> tuple[SessionHistory, ...]:
        """``trim_history`` of each history, with one tokenizer round trip for all of them."""
        need = [h for h in histories if not surely_fits(h.render(), max_tokens)]
        suffixes = [
            TURN_SEPARATOR.join(t.render() for t in h.turns[i:])
            for h in need
            for i in range(len(h.turns))
        ]
        counts = await self.counts(suffixes) if suffixes else {}
        return tuple(
            h.trimmed(lambda text: counts.get(text, 0), max_tokens) if h in need else h
            for h in histories
        )

    async def trim_text(self, text: str, max_tokens: int) -> str:
        """The "preserve messages" trimmer of §8.4 (warm_history, chat_prompt re-trim)."""
        if surely_fits(text, max_tokens):
            return text
        separator = next((sep for sep in MESSAGE_SEPARATORS if sep in text), None)
        pieces: list[str] = []
        if separator is not None:
            parts = text.split(separator)
            pieces = [p if i == len(parts) - 1 else separator + p for i, p in enumerate(parts)]
        counts = await self.counts(pieces)
        tail: dict[tuple[str, int], str] = {}
        if separator is None or all(counts[p] > max_tokens for p in pieces[-1:]):
            self.round_trips += 1
            [(_, kept)] = await self.gateway.measure([text], max_tokens, "tail")
            tail[(text, max_tokens)] = kept
        return trim_history_text(
            text,
            max_tokens,
            lambda piece: counts[piece],
            lambda whole, n: tail.get((whole, n), whole),
        )
