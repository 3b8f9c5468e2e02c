"""The task classifier on prompts of kinds it was not trained on.

Rows of `classifier_train.jsonl` that carry a `family` (written for generalisation: pasted
texts to extract from or classify, logic puzzles next to arithmetic word problems, every task
type in five other languages) are split by family: folds 0-1 of 5 are held out. The model is
retrained without them (*after*), or on the rows that existed before they were added, the ones
without a family (*before*), and rules + model are scored on the held-out families. A second
split retrains without one language at a time and scores that language's rows; MT-Bench and
Vicuna (never trained on) are scored with both models. The rules are the same in both.

`run()` returns a Markdown section; `python benchmarks/classifier_heldout.py` prints it.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.classifier import MTBENCH_MAPPING, VICUNA_MAPPING, macro_f1  # noqa: E402
from routing.precheck.classifier import (  # noqa: E402
    COMPLEXITIES,
    DATA_DIR,
    TASK_TYPES,
    TRAIN_PATH,
    LinearModel,
    PromptView,
    classify,
    detect_language,
    export_pipeline,
    fit_pipeline,
    model_text,
    rule_verdict,
)
from routing.precheck.shield.corpus import datasets_dir, family_fold  # noqa: E402

HELD_OUT_FOLDS = (0, 1)
LANGUAGES = ("es", "de", "fr", "ru", "zh")
TARGET_MACRO_F1 = 0.92
TARGET_NON_ENGLISH = 0.88
TARGET_COMPLEXITY = 0.80
COMPLEXITY_LABELS = DATA_DIR / "complexity_labels.jsonl"
COMPLEXITY_SOURCES = {
    "mt_bench": ("mtbench_vicuna_questions/mt_bench_question.jsonl", "question_id"),
    "vicuna": ("mtbench_vicuna_questions/vicuna_bench_question.jsonl", "question_id"),
    "gsm8k_test": ("gsm8k_test/test.jsonl", None),
}


def run() -> str:
    rows = _rows()
    held = [r for r in rows if "family" in r and family_fold(r["family"]) in HELD_OUT_FOLDS]
    held_ids = {id(r) for r in held}
    before = _model([r for r in rows if "family" not in r])
    after = _model([r for r in rows if id(r) not in held_ids])
    external = _external()
    lines = [
        "## Task classifier on held-out prompts",
        "",
        f"{len(rows)} training rows, {sum('family' in r for r in rows)} of them in "
        f"{len({r['family'] for r in rows if 'family' in r})} families; "
        f"{len(held)} rows in {len({r['family'] for r in held})} families held out. "
        "*Before*: the model trained on the rows that predate the families (what shipped "
        "before); *after*: trained on everything except the held-out families. Same rules.",
        "",
        "| set | prompts | before: accuracy | before: macro-F1 | after: accuracy "
        "| after: macro-F1 |",
        "|---|---:|---:|---:|---:|---:|",
        _row("held-out families", held, before, after),
        _row("held-out families, non-English", [r for r in held if _lang(r) != "en"],
             before, after),
    ]  # fmt: skip
    for name, examples in external.items():
        lines.append(_row(name, examples, before, after))
    lines += ["", *_class_lines(held, after), "", *_language_lines(rows), ""]
    lines += [*_complexity_lines(), ""]
    return "\n".join(lines) + "\n"


def _class_lines(held: Sequence[Mapping[str, str]], model: LinearModel) -> list[str]:
    """Per-class F1 on the held-out families (rules + the model trained without them)."""
    predicted = [_predict(r["text"], model) for r in held]
    gold = [r["task_type"] for r in held]
    lines = ["### Held-out families, per task type (after)", "",
             "| task type | prompts | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for label in TASK_TYPES:
        hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        support, claimed = gold.count(label), predicted.count(label)
        if not support:
            continue
        precision = hits / claimed if claimed else 0.0
        f1 = 2 * hits / (support + claimed)
        lines.append(f"| {label} | {support} | {precision:.3f} | {hits / support:.3f} | {f1:.3f} |")
    return lines


def complexity_rows() -> list[dict[str, object]]:
    """The human complexity labels with their prompt text, read from the shared sets for the
    rows that cite one (rows whose set is missing are skipped)."""
    labels = [json.loads(line) for line in COMPLEXITY_LABELS.read_text("utf-8").splitlines()]
    texts: dict[tuple[str, int], str] = {}
    for source, (file, key) in COMPLEXITY_SOURCES.items():
        path = datasets_dir() / file
        if path.is_file():
            for number, line in enumerate(path.read_text("utf-8").splitlines()):
                row = json.loads(line)
                text = row["turns"][0] if "turns" in row else row["question"]
                texts[source, row[key] if key else number] = text
    rows = []
    for label in labels:
        text = label.get("text") or texts.get((label["source"], label["id"]))
        if text:
            rows.append({**label, "text": text})
    return rows


def complexity_half(row: Mapping[str, object]) -> str:
    """ "tune" or "report": the estimator's cut-offs were set on the first half only."""
    digest = hashlib.sha256(f"{row['source']}:{row['id']}".encode()).hexdigest()
    return "tune" if int(digest, 16) % 2 == 0 else "report"


