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
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.precheck.classifier.base import clip
from routing.precheck.classifier.model import CharGramIndex, decode_array, tfidf, word_ngrams
from routing.precheck.normalize import NormalizedPrompt, unmask

MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "shield" / "detector_model.json"
FORMAT_VERSION = 1
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 3)
# What the detector reads of a long prompt: the ask sits at the start or the end.
TEXT_CLIP = (1000, 300)
DECODED_CLIP = 500
TOP_FEATURES = 3


def detector_text(prompt: NormalizedPrompt, unmasked: str | None = None) -> str:
    """The text the detector scores, in training and at run time alike; `unmasked` is
    `unmask(prompt.text)` when the caller has it already."""
    if unmasked is None:
        unmasked = unmask(prompt.text)
    # The unmasked view is the text with its disguise taken off; the n-grams are lower-cased
    # either way, so it stands in for the original rather than doubling the work.
    parts = [clip(unmasked or prompt.text, *TEXT_CLIP)]
    parts.extend(payload[:DECODED_CLIP] for payload in prompt.decoded[:4])
    return "\n".join(parts)


@dataclass(frozen=True)
class DetectorScore:
    probability: float
    features: tuple[str, ...]  # the n-grams that raised the score most (prompt text: not logged)


@dataclass(frozen=True)
class Detector:
    word_vocabulary: dict[str, int]
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

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any]) -> Detector:
        if artifact.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"detector artifact format {artifact.get('format_version')!r}")
        word, char = artifact["word"], artifact["char"]
        settings = (word["ngram_range"], char["ngram_range"], artifact["text_clip"])
        if settings != (list(WORD_NGRAMS), list(CHAR_NGRAMS), list(TEXT_CLIP)):
            raise ValueError("detector artifact was trained with other feature settings")
        thresholds = artifact["thresholds"]
        return cls(
            word_vocabulary={term: i for i, term in enumerate(word["vocabulary"])},
            word_terms=tuple(word["vocabulary"]),
            char_terms=tuple(char["vocabulary"]),
            char_index=CharGramIndex(char["vocabulary"], CHAR_NGRAMS),
            word_idf=decode_array(word["idf"]),
            char_idf=decode_array(char["idf"]),
            weights=decode_array(artifact["coef"]).reshape(-1),
            intercept=float(artifact["intercept"]),
            block_at=float(thresholds["block"]),
            flag_at=float(thresholds["flag"]),
            training_sha256=artifact["training_sha256"],
        )

    def score(self, text: str, *, explain: bool = True) -> DetectorScore:
        lookup = map(self.word_vocabulary.get, word_ngrams(text))
        found = Counter(col for col in lookup if col is not None)
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

    def _term(self, column: int) -> str:
        if column < len(self.word_terms):
            return self.word_terms[column]
        return self.char_terms[column - len(self.word_terms)]


@functools.cache
def load_detector(path: Path = MODEL_PATH) -> Detector:
    """The shipped detector, read once per process."""
    return Detector.from_artifact(json.loads(path.read_text(encoding="utf-8")))
