"""How a shadow audit scores an answer: an exact check where the answer is checkable (a final
number, a JSON list, a label), otherwise a judge model with a fixed rubric prompt."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

REFERENCE_MARK = "### Reference answer"
CANDIDATE_MARK = "### Candidate answer"
RUBRIC = (
    "You are grading an assistant's answer against a reference answer written by a stronger "
    "model. Judge correctness first (the same facts, numbers, code behaviour and items), then "
    "completeness; ignore style and length. Reply with JSON only: "
    '{"score": <0..1>, "reason": "<one short sentence>"}.'
)
EXACT_TASKS = ("math", "extraction", "classification")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_JSON_BLOCK = re.compile(r"(?s)(\[.*?\]|\{.*?\})")
_LABEL = re.compile(r"(?i)label:\s*([a-z_-]+)")


@dataclass(frozen=True)
class Judgement:
    score: float
    method: str  # exact | judge
    reason: str


def final_number(text: str) -> str | None:
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(",", "").rstrip(".") if numbers else None


def json_items(text: str) -> object | None:
    for match in _JSON_BLOCK.finditer(text):
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        return sorted(map(str, data)) if isinstance(data, list) else data
    return None


def label(text: str) -> str | None:
    match = _LABEL.search(text)
    return match.group(1).lower() if match else None


_EXTRACT = {"math": final_number, "extraction": json_items, "classification": label}


def exact_check(task_type: str, answer: str, reference: str) -> Judgement | None:
    """Score 1 or 0 by comparing the checkable part, or None when either answer lacks one."""
    extract = _EXTRACT.get(task_type)
    if extract is None:
        return None
    expected, given = extract(reference), extract(answer)
    if expected is None or given is None:
        return None
    same = expected == given
    reason = "same checkable result" if same else f"{task_type} result differs from the reference"
    return Judgement(1.0 if same else 0.0, "exact", reason)


def judge_prompt(*, prompt: str, answer: str, reference: str) -> str:
    return (
        f"{RUBRIC}\n\n### Question\n{prompt}\n\n{REFERENCE_MARK}\n{reference}\n\n"
        f"{CANDIDATE_MARK}\n{answer}"
    )


def judge_reply_parse(text: str) -> Judgement:
    """The judge's JSON verdict; raises ValueError when the reply has no usable score."""
    match = re.search(r"(?s)\{.*\}", text)
    if match is None:
        raise ValueError("the judge replied without JSON")
    data = json.loads(match.group(0))
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError("the judge's score is not a number between 0 and 1")
    return Judgement(float(score), "judge", str(data.get("reason", ""))[:200])
