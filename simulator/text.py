"""Deterministic reply text, prompt-size estimates and embeddings, all seeded from the input.

A reply is built from a small phrase grammar so it reads like plain English; each token is one
word with its leading space, so a stream of N chunks carries exactly N tokens.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
from typing import Any

EMBEDDING_DIMENSIONS = 384

_OPENERS = (
    "",
    "",
    "",
    "In addition,",
    "However,",
    "For example,",
    "As a result,",
    "In practice,",
    "At the same time,",
    "Put simply,",
)
_SUBJECTS = (
    "the team",
    "a careful review",
    "this approach",
    "the first step",
    "our analysis",
    "the model",
    "a simple test",
    "the result",
    "each request",
    "the proposal",
    "a good plan",
    "the data",
    "the system",
    "a short summary",
)
_VERBS = (
    "shows",
    "suggests",
    "requires",
    "improves",
    "reduces",
    "explains",
    "supports",
    "highlights",
    "depends on",
    "clarifies",
    "protects",
    "balances",
)
_OBJECTS = (
    "the overall cost",
    "a clear structure",
    "the main risk",
    "several small steps",
    "the expected outcome",
    "a better balance",
    "the key trade-offs",
    "the final answer",
    "the user experience",
    "a measurable benefit",
    "the remaining questions",
    "the underlying assumptions",
)
_TAILS = (
    "",
    "over time",
    "in most cases",
    "for the whole project",
    "without extra effort",
    "when the inputs are clean",
    "as the numbers grow",
    "for every stakeholder",
    "with very little risk",
)


def seed_of(value: Any) -> int:
    """A stable 64-bit seed for any JSON-like value (key order does not matter)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


def default_length(seed: int) -> int:
    """A reply length between 60 and 300 tokens when the request does not ask for one."""
    return 60 + seed % 241


@functools.lru_cache(maxsize=1024)  # benchmarks repeat prompts; the result is immutable
def reply_tokens(seed: int, length: int) -> tuple[str, ...]:
    """`length` tokens of English-looking text; the same seed always gives the same words."""
    rng = random.Random(seed)  # noqa: S311 - reproducible text, not security
    tokens: list[str] = []
    sentences_in_paragraph = 0
    while len(tokens) < length:
        words = _sentence(rng)
        new_paragraph = sentences_in_paragraph >= rng.randint(3, 5)
        sentences_in_paragraph = 1 if new_paragraph else sentences_in_paragraph + 1
        for index, word in enumerate(words):
            if not tokens:
                tokens.append(word)
            elif index == 0 and new_paragraph:
                tokens.append("\n\n" + word)
            else:
                tokens.append(" " + word)
    return tuple(tokens[:length])


def _sentence(rng: random.Random) -> list[str]:
    parts = [rng.choice(p) for p in (_OPENERS, _SUBJECTS, _VERBS, _OBJECTS, _TAILS)]
    text = " ".join(part for part in parts if part)
    return (text[0].upper() + text[1:] + ".").split(" ")


def text_of(content: Any) -> str:
    """The text in a message's content: a string, or a list of parts with `text` fields."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def estimate_tokens(texts: list[str]) -> int:
    """About four characters per token, never less than one."""
    return max(1, math.ceil(sum(len(text) for text in texts) / 4))


def embedding(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A unit vector derived from `text` alone; unrelated to meaning, stable across runs."""
    rng = random.Random(seed_of(["embedding", text]))  # noqa: S311 - reproducible, not security
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]
