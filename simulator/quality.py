"""Answers that differ in quality: task-shaped text whose checkable part a weaker model gets
wrong at its error rate, and the `sim/judge` model that scores an answer against a reference.

Every answer carries one checkable part: the final number of a maths answer, the JSON list of
an extraction, the body of a function, a "Key point" line in prose. The right value of that
part is derived from the prompt alone, so every model agrees on it when it is right (and on
the same wrong value when it is wrong). A judge then only has to compare the checkable parts.

Whether a model is right depends on how hard the prompt is, as with real models, which fail
mostly on hard prompts: `difficulty_of` reads it from the prompt alone (length, numbers,
steps, constraints), and a model is right when the prompt's latent draw is below its rate at
that difficulty, between its quality on the easiest prompts (`quality`) and on the hardest
(`quality_hard`). The latent draw is one per prompt, shared by every model: models err on the
same prompts, so a stronger model is right wherever a weaker one is.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping

from simulator.text import reply_tokens, seed_of

JUDGE_MODEL = "sim/judge"
REFERENCE_MARK = "### Reference answer"
CANDIDATE_MARK = "### Candidate answer"

# Keyword rules, checked in order: a small stand-in for a real model noticing what it is asked.
_TASK_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("coding", re.compile(r"\b(code|function|python|javascript|sql|program|bug|class|regex)\b")),
    ("extraction", re.compile(r"\b(extract|list all|json|pull out|named entities)\b")),
    ("classification", re.compile(r"\b(classify|categori[sz]e|sentiment|label)\b")),
    ("summarization", re.compile(r"\b(summari[sz]e|summary|tl;?dr)\b")),
    ("translation", re.compile(r"\b(translate|translation|in french|in spanish|in german)\b")),
    ("math", re.compile(r"\d+.*\b(how many|how much|total|sum|calculate|percent|solve)\b")),
    ("creative_writing", re.compile(r"\b(poem|story|compose|write a|draft|blog)\b")),
)
_STRUCTURED = ("math", "extraction", "classification", "coding")
_LABELS = ("positive", "negative", "neutral")
_KEY_WORDS = (
    "caching",
    "batching",
    "indexing",
    "sampling",
    "ownership",
    "feedback",
    "latency",
    "budgets",
    "fallbacks",
    "clarity",
)


def task_of(prompt: str) -> str:
    """The task type the simulator answers as (prose for anything it does not recognise)."""
    lowered = prompt.lower()
    return next((task for task, rule in _TASK_RULES if rule.search(lowered)), "chat")


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_STEP = re.compile(
    r"\b(then|after|before|each|every|per|remaining|twice|half|times|more than|less than|"
    r"percent|left|rest|if)\b|%"
)
_CONSTRAINT = re.compile(
    r"\b(must|exactly|at least|at most|no more than|without|only|format|table|bullet|"
    r"words|sentences|json|include|avoid|step by step)\b"
)


def difficulty_of(prompt: str) -> float:
    """How hard the prompt is, 0 (easiest) to 1, from the prompt alone: its length, how many
    numbers it gives, how many steps and constraints it asks for. Deterministic."""
    lowered = prompt.lower()
    words = len(lowered.split())
    numbers = len(_NUMBER.findall(lowered))
    sentences = len([s for s in re.split(r"[.?!;\n]+", lowered) if s.strip()])
    steps = len(_STEP.findall(lowered)) + len(_CONSTRAINT.findall(lowered)) + sentences - 1
    return round(
        0.3 * min(words / 150, 1.0)
        + 0.35 * min(max(numbers - 1, 0) / 7, 1.0)
        + 0.35 * min(max(steps, 0) / 10, 1.0),
        4,
    )


def right_rate(
    task: str,
    difficulty: float,
    quality: Mapping[str, float],
    quality_hard: Mapping[str, float] | None = None,
) -> float:
    """A model's chance of being right on a prompt of this task and difficulty: its easy
    quality at 0, its hard quality at 1 (the same as easy when it sets none)."""
    easy = quality.get(task, 1.0)
    hard = (quality_hard or {}).get(task, easy)
    return easy + (hard - easy) * difficulty


def is_correct(prompt: str, rate: float) -> bool:
    """Whether a model right at `rate` on this prompt gets it right: the prompt's latent
    draw, the same for every model and every time."""
    draw = random.Random(seed_of(["quality", prompt])).random()  # noqa: S311
    return draw < rate


def model_right(
    prompt: str, quality: Mapping[str, float], quality_hard: Mapping[str, float] | None = None
) -> bool:
    """Whether a model with these qualities gets `prompt`'s checkable part right."""
    rate = right_rate(task_of(prompt), difficulty_of(prompt), quality, quality_hard)
    return is_correct(prompt, rate)


