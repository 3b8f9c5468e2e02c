"""`manage.py train_classifier`: writes a loadable, versioned artifact. No database needed."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from routing.precheck.classifier import (
    FORMAT_VERSION,
    TASK_TYPES,
    TRAIN_PATH,
    LinearModel,
    load_model,
    load_rows,
)


def test_command_writes_an_artifact_that_loads_and_matches_the_shipped_one(
    tmp_path: Path,
) -> None:
    out = tmp_path / "models" / "classifier_model.json"

    call_command("train_classifier", "--out", str(out), stdout=StringIO())

    artifact = json.loads(out.read_text(encoding="utf-8"))
    model = LinearModel.from_artifact(artifact)
    assert artifact["format_version"] == FORMAT_VERSION
    assert model.training_sha256 == hashlib.sha256(TRAIN_PATH.read_bytes()).hexdigest()
    assert sorted(model.classes) == sorted(TASK_TYPES)
    assert model.predict("Translate 'thank you' into German.") == load_model().predict(
        "Translate 'thank you' into German."
    )


def test_command_trains_on_another_file_and_records_its_hash(tmp_path: Path) -> None:
    rows = [row for task in TASK_TYPES for row in _first(load_rows(TRAIN_PATH), task, 6)]
    data = tmp_path / "small.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "small_model.json"

    call_command("train_classifier", "--data", str(data), "--out", str(out), stdout=StringIO())

    artifact = json.loads(out.read_text(encoding="utf-8"))
    assert artifact["training_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert artifact["training_rows"] == len(rows)
    assert LinearModel.from_artifact(artifact).predict("Hello!")[0] in TASK_TYPES


def _first(rows: list[dict[str, str]], task: str, count: int) -> list[dict[str, str]]:
    return [row for row in rows if row["task_type"] == task][:count]
