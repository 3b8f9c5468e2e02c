"""The learned model: numpy inference over the shipped JSON artifact."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.precheck.classifier.base import (
    ASK_SENTENCE_CHARS,
    CHAR_NGRAMS,
    EMBEDDING_DIM,
    EMBEDDING_SCALE,
    FORMAT_VERSION,
    MODEL_CLIP,
    MODEL_PATH,
    WORD_NGRAMS,
    WORD_PATTERN,
    Verdict,
    clip,
)

# --- Learned model -----------------------------------------------------------------------------

_WORD_RE = re.compile(WORD_PATTERN)


def word_ngrams(text: str) -> list[str]:
    """Same n-grams as TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True)."""
    tokens = _WORD_RE.findall(text.lower())
    return tokens + [f"{left} {right}" for left, right in zip(tokens, tokens[1:], strict=False)]


class CharGramIndex:
    """Counts a prompt's char_wb n-grams against the vocabulary in numpy, exactly.

    Each character of the vocabulary gets a digit 1..A (0 for any other character) and an n-gram
    becomes the integer n * B**N + its digits in base B = A + 1 (N the longest n-gram), so
    matching thousands of n-grams is a handful of array operations instead of thousands of
    Python string slices.

    Words are joined by two spaces, as scikit-learn pads each word with one space on either side;
    an n-gram straddling two words then contains "  ", which no vocabulary entry does, and the
    counts of the others match scikit-learn's (a word shorter than n - 2 yields no n-gram either
    way).
    """

    def __init__(self, vocabulary: Sequence[str], ngrams: tuple[int, int] = CHAR_NGRAMS) -> None:
        if not vocabulary:
            raise ValueError("empty character vocabulary")
        self.ngrams = ngrams
        self.alphabet = np.array(sorted({ord(char) for term in vocabulary for char in term}))
        self.base = len(self.alphabet) + 1
        if (ngrams[1] + 1) * self.base ** ngrams[1] >= 2**63:
            raise ValueError("character vocabulary too large for 64-bit n-gram codes")
        codes = np.array([self._codes(self._digits(term), len(term))[0] for term in vocabulary])
        order = np.argsort(codes)
        self.codes = codes[order]
        self.columns = order

    def count(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary columns present in `text` and how often each occurs."""
        digits = self._digits(" " + "  ".join(text.lower().split()) + " ")
        codes = np.concatenate([np.zeros(0, dtype=np.int64), *self._all_codes(digits)])
        # Deduplicate first: searching sorted, distinct keys is several times faster.
        codes, counts = np.unique(codes, return_counts=True)
        slots = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        found = self.codes[slots] == codes
        return self.columns[slots[found]], counts[found]

    def _digits(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        slots = np.minimum(np.searchsorted(self.alphabet, points), len(self.alphabet) - 1)
        return np.where(self.alphabet[slots] == points, slots + 1, 0).astype(np.int64)

    def _all_codes(self, digits: np.ndarray) -> list[np.ndarray]:
        """Codes of every window of every length in the n-gram range, each length's built
        from the one before (one multiply-add per length instead of one per character)."""
        low, high = self.ngrams
        codes, known = digits, digits > 0
        out = [(codes + self.base**high)[known]] if low <= 1 else []
        for n in range(2, high + 1):
            windows = len(digits) - n + 1
            if windows <= 0:
                break
            tail = digits[n - 1 :]
            codes = codes[:windows] * self.base + tail
            known = known[:windows] & (tail > 0)
            if n >= low:
                tag: int = n * self.base**high
                out.append((codes + tag)[known])
        return out

    def _codes(self, digits: np.ndarray, n: int) -> np.ndarray:
        """Codes of every length-n window that holds only vocabulary characters."""
        windows = len(digits) - n + 1
        if windows <= 0:
            return np.zeros(0, dtype=np.int64)
        codes = np.zeros(windows, dtype=np.int64)
        known = np.ones(windows, dtype=bool)
        for offset in range(n):
            window = digits[offset : offset + windows]
            codes = codes * self.base + window
            known &= window > 0
        tag: int = n * self.base ** self.ngrams[1]
        result: np.ndarray = (codes + tag)[known]
        return result


_SENTENCE_BREAK = re.compile(r"(?<=[.?!。？！])\s+|\n+")


def instruction_part(text: str) -> str:
    """The first and the last sentence (each capped): where a prompt names its deliverable,
    before or after whatever it pastes. A prompt of one or two sentences is all instruction."""
    sentences = [part.strip() for part in _SENTENCE_BREAK.split(text.strip()) if part.strip()]
    if len(sentences) <= 2:
        return " ".join(sentences)[: 2 * ASK_SENTENCE_CHARS]
    return sentences[0][:ASK_SENTENCE_CHARS] + " " + sentences[-1][:ASK_SENTENCE_CHARS]


def lowered_instruction(text: str) -> str:
    """The preprocessor of the ask blocks in training (scikit-learn then skips lowercasing)."""
    return instruction_part(text).lower()


@dataclass(frozen=True)
class WordBlock:
    vocabulary: dict[str, int]
    idf: np.ndarray

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        lookup = map(self.vocabulary.get, word_ngrams(text))
        found = Counter(col for col in lookup if col is not None)
        cols = np.fromiter(found.keys(), dtype=np.intp, count=len(found))
        counts = np.fromiter(found.values(), dtype=np.float64, count=len(found))
        return cols, tfidf(counts, self.idf[cols])

    @property
    def width(self) -> int:
        return len(self.vocabulary)


@dataclass(frozen=True)
class CharBlock:
    index: CharGramIndex
    idf: np.ndarray

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        cols, counts = self.index.count(text)
        return cols, tfidf(counts.astype(np.float64), self.idf[cols])

    @property
    def width(self) -> int:
        return len(self.idf)


@functools.cache
def _wordllama() -> Any:
    """The static embedder, loaded from its wheel's own folder with downloads off (as the answer
    cache loads it): nothing is fetched at run time."""
    import wordllama

    folder = Path(str(wordllama.__file__)).parent
    return wordllama.WordLlama.load(cache_dir=folder, disable_download=True, dim=EMBEDDING_DIM)


def sentence_vector(text: str) -> np.ndarray:
    """The embedding block of one text, the same in training and at inference."""
    # The tokenizer refuses lone surrogates; they become "?" as in any UTF-8 round trip.
    clean = text.encode("utf-8", "replace").decode("utf-8")
    vector: np.ndarray = np.asarray(_wordllama().embed([clean]), dtype=np.float64)[0]
    return vector * EMBEDDING_SCALE


def instruction_vectors(texts: Sequence[str]) -> np.ndarray:
    """The embedding block of many model texts in training: each one's instruction part, one at
    a time so each row equals what inference computes."""
    return np.vstack([sentence_vector(instruction_part(text)) for text in texts])


@dataclass(frozen=True)
class EmbeddingBlock:
    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(EMBEDDING_DIM, dtype=np.intp), sentence_vector(text)

    @property
    def width(self) -> int:
        return EMBEDDING_DIM


# Artifact block name -> whether it reads the instruction part (else the whole model text).
BLOCKS = {"word": False, "char": False, "ask_word": True, "ask_char": True, "embedding": True}


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    blocks: tuple[tuple[WordBlock | CharBlock | EmbeddingBlock, bool], ...]  # (block, on the ask?)
    weights: np.ndarray  # (n_features, n_classes): the blocks' columns in BLOCKS order
    intercept: np.ndarray
    training_sha256: str

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any]) -> LinearModel:
        if artifact.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"classifier artifact format {artifact.get('format_version')!r}")
        if not _expected_settings(artifact):
            raise ValueError("classifier artifact was trained with other feature settings")
        blocks = tuple((_block(artifact[name]), ask) for name, ask in BLOCKS.items())
        coef = decode_array(artifact["coef"])
        return cls(
            classes=tuple(artifact["classes"]),
            blocks=blocks,
            weights=np.ascontiguousarray(coef.T),
            intercept=np.asarray(artifact["intercept"], dtype=np.float64),
            training_sha256=artifact["training_sha256"],
        )

    def decision_function(self, text: str) -> np.ndarray:
        """Scores per class, equal to the scikit-learn pipeline's decision_function."""
        ask = instruction_part(text)
        all_cols, all_values, offset = [], [], 0
        for block, reads_instruction in self.blocks:
            cols, values = block.features(ask if reads_instruction else text)
            all_cols.append(cols + offset)
            all_values.append(values)
            offset += block.width
        cols = np.concatenate(all_cols)
        scores: np.ndarray = np.concatenate(all_values) @ self.weights[cols] + self.intercept
        return scores

    def predict(self, text: str) -> tuple[str, float]:
        scores = self.decision_function(text)
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        best = int(np.argmax(scores))
        return self.classes[best], float(probabilities[best])


