"""Classifier settings, data paths, the result types and `clip`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COMPLEXITIES = ("low", "medium", "high")

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
MODEL_PATH = DATA_DIR / "classifier_model.json"
TRAIN_PATH = DATA_DIR / "classifier_train.jsonl"
EVAL_PATH = DATA_DIR / "classifier_eval.jsonl"

FORMAT_VERSION = 2
# A rule decides only when it is confident and no other task type's rule is close behind.
RULE_THRESHOLD = 0.85
RULE_MARGIN = 0.05
# Long pastes carry the ask at the start or the end; the middle is context. Capping both views
# keeps a 100 KB prompt as cheap as a 2 KB one.
RULE_CLIP = (600, 300)
MODEL_CLIP = (1500, 500)

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 4)
WORD_MAX_FEATURES = 5000
CHAR_MAX_FEATURES = 5000
# The instruction names the deliverable; pasted material only adds topic words. The ask blocks
# repeat the word and char features over the first and last sentence alone, so "summarize"
# after a page of figures weighs as much as it does in a one-line prompt.
ASK_WORD_MAX_FEATURES = 2000
ASK_CHAR_MAX_FEATURES = 2000
ASK_SENTENCE_CHARS = 200
# wordllama's static embedding (the one the answer cache ships with) of the instruction part,
# scaled against the TF-IDF blocks: it carries what the ask means beyond its exact words, which
# helps most on phrasings the training rows never used. Embedding the instruction alone keeps
# it near 100 µs; the whole model text costs 700 µs on a long paste and scored no better.
EMBEDDING_DIM = 256
EMBEDDING_SCALE = 0.5
REGULARIZATION_C = 10.0
WORD_PATTERN = r"(?u)\b\w\w+\b"


@dataclass(frozen=True)
class Classification:
    task_type: str
    complexity: str
    language: str
    needs_images: bool
    input_tokens: int
    confidence: float
    source: str


@dataclass(frozen=True)
class Verdict:
    task_type: str
    confidence: float
    source: str


def clip(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + " " + text[-tail:]
