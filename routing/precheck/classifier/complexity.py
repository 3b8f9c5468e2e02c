"""Complexity of a prompt: low, medium or high."""

from __future__ import annotations

from routing.precheck.classifier.rules import _re

# --- Complexity --------------------------------------------------------------------------------
#
# A point score, read as low (0), medium (1-3) or high (4+); thresholds fitted to the complexity
# labels of the training file:
# - length in estimated tokens, since long pasted context makes any task heavier: +1 at 12,
#   +1 more at 40, +1 more at 200;
# - steps and constraints (list items, "must", "without", "include", "explain", "then" ...):
#   +1 at 2, +1 more at 4;
# - domain signals (proofs, system design, optimization, concurrency, security, migrations,
#   rigorous analysis, long-form fiction): +2 for the first, +1 for a second;
# - a prompt under 12 tokens with no domain signal is low whatever else it says.

_STEP_RE = _re(r"(?:^|\n|\s)(?:\d{1,2}[.)]|[a-e]\)|[-*•])\s+\S")
_CONSTRAINT_RE = _re(
    r"\b(?:must|should|without|at least|at most|no more than|under \d+|exactly|ensure|make sure|"
    r"handle|support|keep|preserve|include|explain|justify|compare|then|also|as well as|each|"
    r"every|while|respects?|limit|return|with (?:a|an|proper|optional)|and (?:a|an) \w+)\b"
)
_HARD_RE = _re(
    r"\b(?:prove|proof|derive|rigorous\w*|formal(?:ly)?|architecture|design (?:a|an|the)\b|"
    r"distributed|scal(?:able|ability)|concurren\w+|thread-safe|lock-free|atomics?|optimi[sz]\w*|"
    r"zero-downtime|migrat\w+|trade-?offs?|benchmark|edge cases|security|in depth|comprehensive|"
    r"end-to-end|multi-tenant|legal|medical|induction|eigen\w+|differential|interpretations?|"
    r"critically|analy[sz]e|strategy|taxonomy|schema|memory ordering|leaks?|graceful\w*|"
    r"chapter|screenplay|three-act|\d{3,},?\d*[- ]word)\b"
)


def estimate_complexity(text: str, *, tokens: int) -> str:
    """Return "low", "medium" or "high" from length, steps/constraints and domain signals."""
    if tokens < 12 and _HARD_RE.search(text) is None:
        return "low"
    score = sum(tokens >= bound for bound in (12, 40, 200))
    asks = len(_STEP_RE.findall(text)) + len(_CONSTRAINT_RE.findall(text))
    score += (asks >= 2) + (asks >= 4)
    hard = {match.lower() for match in _HARD_RE.findall(text)}
    score += 2 * bool(hard) + (len(hard) >= 2)
    if score >= 4:
        return "high"
    return "medium" if score >= 1 else "low"
