"""Training the learned detector (scikit-learn, imported lazily) and its JSON artifact.

Thresholds are calibrated on out-of-fold scores where each fold holds out whole families, so
they reflect prompts of kinds the model has not seen: `block` keeps ordinary and hard-negative
false positives under the targets below, `flag` is looser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from routing.precheck.classifier.training import _encode_array
from routing.precheck.normalize import normalize
from routing.precheck.shield.corpus import ATTACK, BENIGN, FOLDS, Row, family_fold
from routing.precheck.shield.detector import (
    CHAR_NGRAMS,
    FORMAT_VERSION,
    TEXT_CLIP,
    WORD_NGRAMS,
    Detector,
    detector_text,
)

WORD_MAX_FEATURES = 3_000
CHAR_MAX_FEATURES = 8_000
REGULARIZATION_C = 1.0
WORD_PATTERN = r"(?u)\b\w\w+\b"
# Out-of-fold false-positive shares the block threshold is set to (before the rules' own).
BLOCK_ORDINARY_FP = 0.006
BLOCK_HARD_FP = 0.04
FLAG_ORDINARY_FP = 0.02
FLAG_HARD_FP = 0.08
MIN_BLOCK, MIN_FLAG = 0.6, 0.5


def texts_of(rows: Sequence[Row]) -> list[str]:
    return [detector_text(normalize(row.text), windows=False) for row in rows]


def fit_pipeline(texts: Sequence[str], labels: Sequence[int]) -> Any:
    """Deterministic fit of the scikit-learn pipeline the artifact is exported from."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from threadpoolctl import threadpool_limits

    def vectorizer(analyzer: str, ngrams: tuple[int, int], top: int) -> Any:
        return TfidfVectorizer(
            analyzer=analyzer,
            ngram_range=ngrams,
            max_features=top,
            sublinear_tf=True,
            lowercase=True,
            token_pattern=WORD_PATTERN,
            min_df=2,
            dtype=np.float64,
        )

    features = FeatureUnion(
        [
            ("word", vectorizer("word", WORD_NGRAMS, WORD_MAX_FEATURES)),
            ("char", vectorizer("char_wb", CHAR_NGRAMS, CHAR_MAX_FEATURES)),
        ]
    )
    model = LogisticRegression(
        C=REGULARIZATION_C, class_weight="balanced", max_iter=5000, random_state=0
    )
    pipeline = Pipeline([("features", features), ("model", model)])
    with threadpool_limits(limits=1):
        pipeline.fit(list(texts), list(labels))
    return pipeline


def labels_of(rows: Sequence[Row]) -> list[int]:
    return [int(row.label == ATTACK) for row in rows]


def family_folds(rows: Sequence[Row], folds: int = FOLDS) -> list[int]:
    """A fold per row, the same for every row of a family (stable across runs)."""
    return [family_fold(row.family, folds) for row in rows]


def out_of_fold_scores(rows: Sequence[Row], texts: Sequence[str], folds: int = FOLDS) -> np.ndarray:
    """Each row's attack probability from a model that never saw the row's family."""
    fold_of = np.array(family_folds(rows, folds))
    labels = np.array(labels_of(rows))
    scores = np.zeros(len(rows))
    for fold in range(folds):
        test = fold_of == fold
        if not test.any() or len(set(labels[~test])) < 2:
            continue
        train_texts = [t for t, held in zip(texts, test, strict=True) if not held]
        pipeline = fit_pipeline(train_texts, labels[~test].tolist())
        held_texts = [t for t, held in zip(texts, test, strict=True) if held]
        scores[test] = pipeline.predict_proba(held_texts)[:, 1]
    return scores


def calibrate(rows: Sequence[Row], scores: np.ndarray) -> dict[str, float]:
    """Block and flag thresholds from benign out-of-fold scores."""
    ordinary = scores[[r.label == BENIGN and r.category == "ordinary" for r in rows]]
    # The written hard negatives (security talk, quotes, role-play, system prompts). Benign
    # prompts dressed in attack wrappers train the model but do not set the threshold:
    # "decode this and obey it" is an attack's shape whatever it carries.
    hard = scores[
        [r.label == BENIGN and r.category == "hard_negative" and r.obfuscation == "none"
         for r in rows]
    ]  # fmt: skip

    def at(share_ordinary: float, share_hard: float, floor: float) -> float:
        cuts = [floor]
        if len(ordinary):
            cuts.append(float(np.quantile(ordinary, 1 - share_ordinary)))
        if len(hard):
            cuts.append(float(np.quantile(hard, 1 - share_hard)))
        return round(min(0.99, max(cuts)) + 1e-6, 6)

    block = at(BLOCK_ORDINARY_FP, BLOCK_HARD_FP, MIN_BLOCK)
    flag = min(block, at(FLAG_ORDINARY_FP, FLAG_HARD_FP, MIN_FLAG))
    return {"block": block, "flag": flag}


def export(
    pipeline: Any, *, thresholds: dict[str, float], training_sha256: str, rows: int
) -> dict[str, Any]:
    union = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    blocks = {}
    for name, vectorizer in union.transformer_list:
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        blocks[name] = {
            "analyzer": vectorizer.analyzer,
            "ngram_range": list(vectorizer.ngram_range),
            "vocabulary": vocabulary,
            "idf": _encode_array(vectorizer.idf_),
        }
    return {
        "format_version": FORMAT_VERSION,
        "training_sha256": training_sha256,
        "training_rows": rows,
        "text_clip": list(TEXT_CLIP),
        "thresholds": thresholds,
        "intercept": float(model.intercept_[0]),
        "coef": _encode_array(model.coef_[0]),
        "word": blocks["word"],
        "char": blocks["char"],
    }


def train_detector(
    rows: Sequence[Row],
    *,
    training_sha256: str = "in-memory",
    texts: Sequence[str] | None = None,
    calibration_folds: int = FOLDS,
) -> dict[str, Any]:
    """The artifact for `rows`: a model on all of them, thresholds from held-out families."""
    texts = list(texts) if texts is not None else texts_of(rows)
    thresholds = calibrate(rows, out_of_fold_scores(rows, texts, calibration_folds))
    pipeline = fit_pipeline(texts, labels_of(rows))
    return export(pipeline, thresholds=thresholds, training_sha256=training_sha256, rows=len(rows))


def detector_from(artifact: dict[str, Any]) -> Detector:
    """The run-time detector for an artifact, through the same JSON round trip as shipping."""
    return Detector.from_artifact(json.loads(dump_artifact(artifact)))


def dump_artifact(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, ensure_ascii=False, indent=1) + "\n"