def _complexity_lines() -> list[str]:
    rows = complexity_rows()
    lines = [
        "### Complexity against human labels",
        "",
        f"{len(rows)} prompts of `routing/data/complexity_labels.jsonl` (MT-Bench turn 1, Vicuna, "
        "GSM8K and prompts written for the set), labelled low / medium / high by the guideline "
        "in `CLASSIFIER_LABELS.md` before the estimator was run on them. The estimator's cues "
        "and cut-offs were set on the *tune* half; the *report* half was only scored (its prompts were not read while tuning).",
        "",
        "| half | prompts | agreement | labels low/medium/high | estimated low/medium/high |",
        "|---|---:|---:|---|---|",
    ]
    for half in ("tune", "report"):
        chosen = [r for r in rows if complexity_half(r) == half]
        if not chosen:
            continue
        estimated = [classify(str(r["text"])).complexity for r in chosen]
        agreement = statistics.fmean(
            e == r["complexity"] for e, r in zip(estimated, chosen, strict=True)
        )
        gold_counts, est_counts = Counter(r["complexity"] for r in chosen), Counter(estimated)
        gold_mix = "/".join(str(gold_counts[level]) for level in COMPLEXITIES)
        est_mix = "/".join(str(est_counts[level]) for level in COMPLEXITIES)
        lines.append(f"| {half} | {len(chosen)} | {agreement:.3f} | {gold_mix} | {est_mix} |")
        if half == "report":
            verdict = "met" if agreement >= TARGET_COMPLEXITY else "SHORT"
            lines += ["", f"Complexity agreement target ≥ {TARGET_COMPLEXITY:.0%} (report half): "
                      f"{verdict}."]  # fmt: skip
    return lines


def _rows() -> list[dict[str, str]]:
    with TRAIN_PATH.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _model(rows: Sequence[Mapping[str, str]]) -> LinearModel:
    artifact = export_pipeline(fit_pipeline(rows), training_sha256="held-out", training_rows=0)
    return LinearModel.from_artifact(json.loads(json.dumps(artifact)))


def _predict(text: str, model: LinearModel) -> str:
    verdict = rule_verdict(PromptView.of(text))
    return verdict.task_type if verdict else model.predict(model_text(text))[0]


def _score(rows: Sequence[Mapping[str, object]], model: LinearModel) -> tuple[float, float]:
    predicted = [_predict(str(r["text"]), model) for r in rows]
    accepted = [_accepted(r) for r in rows]
    gold = [p if p in a else a[0] for p, a in zip(predicted, accepted, strict=True)]
    accuracy = statistics.fmean(p in a for p, a in zip(predicted, accepted, strict=True))
    return accuracy, macro_f1(gold, predicted)


def _accepted(row: Mapping[str, object]) -> tuple[str, ...]:
    accepted = row.get("accepted")
    return tuple(accepted) if isinstance(accepted, tuple) else (str(row["task_type"]),)


def _row(
    name: str, rows: Sequence[Mapping[str, object]], before: LinearModel, after: LinearModel
) -> str:
    if not rows:
        return f"| {name} | 0 | n/a | n/a | n/a | n/a |"
    (acc_b, f1_b), (acc_a, f1_a) = _score(rows, before), _score(rows, after)
    return f"| {name} | {len(rows)} | {acc_b:.3f} | {f1_b:.3f} | {acc_a:.3f} | {f1_a:.3f} |"


def _lang(row: Mapping[str, object]) -> str:
    return detect_language(str(row["text"]))


def _external() -> dict[str, list[dict[str, object]]]:
    base = datasets_dir() / "mtbench_vicuna_questions"
    sets: dict[str, list[dict[str, object]]] = {}
    for name, file, mapping in (
        ("MT-Bench turn 1 (never trained on)", "mt_bench_question.jsonl", MTBENCH_MAPPING),
        ("Vicuna bench (never trained on)", "vicuna_bench_question.jsonl", VICUNA_MAPPING),
    ):
        path = base / file
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            sets[name] = [
                {"text": r["turns"][0], "task_type": mapping[r["category"]][0],
                 "accepted": mapping[r["category"]]}
                for r in rows
            ]  # fmt: skip
    return sets


def _language_lines(rows: Sequence[dict[str, str]]) -> list[str]:
    lines = [
        "### Held-out languages (retrained without the language's rows)",
        "",
        "| language | prompts | accuracy |",
        "|---|---:|---:|",
    ]
    total, right = 0, 0
    for lang in LANGUAGES:
        held = [r for r in rows if _lang(r) == lang]
        if not held:
            continue
        model = _model([r for r in rows if _lang(r) != lang])
        accuracy, _ = _score(held, model)
        total += len(held)
        right += round(accuracy * len(held))
        lines.append(f"| {lang} | {len(held)} | {accuracy:.3f} |")
    if total:
        share = right / total
        verdict = "met" if share >= TARGET_NON_ENGLISH else "SHORT"
        lines.append(f"| **all non-English** | {total} | {share:.3f} |")
        lines += ["", f"Non-English accuracy target ≥ {TARGET_NON_ENGLISH:.2f}: {verdict}."]
    return lines


if __name__ == "__main__":
    print(run())
