"""`manage.py train_shield`: rebuild the learned detector's training file and artifact.

Reads the seeds in `routing/data/shield/seeds.json` and the public sets under the datasets
directory (`../shared/datasets` next to the checkout, or SWITCHBOARD_DATASETS), writes the
training rows to `routing/data/shield/train.jsonl` and the detector, whose artifact records
that file's SHA-256. Deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.precheck.shield.corpus import TRAIN_PATH, build_rows, datasets_dir, load_train_rows
from routing.precheck.shield.detector import MODEL_PATH
from routing.precheck.shield.training import dump_artifact, train_detector


class Command(BaseCommand):
    help = "Build the shield detector's training rows and train the detector (JSON artifact)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--datasets", type=Path, default=None, help="public datasets folder")
        parser.add_argument(
            "--from-file",
            action="store_true",
            help="train on the existing training file instead of rebuilding it",
        )
        parser.add_argument("--data", type=Path, default=TRAIN_PATH, help="training JSONL file")
        parser.add_argument("--out", type=Path, default=MODEL_PATH, help="artifact to write")

    def handle(
        self, *args: Any, datasets: Path | None, data: Path, out: Path, **options: Any
    ) -> None:
        if not options["from_file"]:
            source = datasets or datasets_dir()
            if not source.is_dir():
                raise CommandError(f"--datasets: {source} is not a directory")
            rows = build_rows(source)
            data.parent.mkdir(parents=True, exist_ok=True)
            data.write_text("".join(row.as_json() + "\n" for row in rows), encoding="utf-8")
        rows = load_train_rows(data)
        digest = hashlib.sha256(data.read_bytes()).hexdigest()
        artifact = train_detector(rows, training_sha256=digest)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dump_artifact(artifact), encoding="utf-8")
        if options["verbosity"] > 0:
            thresholds = artifact["thresholds"]
            self.stdout.write(
                f"Trained on {len(rows)} rows; block at {thresholds['block']:.3f}, flag at "
                f"{thresholds['flag']:.3f}; wrote {out} ({out.stat().st_size // 1024} KB)"
            )
