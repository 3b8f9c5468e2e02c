"""Shield building blocks: risk tiers, the verdict, rules, hits and the `_rule` builder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from routing.precheck.shield.anchors import Anchor, start_anchors

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
    # The literals every match starts with, found by `str.find` when the prompt's vocabulary
    # holds the word prefix beside each; and a regex for those no vocabulary key stands for.
    # Neither: the start is not a few literals, and the regex is searched everywhere.
    anchors: tuple[tuple[str, str], ...] = ()
    loose_anchors: re.Pattern[str] | None = None

    def search(self, text: str, vocab: frozenset[str] | None = None) -> re.Match[str] | None:
        """The first match, as `pattern.search` finds it (after the word-start check).

        With anchors, the regex is tried only where one of them occurs; `vocab`, the word
        prefixes of `text`, skips the anchors the prompt cannot hold.
        """
        if self.anchors or self.loose_anchors is not None:
            return self._anchored_search(text, vocab)
        m = self.pattern.search(text)
        while m is not None and self.word_start and m.start() and _is_word(text[m.start() - 1]):
            m = self.pattern.search(text, m.start() + 1)
        return m

    def _anchored_search(self, text: str, vocab: frozenset[str] | None) -> re.Match[str] | None:
        starts: set[int] = set()
        for literal, key in self.anchors:
            if vocab is not None and key not in vocab:
                continue
            at = text.find(literal)
            while at >= 0:
                starts.add(at)
                at = text.find(literal, at + 1)
        if self.loose_anchors is not None:
            starts.update(_occurrences(self.loose_anchors, text))
        match = self.pattern.match
        for at in sorted(starts):
            if self.word_start and at and _is_word(text[at - 1]):
                continue
            m = match(text, at)
            if m is not None:
                return m
        return None

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
    keyed, loose = _anchor_keys(pattern, word_start, cased)
    return Rule(rule_id, tier, alternatives, compiled, cased, word_start, keyed, loose)


_LETTERS = re.compile(r"[^\W\d_]+")


def _anchor_keys(
    pattern: str, word_start: bool, cased: bool
) -> tuple[tuple[tuple[str, str], ...], re.Pattern[str] | None]:
    anchors = start_anchors(pattern, re.MULTILINE)
    if anchors is None:
        return (), None
    keyed, loose = [], []
    for anchor in anchors:
        key = _vocab_key(anchor, word_start, cased)
        if key:
            keyed.append((anchor.text, key))
        else:
            loose.append(re.escape(anchor.text))
    # Longest first, though any literal found at a position is enough: only starts count.
    loose.sort(key=len, reverse=True)
    return tuple(keyed), re.compile("|".join(loose)) if loose else None


def _occurrences(literals: re.Pattern[str], text: str) -> Iterator[int]:
    """Every position where one of the literals starts, overlapping ones included."""
    m = literals.search(text)
    while m is not None:
        yield m.start()
        m = literals.search(text, m.start() + 1)


def _vocab_key(anchor: Anchor, word_start: bool, cased: bool) -> str:
    """The prefix a prompt's vocabulary holds when the anchor occurs at a word start: its
    leading letters, when they are a whole word of the prompt or at least KEY_LEN long."""
    letters = _LETTERS.match(anchor.text)
    if cased or not (anchor.bounded or word_start) or letters is None:
        return ""
    word = letters.group()
    if len(word) < KEY_LEN and len(word) == len(anchor.text) and not anchor.word_ends:
        return ""  # the prompt's word may go on past the literal: its prefix is unknown
    return word[:KEY_LEN]


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