def _expected_settings(artifact: Mapping[str, Any]) -> bool:
    expected = {"word": WORD_NGRAMS, "char": CHAR_NGRAMS, "ask_word": WORD_NGRAMS,
                "ask_char": CHAR_NGRAMS}  # fmt: skip
    if list(artifact.get("model_clip", ())) != list(MODEL_CLIP):
        return False
    embedding = artifact.get("embedding", {})
    if (embedding.get("dim"), embedding.get("scale")) != (EMBEDDING_DIM, EMBEDDING_SCALE):
        return False
    return all(
        name in artifact
        and artifact[name]["ngram_range"] == list(ngrams)
        and artifact[name]["sublinear_tf"]
        for name, ngrams in expected.items()
    )


def _block(spec: Mapping[str, Any]) -> WordBlock | CharBlock | EmbeddingBlock:
    if spec["analyzer"] == "embedding":
        _wordllama()  # loaded with the model, not on the first prompt
        return EmbeddingBlock()
    idf = decode_array(spec["idf"])
    if spec["analyzer"] == "word":
        return WordBlock({term: i for i, term in enumerate(spec["vocabulary"])}, idf)
    return CharBlock(CharGramIndex(spec["vocabulary"]), idf)


def tfidf(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """One block of TfidfVectorizer(sublinear_tf=True, norm="l2") for a single document."""
    values: np.ndarray = (np.log(counts) + 1.0) * idf
    norm = np.sqrt(values @ values)
    return values / norm if norm else values


@functools.cache
def load_model(path: Path = MODEL_PATH) -> LinearModel:
    """The shipped model, read once per process (JSON, no pickle, no scikit-learn)."""
    return LinearModel.from_artifact(json.loads(path.read_text(encoding="utf-8")))


def model_verdict(text: str) -> Verdict:
    task_type, confidence = load_model().predict(text)
    return Verdict(task_type, confidence, "model")


def model_text(text: str) -> str:
    """What the model sees of a prompt, in training and at inference alike."""
    return clip(text, *MODEL_CLIP)


def decode_array(blob: Mapping[str, Any]) -> np.ndarray:
    raw = base64.b64decode(blob["data"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"]).astype(np.float64)
