"""Training with scikit-learn (imported lazily) and the JSON artifact it exports."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from routing.precheck.classifier.base import (
    ASK_CHAR_MAX_FEATURES,
    ASK_WORD_MAX_FEATURES,
    CHAR_MAX_FEATURES,
    CHAR_NGRAMS,
    COMPLEXITIES,
    EMBEDDING_DIM,
    EMBEDDING_SCALE,
    FORMAT_VERSION,
    MODEL_CLIP,
    REGULARIZATION_C,
    WORD_MAX_FEATURES,
    WORD_NGRAMS,
    WORD_PATTERN,
)
from routing.precheck.classifier.model import (
    BLOCKS,
    instruction_vectors,
    lowered_instruction,
    model_text,
)
from routing.types import TASK_TYPES

# --- Training and the artifact -----------------------------------------------------------------


def load_rows(path: Path) -> list[dict[str, str]]:
    """Labelled JSONL rows ({"text", "task_type", "complexity"}), validated."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for number, row in enumerate(rows, start=1):
        if row.get("task_type") not in TASK_TYPES or row.get("complexity") not in COMPLEXITIES:
            raise ValueError(f"{path.name}:{number}: bad task_type or complexity")
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise ValueError(f"{path.name}:{number}: empty text")
    return rows


def rows_sha256(rows: Iterable[Mapping[str, str]]) -> str:
    """SHA-256 of rows in the canonical JSONL form the training file is kept in."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update((json.dumps(dict(row), ensure_ascii=False) + "\n").encode())
    return digest.hexdigest()


def fit_pipeline(rows: Sequence[Mapping[str, str]]) -> Any:
    """Fit the scikit-learn pipeline the artifact is exported from (deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from threadpoolctl import threadpool_limits

    features = FeatureUnion(
        [
            ("word", _vectorizer("word", WORD_NGRAMS, WORD_MAX_FEATURES)),
            ("char", _vectorizer("char_wb", CHAR_NGRAMS, CHAR_MAX_FEATURES)),
            ("ask_word", _vectorizer("word", WORD_NGRAMS, ASK_WORD_MAX_FEATURES, ask=True)),
            ("ask_char", _vectorizer("char_wb", CHAR_NGRAMS, ASK_CHAR_MAX_FEATURES, ask=True)),
            ("embedding", FunctionTransformer(instruction_vectors)),
        ]
    )
    model = LogisticRegression(C=REGULARIZATION_C, max_iter=5000, random_state=0)
    pipeline = Pipeline([("features", features), ("model", model)])
    # One BLAS thread: summation order, and so the last bits of the weights, stay reproducible.
    with threadpool_limits(limits=1):
        pipeline.fit([model_text(row["text"]) for row in rows], [row["task_type"] for row in rows])
    return pipeline


def _vectorizer(
    analyzer: str, ngrams: tuple[int, int], max_features: int, *, ask: bool = False
) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        preprocessor=lowered_instruction if ask else None,
        analyzer=analyzer,
        ngram_range=ngrams,
        max_features=max_features,
        sublinear_tf=True,
        lowercase=True,
        token_pattern=WORD_PATTERN,
        dtype=np.float64,
    )


def export_pipeline(pipeline: Any, *, training_sha256: str, training_rows: int) -> dict[str, Any]:
    """Everything inference needs, as plain JSON (float64 arrays base64-encoded, exact)."""
    union = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    blocks: dict[str, Any] = {
        "embedding": {"analyzer": "embedding", "dim": EMBEDDING_DIM, "scale": EMBEDDING_SCALE}
    }
    for name, vectorizer in union.transformer_list:
        if name == "embedding":
            continue
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        blocks[name] = {
            "analyzer": vectorizer.analyzer,
            "ngram_range": list(vectorizer.ngram_range),
            "sublinear_tf": vectorizer.sublinear_tf,
            "vocabulary": vocabulary,
            "idf": _encode_array(vectorizer.idf_),
        }
    return {
        "format_version": FORMAT_VERSION,
        "training_sha256": training_sha256,
        "training_rows": training_rows,
        "model_clip": list(MODEL_CLIP),
        "classes": [str(label) for label in model.classes_],
        "intercept": [float(value) for value in model.intercept_],
        "coef": _encode_array(model.coef_),
        **{name: blocks[name] for name in BLOCKS},
    }


def train(
    rows: Sequence[Mapping[str, str]], *, training_sha256: str | None = None
) -> dict[str, Any]:
    """Train on labelled rows and return the JSON-ready artifact; same rows, same artifact.

    `training_sha256` defaults to the hash of the rows in canonical JSONL, which is the training
    file's own SHA-256 as long as the file is kept in that form; the command passes the file's.
    """
    digest = training_sha256 or rows_sha256(rows)
    return export_pipeline(fit_pipeline(rows), training_sha256=digest, training_rows=len(rows))


def dump_artifact(artifact: Mapping[str, Any]) -> str:
    return json.dumps(artifact, ensure_ascii=False, indent=1) + "\n"


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f8")
    return {
        "dtype": "<f8",
        "shape": list(data.shape),
        "data": base64.b64encode(data.tobytes()).decode(),
    }
