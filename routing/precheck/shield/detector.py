"""The shield's second stage: a learned detector over word and character n-grams.

A TF-IDF (word 1-2 + char_wb 1-3) logistic regression, trained by `manage.py train_shield` and
shipped as JSON next to its training file, run here with numpy as the classifier's model is
(no scikit-learn, no pickle, no download). It reads what a model provider would: the prompt,
the prompt with its obfuscation undone (`normalize.unmask`) and the payloads the normalizer
decoded. Its probability is calibrated on family-held-out folds at training time: at or above
`block_at` the prompt is blocked, at or above `flag_at` flagged.

The explanation is the score and the n-grams that pushed it up most. Those are pieces of the
prompt, so they stay in the in-memory verdict and are never recorded or logged.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.precheck.classifier.base import WORD_PATTERN, clip
from routing.precheck.classifier.model import CharGramIndex, decode_array, tfidf
from routing.precheck.normalize import NormalizedPrompt, unmask
from routing.precheck.shield.ngrams import CharTables, WordTables

MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "shield" / "detector_model.json"
FORMAT_VERSION = 1
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 3)
# What the detector reads of a long prompt first: the ask usually sits at the start or the end.
TEXT_CLIP = (1000, 300)
DECODED_CLIP = 500
TOP_FEATURES = 3
# Scores or contributions closer than this are treated as a tie: which view or n-gram comes
# first is then settled by the reference computation, whose order it is.
_TIE = 1e-12
_WORD_RE = re.compile(WORD_PATTERN)
# The middle of a longer prompt, in windows scored on their own (bounded: the cost of a 10 KB
# prompt is that of a few short ones).
WINDOW_CHARS = 800
MAX_WINDOWS = 2
# Separates the windows inside the detector's text; normalisation removes control
# characters, and the prompt's own are dropped here, so a prompt cannot add windows.
WINDOW_MARK = "\x1e"


def detector_text(
    prompt: NormalizedPrompt, unmasked: str | None = None, *, windows: bool = True
) -> str:
    """The text the detector scores, in training and at run time alike; `unmasked` is
    `unmask(prompt.text)` when the caller has it already. Training reads the first view
    only (`windows=False`): the windows are the same model applied to more of the prompt."""
    if unmasked is None:
        unmasked = unmask(prompt.text)
    # The unmasked view is the text with its disguise taken off; the n-grams are lower-cased
    # either way, so it stands in for the original rather than doubling the work.
    source = (unmasked or prompt.text).replace(WINDOW_MARK, " ")
    parts = [clip(source, *TEXT_CLIP)]
    parts.extend(payload[:DECODED_CLIP] for payload in prompt.decoded[:4])
    text = "\n".join(parts)
    if windows:
        text += "".join(WINDOW_MARK + window for window in middle_windows(source))
    return text


def middle_windows(text: str) -> list[str]:
    """Up to MAX_WINDOWS windows of what the head-and-tail view leaves out, evenly spaced."""
    head, tail = TEXT_CLIP
    middle = text[head : len(text) - tail]
    if len(text) <= head + tail or not middle:
        return []
    count = min(MAX_WINDOWS, -(-len(middle) // WINDOW_CHARS))
    if count == 1:
        return [middle[:WINDOW_CHARS]]
    step = (len(middle) - WINDOW_CHARS) / (count - 1)
    return [middle[round(i * step) : round(i * step) + WINDOW_CHARS] for i in range(count)]


class _CharIndex(CharGramIndex):
    """The classifier's exact char n-gram counter with a direct table from code point to
    digit (the Basic Multilingual Plane) instead of a search per character."""

    def __init__(self, vocabulary: Sequence[str], ngrams: tuple[int, int]) -> None:
        # The parent's constructor encodes the vocabulary through `_digits`: the table first,
        # from the same sorted alphabet the parent builds.
        alphabet = np.array(sorted({ord(char) for term in vocabulary for char in term}))
        inside = alphabet < 0x10000
        self.table = np.zeros(0x10000, dtype=np.int64)
        self.table[alphabet[inside]] = np.flatnonzero(inside) + 1
        self.astral = bool((~inside).any())
        super().__init__(vocabulary, ngrams)

    def _digits(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        if self.astral or (len(points) and points.max() >= 0x10000):
            return super()._digits(text)
        result: np.ndarray = self.table[points]
        return result


@dataclass(frozen=True)
class DetectorScore:
    probability: float
    features: tuple[str, ...]  # the n-grams that raised the score most (prompt text: not logged)


@dataclass(frozen=True)
class Detector:
    word_vocabulary: dict[str, int]
    bigram_starts: frozenset[str]
    word_terms: tuple[str, ...]
    char_terms: tuple[str, ...]
    char_index: CharGramIndex
    word_idf: np.ndarray
    char_idf: np.ndarray
    weights: np.ndarray  # word block first, then char block
    intercept: float
    block_at: float
    flag_at: float
    training_sha256: str
    word_tables: WordTables
    char_tables: CharTables
    idf: np.ndarray  # word block first, then char block, then 0 for any other n-gram
    padded_weights: np.ndarray  # `weights` and 0 for any other n-gram

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any]) -> Detector:
        if artifact.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"detector artifact format {artifact.get('format_version')!r}")
        word, char = artifact["word"], artifact["char"]
        settings = (word["ngram_range"], char["ngram_range"], artifact["text_clip"])
        if settings != (list(WORD_NGRAMS), list(CHAR_NGRAMS), list(TEXT_CLIP)):
            raise ValueError("detector artifact was trained with other feature settings")
        thresholds = artifact["thresholds"]
        words, chars = len(word["vocabulary"]), len(char["vocabulary"])
        word_idf, char_idf = decode_array(word["idf"]), decode_array(char["idf"])
        weights = decode_array(artifact["coef"]).reshape(-1)
        return cls(
            word_vocabulary={term: i for i, term in enumerate(word["vocabulary"])},
            bigram_starts=frozenset(t.split(" ")[0] for t in word["vocabulary"] if " " in t),
            word_terms=tuple(word["vocabulary"]),
            char_terms=tuple(char["vocabulary"]),
            char_index=_CharIndex(char["vocabulary"], CHAR_NGRAMS),
            word_idf=word_idf,
            char_idf=char_idf,
            weights=weights,
            intercept=float(artifact["intercept"]),
            block_at=float(thresholds["block"]),
            flag_at=float(thresholds["flag"]),
            training_sha256=artifact["training_sha256"],
            word_tables=WordTables(word["vocabulary"], missing=words + chars),
            char_tables=CharTables(char["vocabulary"], first=words, missing=words + chars),
            # The column past the vocabulary, of every other n-gram, weighs nothing.
            idf=np.concatenate([word_idf, char_idf, [0.0]]),
            padded_weights=np.append(weights, 0.0),
        )

    def score(self, text: str, *, explain: bool = True) -> DetectorScore:
        """The highest score of the text's views (see `detector_text`), equal to
        `reference_score`: every view is counted and scored in one batch of array operations."""
        views = text.split(WINDOW_MARK, MAX_WINDOWS + 1)[: MAX_WINDOWS + 1]
        view, column, contributions = self._contributions(views)
        logits = np.bincount(view, contributions, minlength=len(views)) + self.intercept
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        best = int(np.argmax(probabilities))
        if len(views) > 1 and np.sort(probabilities)[-2] > probabilities[best] - _TIE:
            return self.reference_score(text, explain=explain)
        features: tuple[str, ...] = ()
        if explain:
            mine = view == best
            features = self._top_features(views[best], column[mine], contributions[mine])
        return DetectorScore(float(probabilities[best]), features)

    def _contributions(self, views: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per n-gram present in some view: the view, its column and its term of the logit."""
        lowered = [view.lower() for view in views]
        missing = len(self.weights)
        width = missing + 1
        keys = np.concatenate(
            [self.word_tables.keys(lowered, width), self.char_tables.keys(lowered, width)]
        )
        counts = np.bincount(keys, minlength=len(views) * width)
        found = np.flatnonzero(counts > 0)  # several times faster than on the counts
        view, column = np.divmod(found, width)
        values = (np.log(counts[found]) + 1.0) * self.idf[column]
        # L2 norm per view and block (word, char), as `tfidf` does per block.
        block = view * 2 + (column >= len(self.word_terms))
        norms = np.sqrt(np.bincount(block, values * values, minlength=2 * len(views)))
        norms[norms == 0] = 1.0
        return view, column, values / norms[block] * self.padded_weights[column]

    def _top_features(
        self, view: str, columns: np.ndarray, contributions: np.ndarray
    ) -> tuple[str, ...]:
        raising = contributions > 0
        columns, contributions = columns[raising], contributions[raising]
        order = np.argsort(-contributions, kind="stable")[: TOP_FEATURES + 1]
        ranked = contributions[order]
        if len(ranked) > 1 and (np.diff(ranked) > -_TIE * ranked[:-1]).any():
            return self._score_one(view, explain=True).features
        return tuple(self._term(int(c)) for c in columns[order[:TOP_FEATURES]])

    def reference_score(self, text: str, *, explain: bool = True) -> DetectorScore:
        """`score` computed view by view with the classifier's helpers: the definition the
        batched path is held to, and its answer when views or n-grams tie."""
        views = text.split(WINDOW_MARK, MAX_WINDOWS + 1)[: MAX_WINDOWS + 1]
        scores = [self._score_one(view, explain) for view in views]
        return max(scores, key=lambda scored: scored.probability)

    def _score_one(self, text: str, explain: bool) -> DetectorScore:
        found = self._word_counts(text)
        word_cols = np.fromiter(found.keys(), dtype=np.intp, count=len(found))
        word_counts = np.fromiter(found.values(), dtype=np.float64, count=len(found))
        char_cols, char_counts = self.char_index.count(text)
        values = np.concatenate(
            [
                tfidf(word_counts, self.word_idf[word_cols]),
                tfidf(char_counts, self.char_idf[char_cols]),
            ]
        )
        cols = np.concatenate([word_cols, char_cols + len(self.word_terms)])
        contributions = values * self.weights[cols]
        logit = float(contributions.sum()) + self.intercept
        probability = 1.0 / (1.0 + np.exp(-logit))
        features: tuple[str, ...] = ()
        if explain and len(cols):
            top = np.argsort(contributions)[::-1][:TOP_FEATURES]
            features = tuple(self._term(int(cols[i])) for i in top if contributions[i] > 0)
        return DetectorScore(float(probability), features)

    def _word_counts(self, text: str) -> Counter[int]:
        """Vocabulary columns of the text's word 1-2-grams (as `word_ngrams`), building a
        bigram's string only when its first word starts some bigram of the vocabulary."""
        vocabulary, starts = self.word_vocabulary, self.bigram_starts
        tokens = _WORD_RE.findall(text.lower())
        found = Counter(col for col in map(vocabulary.get, tokens) if col is not None)
        pairs = (
            vocabulary.get(f"{left} {right}")
            for left, right in zip(tokens, tokens[1:], strict=False)
            if left in starts
        )
        found.update(col for col in pairs if col is not None)
        return found

    def _term(self, column: int) -> str:
        if column < len(self.word_terms):
            return self.word_terms[column]
        return self.char_terms[column - len(self.word_terms)]


@functools.cache
def load_detector(path: Path = MODEL_PATH) -> Detector:
    """The shipped detector, read once per process."""
    return Detector.from_artifact(json.loads(path.read_text(encoding="utf-8")))
