"""Lookup tables that turn a batch of texts into the detector's feature counts in numpy.

The detector scores up to three views of a prompt; all of them are counted in one pass: each
view's n-grams become `view * width + column` keys (column `width - 1` for an n-gram outside
the vocabulary) and one `bincount` gives every view's counts. Semantics are those of
`classifier.model`: word 1-2-grams of `WORD_PATTERN` tokens of the lower-cased text, char_wb
1-3-grams with words joined by two spaces (an n-gram across words holds "  ", which no
vocabulary entry does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat

import numpy as np

# The tokens of WORD_PATTERN (r"(?u)\b\w\w+\b"): every maximal run of two or more word
# characters. A greedy scan only ever starts a match at the start of a run, so the word
# boundaries are implied, and the scan is about a third faster without them.
_TOKEN_RE = re.compile(r"\w\w+")
_BMP = 0x10000


class CharTables:
    """char_wb 1-3-gram columns by direct table lookups: a digit per vocabulary character
    (0 for any other), then a table per length indexed by digits (trigrams through the id of
    their first two characters, so the table stays small)."""

    def __init__(self, vocabulary: Sequence[str], first: int, missing: int) -> None:
        """Columns are `first` + the term's index; `missing` is the column of anything else."""
        if any(len(term) not in (1, 2, 3) for term in vocabulary):
            raise ValueError("char vocabulary must hold 1-3-grams")
        alphabet = sorted({ord(char) for term in vocabulary for char in term})
        self.base = base = len(alphabet) + 1
        digit = {point: i + 1 for i, point in enumerate(alphabet)}
        self.table = np.zeros(_BMP + 1, dtype=np.intp)
        self.astral = {p: d for p, d in digit.items() if p >= _BMP}
        for point, d in digit.items():
            if point < _BMP:
                self.table[point] = d
        # A character outside the alphabet, to separate the views.
        self.separator = next(chr(p) for p in range(1, _BMP) if p not in digit and chr(p) != " ")
        prefixes = sorted({term[:2] for term in vocabulary if len(term) == 3})
        prefix_id = {pair: i + 1 for i, pair in enumerate(prefixes)}
        self.unigrams = np.full(base, missing, dtype=np.intp)
        self.bigrams = np.full(base * base, missing, dtype=np.intp)
        self.prefix = np.zeros(base * base, dtype=np.intp)
        self.trigrams = np.full((len(prefixes) + 1) * base, missing, dtype=np.intp)
        for pair, i in prefix_id.items():
            self.prefix[digit[ord(pair[0])] * base + digit[ord(pair[1])]] = i
        for column, term in enumerate(vocabulary, start=first):
            digits = [digit[ord(char)] for char in term]
            if len(digits) == 1:
                self.unigrams[digits[0]] = column
            elif len(digits) == 2:
                self.bigrams[digits[0] * base + digits[1]] = column
            else:
                self.trigrams[prefix_id[term[:2]] * base + digits[2]] = column

    def keys(self, lowered: Sequence[str], width: int) -> np.ndarray:
        """`view * width + column` of every char n-gram of the lower-cased views."""
        padded = [" " + "  ".join(view.split()) + " " for view in lowered]
        joined = self.separator.join(padded)
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        digits = self.table[np.minimum(points, _BMP)]
        if self.astral and len(points) and points.max() >= _BMP:
            digits = digits.copy()
            for i in np.flatnonzero(points >= _BMP):
                digits[i] = self.astral.get(int(points[i]), 0)
        lengths = [len(view) + 1 for view in padded]
        offsets = np.repeat(np.arange(len(padded), dtype=np.intp) * width, lengths)[: len(digits)]
        pairs = digits[:-1] * self.base + digits[1:]
        prefixes = self.prefix[pairs[:-1]] * self.base + digits[2:]
        return np.concatenate(
            [
                self.unigrams[digits] + offsets,
                self.bigrams[pairs] + offsets[:-1],
                self.trigrams[prefixes] + offsets[:-2],
            ]
        )


class WordTables:
    """Word 1-2-gram columns: tokens to ids by one dict (0 for a token no entry holds), then
    a table for unigrams and sorted pair codes for bigrams."""

    def __init__(self, vocabulary: Sequence[str], missing: int) -> None:
        words = sorted({word for term in vocabulary for word in term.split(" ")})
        self.token_id = {word: i + 1 for i, word in enumerate(words)}
        self.span = len(words) + 1
        self.missing = missing
        self.unigrams = np.full(self.span, missing, dtype=np.intp)
        pair_codes, pair_columns = [], []
        for column, term in enumerate(vocabulary):
            parts = term.split(" ")
            if len(parts) == 1:
                self.unigrams[self.token_id[term]] = column
            elif len(parts) == 2:
                pair_codes.append(self.token_id[parts[0]] * self.span + self.token_id[parts[1]])
                pair_columns.append(column)
            else:
                raise ValueError("word vocabulary must hold 1-2-grams")
        order = np.argsort(pair_codes)
        # A sentinel past every code keeps `searchsorted` inside the array.
        self.pair_codes = np.append(np.asarray(pair_codes, dtype=np.intp)[order], self.span**2)
        self.pair_columns = np.append(np.asarray(pair_columns, dtype=np.intp)[order], missing)

    def keys(self, lowered: Sequence[str], width: int) -> np.ndarray:
        """`view * width + column` of every word n-gram of the lower-cased views; the views'
        tokens are joined by id 0, so no bigram spans two views."""
        get = self.token_id.get
        ids: list[int] = []
        lengths: list[int] = []
        for text in lowered:
            tokens = _TOKEN_RE.findall(text)
            ids += map(get, tokens, repeat(0))
            ids.append(0)
            lengths.append(len(tokens) + 1)
        token_ids = np.array(ids, dtype=np.intp)
        at = np.repeat(np.arange(len(lengths), dtype=np.intp) * width, lengths)
        codes = token_ids[:-1] * self.span + token_ids[1:]
        slots = np.searchsorted(self.pair_codes, codes)
        pairs = np.where(self.pair_codes[slots] == codes, self.pair_columns[slots], self.missing)
        return np.concatenate([self.unigrams[token_ids] + at, pairs + at[:-1]])
