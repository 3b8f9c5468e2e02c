"""Benchmark of the precheck prompt classifier: accuracy, macro-F1, rule share, complexity, speed.

`run()` returns a Markdown section for the benchmark report; `python benchmarks/classifier.py`
prints it. Needs no Django settings and no network. The shared evaluation sets are looked up in
`<checkout>/../shared/datasets` (override with SWITCHBOARD_DATASETS); when they are missing the
section says so instead of failing.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/classifier.py` puts benchmarks/ first instead
    sys.path.insert(0, str(ROOT))

from routing.precheck.classifier import (  # noqa: E402
    COMPLEXITIES,
    EVAL_PATH,
    TASK_TYPES,
    Classification,
    classify,
    load_model,
    load_rows,
)

# Category -> accepted task types, the first being the primary label. A second type is accepted
# only where a category's prompts genuinely split between two of ours (advice vs. facts,
# role-play as a scene vs. as a conversation, ...).
MTBENCH_MAPPING: dict[str, tuple[str, ...]] = {
    "writing": ("creative_writing",),
    "roleplay": ("creative_writing", "chat"),
    "reasoning": ("reasoning",),
    "math": ("math",),
    "coding": ("coding",),
    "extraction": ("extraction",),
    "stem": ("question_answering",),
    "humanities": ("question_answering",),
}
VICUNA_MAPPING: dict[str, tuple[str, ...]] = {
    "generic": ("question_answering", "chat"),
    "knowledge": ("question_answering",),
    "roleplay": ("creative_writing", "chat"),
    "common-sense": ("reasoning", "question_answering"),
    "fermi": ("reasoning", "math"),
    "counterfactual": ("reasoning", "question_answering"),
    "writing": ("creative_writing",),
    "coding": ("coding",),
    "math": ("math",),
}
TIMING_REPEATS = 3
SHORT = {
    "coding": "cod",
    "math": "mat",
    "reasoning": "rea",
    "summarization": "sum",
    "translation": "tra",
    "creative_writing": "cre",
    "extraction": "ext",
    "classification": "cla",
    "chat": "cha",
    "question_answering": "qa",
}


@dataclass(frozen=True)
class Example:
    text: str
    accepted: tuple[str, ...]  # the primary label first
    complexity: str | None = None


@dataclass(frozen=True)
class Outcome:
    example: Example
    result: Classification
    micros: float

    @property
    def gold(self) -> str:
        """The primary label, or the prediction when the mapping accepts it as well."""
        if self.result.task_type in self.example.accepted:
            return self.result.task_type
        return self.example.accepted[0]


def run() -> str:
    """The classifier section of the benchmark report, as Markdown."""
    load_model()  # the one-off load is not part of the per-prompt latency
    sets = {"Project eval file": project_examples()}
    missing = []
    for name, loader in shared_loaders().items():
        examples = loader()
        if examples:
            sets[name] = examples
        else:
            missing.append(name)
    results = {name: evaluate(examples) for name, examples in sets.items()}
    lines = ["## Prompt classifier (precheck)", ""]
    lines += _intro(missing)
    lines += _summary_table(results)
    lines += _confusion_matrix(results["Project eval file"])
    lines += _complexity_table(results)
    lines += _latency_lines(results)
    lines += _mapping_lines()
    return "\n".join(lines) + "\n"


def datasets_dir() -> Path:
    from routing.precheck.shield.corpus import datasets_dir as shared_datasets

    return shared_datasets()


def project_examples() -> list[Example]:
    return [Example(r["text"], (r["task_type"],), r["complexity"]) for r in load_rows(EVAL_PATH)]


def shared_loaders() -> dict[str, Callable[[], list[Example]]]:
    base = datasets_dir()
    mtbench = base / "mtbench_vicuna_questions" / "mt_bench_question.jsonl"
    vicuna = base / "mtbench_vicuna_questions" / "vicuna_bench_question.jsonl"
    gsm8k = base / "gsm8k_test" / "test.jsonl"
    return {
        "MT-Bench (turn 1)": lambda: _categorised(mtbench, MTBENCH_MAPPING),
        "Vicuna bench": lambda: _categorised(vicuna, VICUNA_MAPPING),
        "GSM8K test": lambda: [Example(row["question"], ("math",)) for row in _jsonl(gsm8k)],
    }


def _categorised(path: Path, mapping: dict[str, tuple[str, ...]]) -> list[Example]:
    return [Example(row["turns"][0], mapping[row["category"]]) for row in _jsonl(path)]


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(examples: Sequence[Example]) -> list[Outcome]:
    return [Outcome(e, classify(e.text), time_classify(e.text)) for e in examples]


def time_classify(text: str) -> float:
    """Microseconds for one classify call: best of a few, so that being preempted by other
    processes on a shared box does not count as the classifier's cost."""
    best = float("inf")
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter_ns()
        classify(text)
        best = min(best, (time.perf_counter_ns() - start) / 1000)
    return best


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the task types present in the gold labels."""
    scores = []
    for label in sorted(set(gold)):
        true_pos = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        support = sum(g == label for g in gold)
        claimed = sum(p == label for p in predicted)
        scores.append(2 * true_pos / (support + claimed) if support + claimed else 0.0)
    return statistics.fmean(scores)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _intro(missing: list[str]) -> list[str]:
    lines = [
        "Rules first, then a logistic regression exported to JSON and run with numpy, over TF-IDF "
        "word 1-2 and char_wb 2-4 n-grams of the prompt and, again, of its instruction part (first "
        "and last sentence), plus wordllama's static embedding of the instruction part. These "
        "sets are development sets (the rules were written against the eval file); the held-out "
        "section above is the generalisation figure. Accuracy counts a prediction as right when it is the mapped label "
        "(or an accepted alternative, see the mapping below); *strict* counts only the primary "
        "label. Macro-F1 is over the task types present in each set's labels.",
        "",
    ]
    if missing:
        where = datasets_dir()
        lines += [f"Not evaluated (not found under `{where}`): {', '.join(missing)}.", ""]
    return lines


def _summary_table(results: dict[str, list[Outcome]]) -> list[str]:
    lines = [
        "### Task type",
        "",
        "| set | prompts | accuracy | strict | macro-F1 | decided by rules | rule accuracy "
        "| model accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, outcomes in results.items():
        gold = [o.gold for o in outcomes]
        predicted = [o.result.task_type for o in outcomes]
        by_rules = [o for o in outcomes if o.result.source == "rules"]
        by_model = [o for o in outcomes if o.result.source == "model"]
        strict = _share([o.result.task_type == o.example.accepted[0] for o in outcomes])
        lines.append(
            f"| {name} | {len(outcomes)} | {_accuracy(outcomes):.3f} | {strict:.3f} "
            f"| {macro_f1(gold, predicted):.3f} | {len(by_rules) / len(outcomes):.0%} "
            f"| {_accuracy(by_rules):.3f} | {_accuracy(by_model):.3f} |"
        )
    return [*lines, ""]


def _confusion_matrix(outcomes: list[Outcome]) -> list[str]:
    counts = Counter((o.gold, o.result.task_type) for o in outcomes)
    header = " | ".join(SHORT[label] for label in TASK_TYPES)
    lines = [
        "### Confusion matrix, project eval file (rows: label, columns: prediction)",
        "",
        f"| label | {header} |",
        "|---|" + "---:|" * len(TASK_TYPES),
    ]
    for gold in TASK_TYPES:
        cells = " | ".join(str(counts[gold, predicted] or ".") for predicted in TASK_TYPES)
        lines.append(f"| {gold} | {cells} |")
    return [*lines, ""]


def _complexity_table(results: dict[str, list[Outcome]]) -> list[str]:
    lines = [
        "### Complexity (heuristic: length, open-ended asks, steps, expert signals)",
        "",
        "The eval file's complexity labels predate the labelling guideline in "
        "`CLASSIFIER_LABELS.md` (they were written with its rows); the agreement against human "
        "labels by the guideline is in the held-out section above.",
        "",
        "| set | low | medium | high | agreement with labels |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, outcomes in results.items():
        counts = Counter(o.result.complexity for o in outcomes)
        labelled = [o for o in outcomes if o.example.complexity is not None]
        agreement = (
            f"{_share([o.result.complexity == o.example.complexity for o in labelled]):.3f}"
            if labelled
            else "n/a"
        )
        shares = " | ".join(f"{counts[level] / len(outcomes):.0%}" for level in COMPLEXITIES)
        lines.append(f"| {name} | {shares} | {agreement} |")
    return [*lines, ""]


def _latency_lines(results: dict[str, list[Outcome]]) -> list[str]:
    lines = [
        "### Latency",
        "",
        "`classify` per prompt on one core with the model loaded: "
        f"time.perf_counter_ns, best of {TIMING_REPEATS} calls per prompt. The pasted documents "
        "are eval prompts "
        "joined together with an instruction before or after them, a worst case for the rules "
        "(every rule's cue words are present); the rules see the first 600 and last 300 "
        "characters, the model the first 1,500 and last 500.",
        "",
        "| input | prompts | p50 µs | p99 µs | max µs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, outcomes in results.items():
        lines.append(_latency_row(name, [o.micros for o in outcomes]))
    everything = [o.micros for outcomes in results.values() for o in outcomes]
    lines.append(_latency_row("all of the above", everything))
    for size, texts in _long_inputs(results["Project eval file"]).items():
        lines.append(_latency_row(f"pasted document, {size}", [time_classify(t) for t in texts]))
    return [*lines, ""]


def _latency_row(name: str, micros: Sequence[float]) -> str:
    return (
        f"| {name} | {len(micros)} | {percentile(micros, 0.5):.0f} "
        f"| {percentile(micros, 0.99):.0f} | {max(micros):.0f} |"
    )


def _long_inputs(outcomes: list[Outcome]) -> dict[str, list[str]]:
    """Eval prompts joined into one document, with an instruction before or after it."""
    body = " ".join(o.example.text for o in outcomes)
    asks = ("Summarize the following notes.", "Translate the text below into German.")
    inputs: dict[str, list[str]] = {}
    for size in (4_000, 20_000, 100_000):
        document = (body * (size // len(body) + 1))[:size]
        texts = [f"{ask}\n{document[i * 97 :]}" for i in range(10) for ask in asks]
        texts += [f"{document[i * 89 :]}\n{ask}" for i in range(10) for ask in asks]
        inputs[f"~{size // 1000} KB"] = texts
    return inputs


def _mapping_lines() -> list[str]:
    lines = [
        "### Mapping of the shared sets",
        "",
        "Category -> task type; an alternative after a slash also counts as right.",
        "",
    ]
    for name, mapping in (("MT-Bench", MTBENCH_MAPPING), ("Vicuna", VICUNA_MAPPING)):
        parts = [f"{category} -> {' / '.join(types)}" for category, types in mapping.items()]
        lines.append(f"- {name}: " + "; ".join(parts) + ".")
    lines.append("- GSM8K: every question -> math.")
    return [*lines, ""]


def _accuracy(outcomes: Sequence[Outcome]) -> float:
    return _share([o.result.task_type in o.example.accepted for o in outcomes])


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


if __name__ == "__main__":
    print(run(), end="")
