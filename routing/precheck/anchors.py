"""Start anchors: the literal strings every match of a rule's regex begins with.

A regex searched over a long prompt is tried at every position whose character could start
it, and for rules beginning with a word alternation that is most of an English text. When
every match must begin with one of a few literals ("ignore", "disregard", "do not ..."),
those literals are found with `str.find` (C, a few µs per 10 KB) and the regex is tried only
there: the same first match as `search`, found in a fraction of the time.

The literals are read off the regex's parse tree (`re._parser`, the standard library's own
parser), so they cannot drift from the pattern: a pattern whose start is not a finite set
of literals (a leading `\\s*`, `^`, `.`, a large class) gets no anchors and is searched as
before.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

_PARSER: Any = importlib.import_module("re._parser")
_C: Any = importlib.import_module("re._constants")

# A class of more characters than this ends the literal rather than multiplying it.
_MAX_CLASS = 8
_MAX_ANCHORS = 2048
# Longer anchors add nothing: they are already rare in ordinary text.
_ENOUGH_CHARS = 12
# Literals looked for by AnchoredPattern are cut to this: shorter ones, fewer scans.
_SEARCH_CHARS = 4
_CASE_FLAGS = re.IGNORECASE


def start_anchors(
    pattern: str, flags: int, max_class: int = _MAX_CLASS
) -> tuple[Anchor, ...] | None:
    """The anchors one of which starts every match, or None when the start of the pattern
    cannot be reduced to non-empty literals. A class of up to `max_class` characters is
    spelled out."""
    parsed = _PARSER.parse(pattern, flags)
    if parsed.state.flags & _CASE_FLAGS:
        return None
    stopped, consumed = _walk(list(parsed.data), {Anchor("", False, False)}, max_class)
    heads = stopped | consumed
    if any(not head.text and not head.line_start for head in heads):
        return None
    return tuple(sorted(heads))


class Anchor(NamedTuple):
    text: str
    # A word boundary precedes the literal (so it starts one of the prompt's words).
    bounded: bool
    # The literal's last letter ends that word: a space, a non-word character or a word
    # boundary comes next.
    word_ends: bool
    # The literal starts a line: it follows a line break or starts the text (a "^" before
    # it). The only anchor that may have no text: the match starts at some line start.
    line_start: bool = False


_Heads = set[Anchor]
# Anchors (^, $, \B ...) and lookarounds.
_ZERO_WIDTH = (_C.AT, _C.ASSERT, _C.ASSERT_NOT)


def _walk(items: list[Any], heads: _Heads, max_class: int = _MAX_CLASS) -> tuple[_Heads, _Heads]:
    """Extend the heads by the items in turn. Returns the heads that stopped early (an item
    that is no literal, or long enough) and those that consumed every item, which what
    follows the items may extend further."""
    stopped: _Heads = set()
    for index, (op, av) in enumerate(items):
        if not heads:
            break
        if all(len(head.text) >= _ENOUGH_CHARS for head in heads):
            return stopped | heads, set()
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            more, consumed = _repeat(av, items[index + 1 :], heads, max_class)
            if len(stopped) + len(more) + len(consumed) > _MAX_ANCHORS:
                return stopped | heads, set()
            return stopped | more, consumed
        step = _step(op, av, heads, max_class)
        if step is None:
            return stopped | (_ended(heads) if _starts_non_letter(op, av) else heads), set()
        more, extended = step
        if len(stopped) + len(more) + len(extended) > _MAX_ANCHORS:
            # Shorter literals, then: still a start of every match.
            return stopped | heads, set()
        stopped |= more
        heads = extended
    return stopped, heads


def _repeat(av: Any, rest: list[Any], heads: _Heads, max_class: int) -> tuple[_Heads, _Heads]:
    """`x{min,max}` then `rest`: a match starts with x, or, when x may be absent, with rest.
    The heads that took x stop after it (another x may follow)."""
    low, _, item = av
    stopped, consumed = _walk(list(item.data), heads, max_class)
    taken = stopped | consumed
    if low > 0:
        return taken, set()
    skipped, through = _walk(rest, heads, max_class)
    return taken | skipped, through


def _step(op: Any, av: Any, heads: _Heads, max_class: int) -> tuple[_Heads, _Heads] | None:
    """(heads that stopped, heads extended by the item), or None when the item is no
    literal the heads can be extended by."""
    if op is _C.LITERAL:
        return set(), {_extended(head, chr(av)) for head in heads}
    if op is _C.IN:
        chars = _class_chars(av, max_class)
        if chars is None:
            return None
        return set(), {_extended(head, ch) for head in heads for ch in chars}
    if op is _C.AT and av is _C.AT_BOUNDARY:
        return set(), {_at_boundary(head) for head in heads}
    if op is _C.AT and av in (_C.AT_BEGINNING, _C.AT_BEGINNING_STRING):
        # "^" (a line start in MULTILINE, else the text's): both are among the line starts.
        return set(), {h if h.text else h._replace(line_start=True) for h in heads}
    if op in _ZERO_WIDTH:
        # Consumes nothing: the literals before and after it are one start.
        return set(), heads
    if op is _C.SUBPATTERN:
        if av[1] or av[2]:
            return None  # local flags, such as (?i:...), change what a literal matches
        return _alternatives([list(av[-1].data)], heads, max_class)
    if op is _C.BRANCH:
        return _alternatives([list(alt.data) for alt in av[1]], heads, max_class)
    if op is _C.ATOMIC_GROUP:
        return _alternatives([list(av.data)], heads, max_class)
    return None


def _extended(head: Anchor, ch: str) -> Anchor:
    return head._replace(text=head.text + ch)


def _at_boundary(head: Anchor) -> Anchor:
    if not head.text:
        return head._replace(bounded=True)
    # After a letter, a boundary means a non-word character (or the end) comes next.
    return head._replace(word_ends=head.word_ends or head.text[-1].isalpha())


def _ended(heads: _Heads) -> _Heads:
    return {head._replace(word_ends=True) for head in heads}


_NON_LETTER_CATEGORIES = ("CATEGORY_SPACE", "CATEGORY_NOT_WORD", "CATEGORY_DIGIT")


def _starts_non_letter(op: Any, av: Any) -> bool:
    """True when the item can only match starting with a character that is no letter."""
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
        low, _, item = av
        return bool(low > 0 and item.data and _starts_non_letter(*item.data[0]))
    if op is not _C.IN:
        return False
    return all(kind is _C.CATEGORY and str(value) in _NON_LETTER_CATEGORIES for kind, value in av)


def _alternatives(
    alternatives: list[list[Any]], heads: _Heads, max_class: int
) -> tuple[_Heads, _Heads]:
    stopped: _Heads = set()
    through: _Heads = set()
    for alternative in alternatives:
        # Each alternative starts from the same heads; a boundary seen inside one applies to
        # the heads it extends only.
        more, extended = _walk(alternative, heads, max_class)
        stopped |= more
        through |= extended
    return stopped, through


def _class_chars(items: list[Any], max_class: int) -> list[str] | None:
    chars: list[str] = []
    for op, av in items:
        if op is _C.LITERAL:
            chars.append(chr(av))
        elif op is _C.RANGE and av[1] - av[0] < max_class:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None
    return chars if len(chars) <= max_class else None


class AnchoredPattern:
    """A compiled regex searched only where one of its start literals occurs: `finditer`
    and `search` give what the regex's own give. For patterns tried at most characters of
    a prompt (a class or alternation of common letters first) whose matches start with a
    few rarer characters or words; a pattern without anchors is searched as it is."""

    def __init__(self, pattern: re.Pattern[str], max_class: int = 16) -> None:
        self.pattern = pattern
        anchors = start_anchors(pattern.pattern, pattern.flags, max_class)
        # (literal, must start a word): after a \b, a word character needs none before it.
        spots = sorted(
            {
                (a.text[:_SEARCH_CHARS], a.bounded and _is_word(a.text[:1]), a.line_start)
                for a in anchors or ()
            }
        )
        # A literal another one starts adds no position.
        self.literals = tuple(
            (literal, at_word, line_start)
            for i, (literal, at_word, line_start) in enumerate(spots)
            if not any(
                literal.startswith(other)
                and (at_word or not other_at_word)
                and (line_start or not other_line_start)
                for other, other_at_word, other_line_start in spots[:i]
            )
        )

    def _starts(self, text: str) -> list[int]:
        starts: set[int] = set()
        for literal, at_word, line_start in self.literals:
            starts.update(occurrences(text, literal, at_word, line_start))
        return sorted(starts)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if not self.literals:
            yield from self.pattern.finditer(text)
            return
        # Every match holds its literal, so none is empty: the next starts where one ends.
        resume = 0
        for at in self._starts(text):
            if at >= resume and (m := self.pattern.match(text, at)) is not None:
                resume = m.end()
                yield m

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # False for "", the start of the text


def occurrences(text: str, literal: str, at_word: bool, line_start: bool = False) -> list[int]:
    """Where `literal` starts in `text` (at a word start when `at_word`, at a line start
    when `line_start`), by str.find."""
    if line_start:
        first = [0] if text.startswith(literal) else []
        return first + [at + 1 for at in occurrences(text, "\n" + literal, False)]
    out = []
    find = text.find
    at = find(literal)
    while at >= 0:
        if not at_word or not at or not ((prev := text[at - 1]).isalnum() or prev == "_"):
            out.append(at)
        at = find(literal, at + 1)
    return out
