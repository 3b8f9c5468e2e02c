"""The rule index: a prompt's word prefixes, and rules looked up by their first trigger."""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator

from routing.precheck.shield.base import KEY_LEN, Found, Hit, Rule

_WORD = re.compile(r"[^\W\d_]+")


_KEY_OF = operator.itemgetter(slice(KEY_LEN))
# ASCII letters and the bytes of multi-byte UTF-8 characters stay; other bytes become spaces.
_ASCII_NON_LETTERS = bytes(c if c >= 128 or chr(c).isalpha() else 32 for c in range(256))


def vocabulary(low: str) -> frozenset[str]:
    """The KEY_LEN-letter prefixes of the words in `low`: what rule keys are checked against."""
    # Same words as _WORD, found by C-level translate and split instead of the regex: ASCII
    # non-letters become spaces in the UTF-8 bytes (multi-byte characters are left alone).
    tokens = low.encode().translate(_ASCII_NON_LETTERS).decode().split()
    if low.isascii():
        return frozenset(map(_KEY_OF, tokens))
    # A token holding other characters is split by the regex itself: some are no letters.
    mixed = " ".join(itertools.filterfalse(str.isascii, tokens))
    words = itertools.chain(filter(str.isascii, tokens), _WORD.findall(mixed))
    return frozenset(map(_KEY_OF, words))


class RuleIndex:
    """Rules by their first trigger, so a prompt only pays for rules its words can fire."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._by_key: dict[str, set[tuple[int, int]]] = {}
        self._by_mark: dict[str, set[tuple[int, int]]] = {}
        for pos, rule in enumerate(rules):
            for alt, (first, *_) in enumerate(rule.when):
                for key in first.keys:
                    self._by_key.setdefault(key, set()).add((pos, alt))
                for mark in first.marks:
                    self._by_mark.setdefault(mark, set()).add((pos, alt))
        self._keys = frozenset(self._by_key)
        # A mark found also stands for the marks inside it ("<<sys>>" holds "<sys").
        for mark, entries in self._by_mark.items():
            for inner, inner_entries in self._by_mark.items():
                if inner != mark and inner in mark:
                    entries |= inner_entries
        marks = sorted(self._by_mark, key=len, reverse=True)
        # One pass for all marks: the alternation starts with literals, so the regex engine
        # skips ahead in C over characters no mark can start with (most of an English text).
        self._marks = re.compile("|".join(map(re.escape, marks))) if marks else None

    def keyed_on(self, vocab: frozenset[str]) -> bool:
        """True when some rule's first trigger is among these word prefixes."""
        return not self._keys.isdisjoint(vocab)

    def candidates(self, low: str, vocab: frozenset[str]) -> list[Rule]:
        entries: set[tuple[int, int]] = set()
        for key in vocab & self._keys:
            entries |= self._by_key[key]
        if self._marks is not None:
            for mark in set(self._marks.findall(low)):
                entries |= self._by_mark[mark]
        chosen = {
            pos
            for pos, alt in entries
            if all(t.present(low, vocab) for t in self.rules[pos].when[alt][1:])
        }
        return [self.rules[pos] for pos in sorted(chosen)]

    def match(self, low: str, text: str | None = None, vocab: frozenset[str] | None = None,
              found: Found | None = None) -> Iterator[Hit]:  # fmt: skip
        """Hits in `low` (lower-cased); cased rules read `text`, the original, when given.
        `found`: anchor positions in `low` already looked for, shared with other indexes."""
        vocab = vocabulary(low) if vocab is None else vocab
        found = {} if found is None else found
        found_cased: Found = {}
        for rule in self.candidates(low, vocab):
            if rule.cased and text is not None:
                m = rule.search(text, vocab, found_cased)
            else:
                m = rule.search(low, vocab, found)
            if m is not None:
                yield Hit(rule.rule_id, rule.tier, m.start(), m.end())
