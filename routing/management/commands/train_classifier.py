"""`manage.py train_classifier`: retrain the precheck task-type model and write its JSON artifact.

Deterministic: the same training file gives a byte-identical artifact, so the artifact can live
in git next to the data it was trained on (the artifact records the file's SHA-256).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routing.precheck.classifier import MODEL_PATH, TRAIN_PATH, dump_artifact, load_rows, train
from routing.precheck.classifier.model import BLOCKS


class Command(BaseCommand):
    help = "Train the precheck prompt classifier from labelled JSONL and write the JSON artifact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, default=TRAIN_PATH, help="labelled JSONL file")
        parser.add_argument("--out", type=Path, default=MODEL_PATH, help="artifact to write")

    def handle(self, *args: Any, data: Path, out: Path, **options: Any) -> None:
        rows = load_rows(data)
        artifact = train(rows, training_sha256=hashlib.sha256(data.read_bytes()).hexdigest())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dump_artifact(artifact), encoding="utf-8")
        if options["verbosity"] > 0:
            features = sum(
                len(artifact[n].get("vocabulary", ())) or artifact[n]["dim"] for n in BLOCKS
            )
            self.stdout.write(
                f"Trained on {len(rows)} rows ({len(artifact['classes'])} task types, "
                f"{features} features); wrote {out} ({out.stat().st_size // 1024} KB)"
            )
