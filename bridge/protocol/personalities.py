"""The ``personalities`` table of a session (docs/protocol.md §5.1.2) and its validation.

A ``start`` may carry ``personalities``: an object mapping a personality name to an array of
synonyms. Names and synonyms are stored stripped and lower-cased, each word at most once over
the whole table. The table drives the personality rule of the phrase filter (§12.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bridge.protocol import errors
from bridge.protocol.errors import ErrorCode, ProtocolError


@dataclass(frozen=True, slots=True)
class PersonalityTable:
    """Validated personalities: ``(name, synonyms)`` pairs in the client's order."""

    entries: tuple[tuple[str, tuple[str, ...]], ...]

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.entries)

    def words(self) -> Iterator[tuple[str, str]]:
        """Every accepted word with its canonical name: names first, then their synonyms."""
        for name, synonyms in self.entries:
            yield name, name
            for synonym in synonyms:
                yield synonym, name

    def canonical(self, word: str) -> str | None:
        """The personality name a (lower-case) name or synonym stands for."""
        for candidate, name in self.words():
            if candidate == word:
                return name
        return None

    def to_dict(self) -> dict[str, list[str]]:
        return {name: list(synonyms) for name, synonyms in self.entries}


def validate_personalities(
    raw: Any, *, max_personalities: int, max_synonyms: int
) -> PersonalityTable | ProtocolError:
    """Check a ``personalities`` value (already known to be present) in the order of §5.1.2."""

    def reject(code: ErrorCode, message: str) -> ProtocolError:
        return errors.start_rejected(code, message)

    if not isinstance(raw, dict):
        return reject(ErrorCode.INVALID_PERSONALITIES_FORMAT, errors.PERSONALITIES_NOT_AN_OBJECT)
    if not raw:
        return reject(ErrorCode.EMPTY_PERSONALITIES, errors.PERSONALITIES_EMPTY)
    if len(raw) > max_personalities:
        return reject(
            ErrorCode.TOO_MANY_PERSONALITIES,
            errors.too_many_personalities(max_personalities),
        )
    seen: set[str] = set()
    entries: list[tuple[str, tuple[str, ...]]] = []
    for key, synonyms in raw.items():
        if not isinstance(key, str) or not key.strip():
            return reject(ErrorCode.INVALID_PERSONALITY_NAME, errors.PERSONALITY_NAME_INVALID)
        name = key.strip().lower()
        if name in seen:
            return reject(ErrorCode.DUPLICATE_PERSONALITY, errors.duplicate_personality(name))
        seen.add(name)
        if not isinstance(synonyms, list):
            return reject(
                ErrorCode.INVALID_PERSONALITY_SYNONYMS,
                errors.synonyms_not_an_array(name),
            )
        if len(synonyms) > max_synonyms:
            return reject(
                ErrorCode.TOO_MANY_SYNONYMS,
                errors.too_many_synonyms(name, max_synonyms),
            )
        words: list[str] = []
        for synonym in synonyms:
            if not isinstance(synonym, str) or not synonym.strip():
                return reject(ErrorCode.INVALID_PERSONALITY_SYNONYM, errors.synonym_invalid(name))
            word = synonym.strip().lower()
            if word in seen:
                return reject(
                    ErrorCode.DUPLICATE_PERSONALITY_SYNONYM,
                    errors.duplicate_synonym(word),
                )
            seen.add(word)
            words.append(word)
        entries.append((name, tuple(words)))
    return PersonalityTable(tuple(entries))