def true_value(task: str, prompt: str) -> str:
    """The right value of the prompt's checkable part, derived from the prompt alone."""
    rng = random.Random(seed_of(["truth", task, prompt]))  # noqa: S311 - reproducible
    if task == "math":
        return str(rng.randint(2, 999))
    if task == "extraction":
        words = sorted({w for w in re.findall(r"\b[A-Z][a-z]{2,}\b", prompt)}) or ["Acme", "Lyon"]
        return json.dumps(words[:5])
    if task == "classification":
        return rng.choice(_LABELS)
    if task == "coding":
        return rng.choice(("a + b", "a * b", "max(a, b)", "a - b"))
    return rng.choice(_KEY_WORDS)


def wrong_value(task: str, right: str, prompt: str) -> str:
    """A plausible but wrong value: off by a little, one item short, another label."""
    rng = random.Random(seed_of(["wrong", task, prompt]))  # noqa: S311 - reproducible
    if task == "math":
        return str(int(right) + rng.choice((-10, -1, 1, 2, 7, 12)))
    if task == "extraction":
        items = json.loads(right)
        return json.dumps(items[:-1] if len(items) > 1 else ["Unknown"])
    pool = {
        "classification": _LABELS,
        "coding": ("a + b", "a * b", "max(a, b)", "a - b"),
    }.get(task, _KEY_WORDS)
    return rng.choice([v for v in pool if v != right])


def answer_text(
    *,
    model: str,
    prompt: str,
    quality: Mapping[str, float],
    length: int,
    quality_hard: Mapping[str, float] | None = None,
) -> str:
    """`model`'s task-shaped answer to `prompt`, right or wrong by its quality for the task
    at the prompt's difficulty."""
    task = task_of(prompt)
    right = true_value(task, prompt)
    value = (
        right if model_right(prompt, quality, quality_hard) else wrong_value(task, right, prompt)
    )
    # Prose is as long as a filler reply would be; structured answers carry a shorter one.
    words = max(12, length - 4) if task not in _STRUCTURED else max(12, length // 3)
    filler = "".join(reply_tokens(seed_of(["filler", prompt]), words)).strip()
    if task == "math":
        return f"Let us work it out step by step.\n\n{filler}\n\nFinal answer: {value}"
    if task == "extraction":
        return f"Here are the items:\n\n```json\n{value}\n```"
    if task == "classification":
        return f"Label: {value}"
    if task == "coding":
        return f"```python\ndef solve(a, b):\n    return {value}\n```\n\n{filler}"
    return f"{filler}\n\nKey point: {value}."


def checkable_part(answer: str) -> str | None:
    """The part of an answer a check or judge compares, or None when it has none."""
    patterns = (
        r"Final answer:\s*(-?[\d,.]+)",
        r"(?s)```json\s*(.+?)\s*```",
        r"Label:\s*(\w+)",
        r"return ([^\n]+)",
        r"Key point:\s*([\w-]+)",
    )
    for pattern in patterns:
        match = re.search(pattern, answer)
        if match:
            return match.group(1).strip()
    return None


def judge_text(prompt: str) -> str:
    """sim/judge's reply to a rubric prompt: JSON with a score 0..1 and a one-line reason.
    The candidate scores high when its checkable part matches the reference's."""
    reference = _section(prompt, REFERENCE_MARK, CANDIDATE_MARK)
    candidate = _section(prompt, CANDIDATE_MARK, None)
    rng = random.Random(seed_of(["judge", prompt]))  # noqa: S311 - reproducible
    expected, given = checkable_part(reference), checkable_part(candidate)
    if expected is not None and expected == given:
        score, reason = 0.8 + rng.random() * 0.2, "matches the reference"
    else:
        score, reason = rng.random() * 0.35, "disagrees with the reference"
    return json.dumps({"score": round(score, 2), "reason": reason})


def _section(text: str, start: str, end: str | None) -> str:
    if start not in text:
        return ""
    tail = text.split(start, 1)[1]
    return tail.split(end, 1)[0] if end and end in tail else tail
