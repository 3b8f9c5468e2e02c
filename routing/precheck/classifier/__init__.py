"""Prompt classifier of the precheck: task type, complexity, language, images and a token estimate.

Cheap rules decide when a high-precision pattern fires; where they are unsure, a small linear
model over word and character n-grams decides. The model is trained by
`manage.py train_classifier` and shipped as JSON (vocabularies, idf, coefficients), and inference
here reproduces scikit-learn's TF-IDF + LogisticRegression scores with numpy. No LLM call, and no
Django or scikit-learn import at runtime (training imports scikit-learn lazily), so a benchmark
can run this package bare and the first call stays fast.

Layout: `base` (settings, paths, result types); `rules` (`Rule` and its cues, shared pattern
fragments, small talk) and `rule_table` (`RULES`, `rule_verdict`); `complexity`, `language`,
`images`, `tokens`; `model` (numpy inference over the artifact); `training` (scikit-learn and the
artifact). `classify`, below, puts them together.
"""

from __future__ import annotations

from routing.precheck.classifier.base import (
    CHAR_MAX_FEATURES,
    CHAR_NGRAMS,
    COMPLEXITIES,
    DATA_DIR,
    EVAL_PATH,
    FORMAT_VERSION,
    MODEL_CLIP,
    MODEL_PATH,
    REGULARIZATION_C,
    RULE_CLIP,
    RULE_MARGIN,
    RULE_THRESHOLD,
    TRAIN_PATH,
    WORD_MAX_FEATURES,
    WORD_NGRAMS,
    WORD_PATTERN,
    Classification,
    Verdict,
    clip,
)
from routing.precheck.classifier.complexity import estimate_complexity
from routing.precheck.classifier.images import _IMAGE_RULE, mentions_image
from routing.precheck.classifier.language import detect_language
from routing.precheck.classifier.model import (
    CharGramIndex,
    LinearModel,
    instruction_part,
    load_model,
    model_text,
    model_verdict,
    word_ngrams,
)
from routing.precheck.classifier.rule_table import RULES, rule_verdict
from routing.precheck.classifier.rules import PromptView, Rule, is_small_talk
from routing.precheck.classifier.tokens import estimate_tokens
from routing.precheck.classifier.training import (
    dump_artifact,
    export_pipeline,
    fit_pipeline,
    load_rows,
    rows_sha256,
    train,
)
from routing.types import TASK_TYPES

__all__ = [
    "CHAR_MAX_FEATURES",
    "CHAR_NGRAMS",
    "COMPLEXITIES",
    "DATA_DIR",
    "EVAL_PATH",
    "FORMAT_VERSION",
    "MODEL_CLIP",
    "MODEL_PATH",
    "REGULARIZATION_C",
    "RULES",
    "RULE_CLIP",
    "RULE_MARGIN",
    "RULE_THRESHOLD",
    "TASK_TYPES",
    "TRAIN_PATH",
    "WORD_MAX_FEATURES",
    "WORD_NGRAMS",
    "WORD_PATTERN",
    "CharGramIndex",
    "Classification",
    "LinearModel",
    "PromptView",
    "Rule",
    "Verdict",
    "classify",
    "clip",
    "detect_language",
    "dump_artifact",
    "estimate_complexity",
    "estimate_tokens",
    "export_pipeline",
    "fit_pipeline",
    "instruction_part",
    "is_small_talk",
    "load_model",
    "load_rows",
    "mentions_image",
    "model_text",
    "model_verdict",
    "rows_sha256",
    "rule_verdict",
    "train",
    "word_ngrams",
]


def classify(text: str, *, has_images: bool = False) -> Classification:
    """Classify a normalized prompt; never raises on odd input and never calls the network."""
    tokens = estimate_tokens(text)
    if not text.strip():
        return Classification("chat", "low", "und", has_images, tokens, 0.0, "rules")
    view = PromptView.of(text)
    verdict = rule_verdict(view) or model_verdict(model_text(text))
    complexity = estimate_complexity(view.lowered, tokens=tokens)
    return Classification(
        task_type=verdict.task_type,
        complexity=complexity,
        language=detect_language(view.text),
        needs_images=has_images or _IMAGE_RULE.fires(view),
        input_tokens=tokens,
        confidence=round(verdict.confidence, 4),
        source=verdict.source,
    )
