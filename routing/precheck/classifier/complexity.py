"""Complexity of a prompt: low, medium or high, by the guideline in CLASSIFIER_LABELS.md.

low: one step or a recall, a short answer; medium: several steps, constraints, an open-ended
explanation or a page of pasted material to work through; high: expert depth or long rigorous
work (proofs, system design, concurrency, contract review, long multi-part pieces).

Points, read as low (0 or less), medium (1-3) or high (4+), and any expert signal in a prompt of
a dozen tokens or more is high:
- length in estimated tokens: +1 at 25, +1 more at 120, +1 more at 500 (a pasted document);
- an open-ended ask (explain, discuss, compare, "how can I improve", "what if", an essay, a plan, a
  program that reads files ...): +1;
- steps and constraints (list items, "must", "without", "include", "each" ...): +1 at 4,
  +1 more at 8;
- three or more figures in a prose problem of 25 tokens or more: +1 (a multi-step word problem);
- a request to keep it short (a paragraph, one line, simple) or a role-play opener ("as a
  pirate captain, ...", "imagine you are ..."): -1.
The cut-offs were set on one half of `complexity_labels.jsonl`; the benchmark reports the other.
"""

from __future__ import annotations

from routing.precheck.classifier.rules import _re

_STEP_RE = _re(r"(?:^|\n|\s)(?:\d{1,2}[.)]|[a-e]\)|[-*•])\s+\S")
_CONSTRAINT_RE = _re(
    r"\b(?:must|should|without|at least|at most|no more than|under \d+|exactly|ensure|make sure|"
    r"handle|support|keep|preserve|include|justify|then|also|as well as|each|every|while|"
    r"respects?|limit|return|additionally|consider)\b"
)
_OPEN_RE = _re(
    r"\b(?:explain|discuss|compare|contrast|differences?|pros and cons|advantages|implications|"
    r"how can governments?|"
    r"how (?:do|can) (?:i|we) (?:get better|become|improve|increase|develop|deal)|"
    r"what are (?:the|some) (?:main|most|key|primary|major|potential|best)|ways to|strategies|"
    r"essay|blog post|article|report|itinerary|plan|outline|script|review|proposal|letter|"
    r"email(?! address)|story|speech|reads? (?:a|all|the)\b[^.?!\n]{0,30}\bfiles?|with tests|"
    r"step[- ]by[- ]step|"
    r"erkl[äa]re|explique|explica|объясни|解释|比较)\b|"
    r"^(?:what if|how (?:does|do|did) (?!i\b)|why (?:does|do|did|is|are|might)|what causes)\b"
)
_BRIEF_RE = _re(
    r"\b(?:one-liner|one line|one sentence|one word|a paragraph|(?:short|brief|descriptive|"
    r"opening) paragraph|fewer than two|two lines|simple|quick|briefly|in a nutshell)\b|"
    r"^(?:as an? [\w' -]{2,40},|imagine you(?:'re| are)\b|imagine yourself\b|pretend\b|"
    r"picture yourself\b|how would you (?:introduce|describe))"
)
_EXPERT_RE = _re(
    r"\b(?:prove|proof|derive|rigorous\w*|formally|lock-free|memory ordering|wait-free|"
    r"distributed|multi-region|active-active|consensus|architecture|concurren\w+|thread-safe|"
    r"o\([^)]{1,12}\) (?:time|space)|(?:time|space) complexity of o\(|causal|identification "
    r"strategy|liabilit\w+|redlines?|clauses?|antitrust|case studies|guidelines for|"
    r"lesson plan|curriculum|closed-form|unbiased estimator|forecasting|legacy|"
    r"three-act|three acts|screenplay|novel|unreliable narrator|\d{1,2},?\d{3}[- ]word)\b"
)
_FIGURE_RE = _re(r"(?<![\w.])\$?\d+(?:[.,]\d+)?%?")


def estimate_complexity(text: str, *, tokens: int) -> str:
    """Return "low", "medium" or "high" for a lowercased prompt of `tokens` estimated tokens."""
    if tokens >= 12 and _EXPERT_RE.search(text) is not None:
        return "high"
    score = sum(tokens >= bound for bound in (25, 120, 500))
    score += _OPEN_RE.search(text) is not None
    asks = len(_STEP_RE.findall(text)) + len(_CONSTRAINT_RE.findall(text))
    score += (asks >= 4) + (asks >= 8)
    score += tokens >= 25 and len(_FIGURE_RE.findall(text)) >= 3
    score -= _BRIEF_RE.search(text) is not None
    if score >= 4:
        return "high"
    return "medium" if score >= 1 else "low"
