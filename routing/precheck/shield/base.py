"""Shield building blocks: risk tiers, the verdict, rules, hits and the `_rule` builder."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from routing.precheck.anchors import Anchor, occurrences, start_anchors

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
    # The literals every match starts with (see `anchors`): the regex is tried only where
    # one occurs. Each comes with the word prefix a prompt's vocabulary must hold for it to
    # occur ("" when unknown) and whether it must start a word. Empty: the start is not a
    # few literals, and the regex is searched everywhere.
    anchors: tuple[tuple[str, str, bool, bool], ...] = ()
    # The same anchors by vocabulary key, "" for those looked for in every prompt.
    by_key: dict[str, tuple[Spot, ...]] = field(default_factory=dict, compare=False)
    keys: frozenset[str] = frozenset()
    # For a rule whose every match is a word, blanks, then this ASCII literal in any case
    # ("DEV Mode", "developer mode"): the regex is tried only at the word before each
    # occurrence, where a start that is no literal would have it tried at every word.
    word_before: str = ""

    def search(
        self, text: str, vocab: frozenset[str] | None = None, found: Found | None = None
    ) -> re.Match[str] | None:
        """The first match, as `pattern.search` finds it (after the word-start check).

        `vocab`, the word prefixes of `text`, skips the anchors the prompt cannot hold;
        `found` keeps anchor positions for the next rule over the same text.
        """
        if self.anchors:
            return self._anchored_search(text, vocab, {} if found is None else found)
        if self.word_before:
            return self._search_word_before(text)
        m = self.pattern.search(text)
        while m is not None and self.word_start and m.start() and _is_word(text[m.start() - 1]):
            m = self.pattern.search(text, m.start() + 1)
        return m

    def _anchored_search(
        self, text: str, vocab: frozenset[str] | None, found: Found
    ) -> re.Match[str] | None:
        starts: set[int] = set()
        keys = self.keys if vocab is None else self.keys & vocab
        for key in ("", *keys):
            for spot in self.by_key.get(key, ()):
                positions = found.get(spot)
                if positions is None:
                    positions = found[spot] = _positions(text, *spot)
                starts.update(positions)
        match = self.pattern.match
        for at in sorted(starts):
            if self.word_start and at and _is_word(text[at - 1]):
                continue
            m = match(text, at)
            if m is not None:
                return m
        return None

    def _search_word_before(self, text: str) -> re.Match[str] | None:
        match = self.pattern.match
        for at in _caseless_occurrences(text, self.word_before):
            start = _word_before(text, at)
            if start is not None and (m := match(text, start)) is not None:
                return m
        return None

    @property
    def category(self) -> str:
        return self.rule_id.split(".", 1)[0]


def _caseless_occurrences(text: str, literal: str) -> list[int]:
    """Where `literal` (lower-case ASCII letters) starts in `text`, in any case."""
    if text.isascii():
        return occurrences(text.lower(), literal, False)
    # Outside ASCII, lower-casing may lengthen the text and shift positions.
    return [m.start() for m in re.finditer(literal, text, re.IGNORECASE)]


def _word_before(text: str, at: int) -> int | None:
    """The start of the word that blanks separate from `at` (as `\\w+\\s+` reads them),
    or None when no blank or no word precedes it."""
    start = at
    while start and text[start - 1].isspace():
        start -= 1
    if start == at:
        return None
    end = start
    while start and _is_word(text[start - 1]):
        start -= 1
    return start if start < end else None


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


def _rule(
    rule_id: str, tier: int, when: str, pattern: str, *, cased: bool = False, word_before: str = ""
) -> Rule:
    """`when`: alternatives split by " | ", each a conjunction of triggers split by " & ",
    each trigger a list of words (cut to KEY_LEN letters) and "~"-prefixed substrings.
    `word_before`: see `Rule.word_before`, for a pattern without start anchors."""
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
    anchors = _anchor_keys(pattern, word_start, cased)
    by_key: dict[str, tuple[Spot, ...]] = {}
    for literal, key, at_word, line_start in anchors:
        by_key[key] = (*by_key.get(key, ()), (literal, at_word, line_start))
    keys = frozenset(by_key) - {""}
    return Rule(
        rule_id, tier, alternatives, compiled, cased, word_start, anchors, by_key, keys,
        "" if anchors else word_before,
    )  # fmt: skip


_LETTERS = re.compile(r"[^\W\d_]+")


def _anchor_keys(
    pattern: str, word_start: bool, cased: bool
) -> tuple[tuple[str, str, bool, bool], ...]:
    anchors = start_anchors(pattern, re.MULTILINE)
    if anchors is None:
        return ()
    keys: dict[Spot, str] = {}
    # A literal sharing its first word with another is cut to it; one alone stays whole
    # ("from now on" is rarer than "from").
    cuts = Counter(_shortened(anchor.text) for anchor in anchors)
    for anchor in anchors:
        at_word = (anchor.bounded or word_start) and _is_word(anchor.text[:1])
        cut = _shortened(anchor.text)
        if anchor.line_start:
            spot = (anchor.text, at_word, True)
            key = ""
        else:
            spot = (cut if cuts[cut] > 1 else anchor.text, at_word, False)
            key = _vocab_key(anchor, word_start, cased)
        # Two anchors cut to one literal: it is looked for when either could occur.
        keys[spot] = key if keys.get(spot, key) == key else ""
    return _without_longer(keys)


_MIN_ANCHOR = 4


def _shortened(literal: str) -> str:
    """The literal cut after its first word (a short word keeps a little of what follows):
    each literal costs one scan of the prompt, and "write out", "write down" need only one
    for "write", "do not follow" and "do not obey" one for "do n"."""
    letters = _LETTERS.match(literal)
    if letters is not None and letters.end() >= _MIN_ANCHOR:
        return literal[: letters.end()]
    return literal[:_MIN_ANCHOR]


def _without_longer(keys: dict[Spot, str]) -> tuple[tuple[str, str, bool, bool], ...]:
    """Drops a literal another one starts, when that one is looked for whenever it is: its
    positions are among the other's."""
    kept: list[tuple[str, str, bool, bool]] = []
    for (literal, at_word, line_start), key in sorted(keys.items()):
        covered = any(
            literal.startswith(other)
            and at_word == other_at_word
            and line_start == other_line_start
            and other_key in ("", key)
            for other, other_key, other_at_word, other_line_start in kept
        )
        if not covered:
            kept.append((literal, key, at_word, line_start))
    return tuple(kept)


# (literal, must start a word, must start a line): where a rule's regex is tried.
Spot = tuple[str, bool, bool]
# Anchor positions in one text, by spot.
Found = dict[Spot, list[int]]


def _positions(text: str, literal: str, at_word: bool, line_start: bool) -> list[int]:
    return occurrences(text, literal, at_word, line_start)


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
