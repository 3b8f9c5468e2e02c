"""What a cache entry is keyed on: the prompt as the cache compares it, and the scope, which
holds everything else that changes the right answer."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from routing.precheck.normalize import clean

_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?!.]+$")


def cache_text(prompt: str) -> str:
    """The prompt as the cache compares it: the precheck's canonical text, case-folded, with
    runs of white space folded and trailing punctuation dropped."""
    text = _SPACES.sub(" ", clean(prompt).casefold()).strip()
    return _TRAILING.sub("", text)


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(cache_text(prompt).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheScope:
    """Everything besides the prompt that changes the right answer."""

    family: str  # the assistant family
    context: tuple[tuple[str, str], ...]  # system prompt and earlier turns: (role, content)
    model: str  # an explicit model slug, or "" when routed
    mode: str  # the routing mode
    quality_bar: str  # the mode's bar for the prompt's complexity
    language: str

    def digest(self) -> str:
        parts = [self.family, self.model, self.mode, self.quality_bar, self.language]
        payload = json.dumps([parts, [list(m) for m in self.context]], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def scope_context(messages: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((role, cache_text(content)) for role, content in messages)


def exact_key(*, org_id: int, scope: str, prompt: str) -> str:
    """The Valkey key of one (organisation, scope, prompt); the braces keep an organisation's
    keys in one Redis Cluster slot, like the limits' keys."""
    digest = hashlib.sha256(f"{scope}:{prompt}".encode()).hexdigest()
    return f"sb:cache:{{{org_id}}}:{digest}"


def count_key(org_id: int) -> str:
    """How many entries the organisation has stored since the last eviction."""
    return f"sb:cache:{{{org_id}}}:count"
