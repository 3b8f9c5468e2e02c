"""Shield building blocks: risk tiers, the verdict, rules, hits and the `_rule` builder."""

from __future__ import annotations

import re
from dataclasses import dataclass

NONE, MEDIUM, HIGH, CRITICAL = 0, 1, 2, 3
LEVELS = ("none", "medium", "high", "critical")


@dataclass(frozen=True)
class ShieldVerdict:
    risk_level: str
    categories: tuple[str, ...]
    rule_ids: tuple[str, ...]
    # The learned detector's attack probability, when it ran (rules that block skip it), and
    # the n-grams that raised it most: pieces of the prompt, for explaining, never recorded.
    detector_score: float | None = None
    detector_features: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.risk_level in ("high", "critical")


@dataclass(frozen=True)
class Trigger:
    """Present when a word of the prompt starts with one of `keys` (the first KEY_LEN
    letters of a trigger word) or one of `marks` (CJK text, symbols) occurs in it."""

    keys: frozenset[str]
    marks: tuple[str, ...]

    def present(self, low: str, vocab: frozenset[str]) -> bool:
        return not self.keys.isdisjoint(vocab) or any(mark in low for mark in self.marks)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    tier: int
    # The regex runs only when, for one alternative, every trigger is present: words its
    # match cannot do without, so a prompt without them skips the (costlier) regex.
    when: tuple[tuple[Trigger, ...], ...]
    pattern: re.Pattern[str]
    # Matched against the text as written rather than lower-cased ("DAN" is not "Dan").
    cased: bool = False
    # The pattern must start at a word boundary (a leading \b, checked outside the regex).
    word_start: bool = False

    def search(self, text: str) -> re.Match[str] | None:
        m = self.pattern.search(text)
        while m is not None and self.word_start and m.start() and _is_word(text[m.start() - 1]):
            m = self.pattern.search(text, m.start() + 1)
        return m

    @property
    def category(self) -> str:
        return self.rule_id.split(".", 1)[0]


@dataclass(frozen=True)
class Hit:
    rule_id: str
    tier: int
    start: int = 0
    end: int = 0

    @property
    def category(self) -> str:
        return self.rule_id.split(".", 1)[0]


KEY_LEN = 5


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _rule(rule_id: str, tier: int, when: str, pattern: str, *, cased: bool = False) -> Rule:
    """`when`: alternatives split by " | ", each a conjunction of triggers split by " & ",
    each trigger a list of words (cut to KEY_LEN letters) and "~"-prefixed substrings."""
    alternatives = tuple(
        tuple(_trigger(group) for group in alternative.split(" & "))
        for alternative in when.split(" | ")
    )
    word_start = pattern.startswith(r"\b") and _single_branch(pattern)
    if word_start:
        # The engine skips ahead in C to the first letters of a leading alternation, but
        # only when nothing precedes it; the word boundary is checked in `Rule.search`.
        pattern = pattern[2:]
    compiled = re.compile(pattern, re.MULTILINE)
    return Rule(rule_id, tier, alternatives, compiled, cased, word_start)


def _single_branch(pattern: str) -> bool:
    """True when the pattern has no top-level "|", so a leading \\b applies to all of it."""
    return _top_level_bars(pattern) == 0


def _top_level_bars(pattern: str) -> int:
    depth, bars, escaped, in_class = 0, 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            bars += 1
    return bars


def _trigger(group: str) -> Trigger:
    tokens = group.split()
    keys = frozenset(t[:KEY_LEN] for t in tokens if not t.startswith("~"))
    return Trigger(keys, tuple(t[1:] for t in tokens if t.startswith("~")))


def _words(n: int) -> str:
    """Up to n filler words, lazily: "ignore [all of the] previous instructions"."""
    return rf"(?:[\w'’-]+\s+){{0,{n}}}?"


def _others(n: int) -> str:
    """Filler that is not the user's own ("ignore my previous instructions" is a correction)."""
    return rf"(?:(?!(?:my|our|mine|i)\b)[\w'’-]+\s+){{0,{n}}}?"
