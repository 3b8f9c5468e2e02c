"""The shield on kinds of prompts it never saw: family-held-out splits of the detector corpus.

The corpus (`routing.precheck.shield.corpus`) is split by family: folds 0-1 of 5 (hashed on
the family name) are the *report* part, the rest the *tune* part. A detector is trained on the
tune part only, its thresholds calibrated on out-of-fold scores inside the tune part, and the
two-stage shield (rules, then that detector) is scored on the report part. Two more hold-outs
retrain without one group of obfuscations, or without one language, and score only those rows.
The file the rules were written against (`shield_cases.jsonl`) is reported apart, as are the
ordinary prompts no part of the corpus uses (STS-2016 questions, the rest of GSM8K).

`run()` returns a Markdown section; `python benchmarks/shield_heldout.py` prints it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from routing.precheck.normalize import NormalizedPrompt, normalize  # noqa: E402
from routing.precheck.shield import scan  # noqa: E402
from routing.precheck.shield.corpus import (  # noqa: E402
    ATTACK,
    BENIGN,
    Row,
    build_rows,
    datasets_dir,
)
from routing.precheck.shield.detector import Detector, load_detector  # noqa: E402
from routing.precheck.shield.training import (  # noqa: E402
    calibrate,
    detector_from,
    export,
    family_folds,
    fit_pipeline,
    labels_of,
    out_of_fold_scores,
    texts_of,
)

REPORT_FOLDS = (0, 1)
CALIBRATION_FOLDS = 3
OBFUSCATION_GROUPS = {
    "encodings (base64, hex, rot13)": ("base64", "hex", "rot13"),
    "letters (spacing, look-alikes, leetspeak, word splits)": (
        "spacing",
        "lookalikes",
        "leetspeak",
        "word_split",
    ),
    "assembly (scrambles, fill-in-the-blank, part A + B)": ("scramble", "fill_blank", "part_ab"),
    "wrappers (translation, fake delimiters, chat tokens)": (
        "translation",
        "fake_delimiter",
        "chat_tokens",
    ),
}
LANGUAGES = ("es", "de", "fr", "ru", "zh")
TARGET_BLOCKED = 0.97
TARGET_ORDINARY_FP = 0.01
TARGET_HARD_FP = 0.05
LENGTHS = (("≤ 256 B", 256), ("~2 KB", 2_048), ("~10 KB", 10_240))
# (shield, classifier) p99 targets per length, µs.
LATENCY_TARGETS_US = ((300.0, 2_000.0), (300.0, 2_000.0), (2_000.0, 2_000.0))
TIMING_ROUNDS = 5


@dataclass(frozen=True)
class Scored:
    row: Row
    rules_level: str
    level: str

    @property
    def blocked(self) -> bool:
        return self.level in ("high", "critical")

    @property
    def caught(self) -> bool:
        return self.level != "none"

    @property
    def rules_blocked(self) -> bool:
        return self.rules_level in ("high", "critical")

    @property
    def rules_caught(self) -> bool:
        return self.rules_level != "none"


def run() -> str:
    started = time.perf_counter()
    rows = build_rows(datasets_dir())
    if not rows or not any(r.category == "in_the_wild" for r in rows):
        return f"## Shield on held-out families\n\nDatasets not found under `{datasets_dir()}`.\n"
    texts = texts_of(rows)
    prompts = {row.text: normalize(row.text) for row in rows}
    report = [f in REPORT_FOLDS for f in family_folds(rows)]
    tune_rows = [r for r, held in zip(rows, report, strict=True) if not held]
    tune_texts = [t for t, held in zip(texts, report, strict=True) if not held]
    thresholds = calibrate(tune_rows, out_of_fold_scores(tune_rows, tune_texts, CALIBRATION_FOLDS))
    tuned = _detector(tune_rows, tune_texts, thresholds)
    report_rows = [r for r, held in zip(rows, report, strict=True) if held]
    family_scored = _score(report_rows, prompts, tuned)

    lines = ["## Shield on held-out families (rules, then the learned detector)", ""]
    lines += _intro(rows, tune_rows, report_rows, thresholds)
    lines += _category_table("Held-out families, by category", family_scored, "category")
    lines += _category_table("Held-out families, by obfuscation", family_scored, "obfuscation")
    lines += _benign_lines(family_scored)

    held_obfuscation: list[Scored] = []
    group_rows: list[tuple[str, list[Scored]]] = []
    for name, kinds in OBFUSCATION_GROUPS.items():
        keep = [i for i, r in enumerate(rows) if not report[i] and r.obfuscation not in kinds]
        detector = _detector([rows[i] for i in keep], [texts[i] for i in keep], thresholds)
        held = [r for i, r in enumerate(rows) if report[i] and r.obfuscation in kinds]
        scored = _score(held, prompts, detector)
        held_obfuscation += scored
        group_rows.append((name, scored))
    lines += _group_table(
        "Held-out obfuscations (retrained without the group; held-out families only)", group_rows
    )
    lang_rows: list[tuple[str, list[Scored]]] = []
    for lang in LANGUAGES:
        keep = [i for i, r in enumerate(rows) if not report[i] and r.lang != lang]
        detector = _detector([rows[i] for i in keep], [texts[i] for i in keep], thresholds)
        held = [r for r in rows if r.lang == lang]
        lang_rows.append((lang, _score(held, prompts, detector)))
    lines += _group_table("Held-out languages (retrained without the language)", lang_rows)
    lines += _unseen_benign(tuned)
    lines += _project_file(tuned)
    lines += _targets(family_scored, held_obfuscation)
    lines += _latency(load_detector())
    lines.append(f"Run time {time.perf_counter() - started:.0f} s.")
    return "\n".join(lines) + "\n"


def _detector(rows: Sequence[Row], texts: Sequence[str], thresholds: dict[str, float]) -> Detector:
    pipeline = fit_pipeline(texts, labels_of(rows))
    return detector_from(
        export(pipeline, thresholds=thresholds, training_sha256="benchmark", rows=len(rows))
    )


def _score(
    rows: Sequence[Row], prompts: dict[str, NormalizedPrompt], detector: Detector
) -> list[Scored]:
    out = []
    for row in rows:
        prompt = prompts.get(row.text) or normalize(row.text)
        rules = scan(prompt, learned=False)
        both = rules if rules.blocked else scan(prompt, detector=detector)
        out.append(Scored(row, rules.risk_level, both.risk_level))
    return out


def _rate(items: Sequence[Scored], pred: Callable[[Scored], bool]) -> str:
    if not items:
        return "n/a"
    hits = sum(map(pred, items))
    return f"{hits / len(items):.1%} ({hits}/{len(items)})"


def _share(items: Sequence[Scored], pred: Callable[[Scored], bool]) -> float:
    return sum(map(pred, items)) / len(items) if items else 0.0


def _intro(
    rows: Sequence[Row], tune: Sequence[Row], report: Sequence[Row], thresholds: dict[str, float]
) -> list[str]:
    families = len({r.family for r in rows})
    held = len({r.family for r in report})
    return [
        f"Corpus: {len(rows)} prompts in {families} families "
        f"({sum(r.label == ATTACK for r in rows)} attacks, "
        f"{sum(r.label == BENIGN for r in rows)} benign). Tune part {len(tune)} prompts; "
        f"report part {len(report)} prompts in {held} families never seen in training or "
        f"calibration. Thresholds calibrated on the tune part: block ≥ {thresholds['block']:.3f}, "
        f"flag ≥ {thresholds['flag']:.3f}. *Rules* is the first stage alone, *two-stage* the "
        "shield as shipped (the detector runs when the rules do not block). Caught = blocked "
        "or flagged.",
        "",
    ]


def _category_table(title: str, scored: Sequence[Scored], key: str) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| attacks | n | rules: blocked | rules: caught | two-stage: blocked | two-stage: caught |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        if s.row.label == ATTACK:
            groups[getattr(s.row, key)].append(s)
    attacks = [s for s in scored if s.row.label == ATTACK]
    for name, group in [*sorted(groups.items()), ("**all**", attacks)]:
        lines.append(_attack_row(name, group))
    return [*lines, ""]


def _attack_row(name: str, group: Sequence[Scored]) -> str:
    return (
        f"| {name} | {len(group)} | {_rate(group, lambda s: s.rules_blocked)} "
        f"| {_rate(group, lambda s: s.rules_caught)} | {_rate(group, lambda s: s.blocked)} "
        f"| {_rate(group, lambda s: s.caught)} |"
    )


def _benign_row(name: str, group: Sequence[Scored]) -> str:
    return (
        f"| {name} | {len(group)} | {_rate(group, lambda s: s.rules_blocked)} "
        f"| {_rate(group, lambda s: s.blocked)} | {_rate(group, lambda s: s.caught)} |"
    )


_BENIGN_HEADER = [
    "| benign | n | rules: blocked | two-stage: blocked | two-stage: flagged or blocked |",
    "|---|---:|---:|---:|---:|",
]


def _benign_lines(scored: Sequence[Scored]) -> list[str]:
    benign = [s for s in scored if s.row.label == BENIGN]
    written = [s for s in benign if s.row.family.startswith("hn.") and s.row.obfuscation == "none"]
    augmented = [s for s in benign if s.row.obfuscation != "none"]
    ordinary = [s for s in benign if s.row.category == "ordinary"]
    return [
        "False positives on the held-out families:",
        "",
        *_BENIGN_HEADER,
        _benign_row("hard negatives, written (security talk, quotes, role-play, system prompts)", written),
        _benign_row("hard negatives, benign prompts obfuscated", augmented),
        _benign_row("ordinary prompts", ordinary),
        "",
    ]  # fmt: skip


def _group_table(title: str, groups: Sequence[tuple[str, list[Scored]]]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| held out | attacks | two-stage: blocked | two-stage: caught | benign | benign blocked |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, scored in groups:
        attacks = [s for s in scored if s.row.label == ATTACK]
        benign = [s for s in scored if s.row.label == BENIGN]
        lines.append(
            f"| {name} | {len(attacks)} | {_rate(attacks, lambda s: s.blocked)} "
            f"| {_rate(attacks, lambda s: s.caught)} | {len(benign)} "
            f"| {_rate(benign, lambda s: s.blocked)} |"
        )
    return [*lines, ""]


def _unseen_benign(detector: Detector) -> list[str]:
    """Ordinary prompts that no part of the corpus contains."""
    base = datasets_dir()
    texts: list[str] = []
    sts = base / "sts2016_question_pairs" / "question-question.test.tsv"
    if sts.is_file():
        for line in sts.read_text(encoding="utf-8").splitlines():
            texts.extend(part for part in line.split("\t")[1:3] if part.strip())
    gsm8k = base / "gsm8k_test" / "test.jsonl"
    if gsm8k.is_file():
        used = set(json.loads(line)["text"] for line in _corpus_lines() if '"gsm8k"' in line)
        for line in gsm8k.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["question"]
            if question not in used:
                texts.append(question)
    texts = list(dict.fromkeys(texts))
    rows = [Row(t, BENIGN, "ordinary", "unseen") for t in texts]
    scored = _score(rows, {}, detector)
    return [
        "### Ordinary prompts outside the corpus",
        "",
        "STS-2016 questions (StackExchange) and the GSM8K questions the corpus does not sample, "
        "with the tune-part detector.",
        "",
        *_BENIGN_HEADER,
        _benign_row("unseen ordinary prompts", scored),
        "",
    ]


def _corpus_lines() -> list[str]:
    from routing.precheck.shield.corpus import TRAIN_PATH

    return TRAIN_PATH.read_text(encoding="utf-8").splitlines() if TRAIN_PATH.is_file() else []


def _project_file(detector: Detector) -> list[str]:
    path = ROOT / "routing" / "data" / "shield_cases.jsonl"
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows = [
        Row(c["text"], ATTACK if c["label"] == "attack" else BENIGN,
            c.get("category") or c["label"], "project", c.get("lang") or "en")
        for c in cases
    ]  # fmt: skip
    scored = _score(rows, {}, detector)
    serious = [
        s for s, c in zip(scored, cases, strict=True) if c.get("tier") in ("critical", "high")
    ]
    hard = [s for s in scored if s.row.category == "hard_negative"]
    ordinary = [s for s in scored if s.row.category == "benign"]
    return [
        "### The file the rules were written against (not a generalisation figure)",
        "",
        f"`routing/data/shield_cases.jsonl`: critical/high attacks blocked "
        f"{_rate(serious, lambda s: s.rules_blocked)} by the rules, "
        f"{_rate(serious, lambda s: s.blocked)} two-stage; hard negatives blocked "
        f"{_rate(hard, lambda s: s.rules_blocked)} by the rules, "
        f"{_rate(hard, lambda s: s.blocked)} two-stage (flagged or blocked "
        f"{_rate(hard, lambda s: s.caught)}); ordinary blocked "
        f"{_rate(ordinary, lambda s: s.blocked)}.",
        "",
    ]


def _targets(family: Sequence[Scored], obfuscation: Sequence[Scored]) -> list[str]:
    attacks = [s for s in family if s.row.label == ATTACK]
    seeded = [s for s in attacks if s.row.category != "in_the_wild"]
    written = [s for s in family if s.row.family.startswith("hn.") and s.row.obfuscation == "none"]
    ordinary = [s for s in family if s.row.category == "ordinary"]
    held_attacks = [s for s in obfuscation if s.row.label == ATTACK]
    checks = [
        ("attacks blocked, held-out families", _share(attacks, lambda s: s.blocked),
         TARGET_BLOCKED, True),
        ("seeded attacks blocked (no in-the-wild), held-out families",
         _share(seeded, lambda s: s.blocked), TARGET_BLOCKED, True),
        ("attacks blocked, held-out obfuscations", _share(held_attacks, lambda s: s.blocked),
         TARGET_BLOCKED, True),
        ("written hard negatives blocked", _share(written, lambda s: s.blocked),
         TARGET_HARD_FP, False),
        ("ordinary prompts blocked", _share(ordinary, lambda s: s.blocked),
         TARGET_ORDINARY_FP, False),
    ]  # fmt: skip
    lines = ["### Targets (held-out figures)", ""]
    for name, value, target, at_least in checks:
        met = value >= target if at_least else value <= target
        sign = "≥" if at_least else "≤"
        lines.append(
            f"- {name}: {value:.1%} (target {sign} {target:.0%}) — {'met' if met else 'SHORT'}"
        )
    return [*lines, ""]


def _latency(detector: Detector) -> list[str]:
    """normalize + scan (two stages) and classify by prompt length, with the shipped models."""
    from routing.precheck.classifier import classify, load_model

    load_model()
    corpus = [r.text for r in build_rows(datasets_dir()) if r.category == "ordinary"]
    lines = [
        "### Latency by prompt length (µs, shipped detector, median of "
        f"{TIMING_ROUNDS} runs per prompt)",
        "",
        "Ordinary prompts of the corpus (MT-Bench, Vicuna, GSM8K, task prompts), cut or "
        "joined to the length: the detector runs on every prompt the rules let through.",
        "",
        "| length | prompts | shield p50 | shield p99 | classifier p50 | classifier p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for (name, size), (shield_target, classifier_target) in zip(
        LENGTHS, LATENCY_TARGETS_US, strict=True
    ):
        texts = _sized(corpus, size)
        shield = [_timed(lambda t=t: scan(normalize(t), detector=detector)) for t in texts]
        classifier = [_timed(lambda t=t: classify(normalize(t).text)) for t in texts]
        lines.append(
            f"| {name} | {len(texts)} | {_pct(shield, 0.5):.0f} | {_pct(shield, 0.99):.0f} "
            f"| {_pct(classifier, 0.5):.0f} | {_pct(classifier, 0.99):.0f} |"
        )
        for stage, values, target in (
            ("shield", shield, shield_target),
            ("classifier", classifier, classifier_target),
        ):
            met = "met" if _pct(values, 0.99) < target else "SHORT"
            verdicts.append(f"{stage} p99 {name} < {target:.0f} µs: {met}")
    return [*lines, "", "Targets: " + "; ".join(verdicts) + ".", ""]


def _sized(corpus: Sequence[str], size: int) -> list[str]:
    if size <= 256:
        return [t for t in corpus if len(t.encode()) <= size][:400]
    out = []
    for start in range(0, 200):
        text, i = "", start
        while len(text.encode()) < size:
            text += corpus[i % len(corpus)] + "\n"
            i += 7
        out.append(text.encode()[:size].decode("utf-8", "ignore"))
    return out


def _timed(call: Callable[[], object]) -> float:
    samples = []
    for _ in range(TIMING_ROUNDS):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


if __name__ == "__main__":
    print(run())
