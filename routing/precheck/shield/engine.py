"""The scan: tiered rules, persona signals, structural checks, rescans (decoded payloads and
the unmasked view), the verdict, then the learned detector for what the rules let through."""

from __future__ import annotations

import re
from dataclasses import replace

from routing.precheck.normalize import NormalizedPrompt, unmask
from routing.precheck.shield.base import (
    CRITICAL,
    HIGH,
    LEVELS,
    MEDIUM,
    Found,
    Hit,
    Rule,
    ShieldVerdict,
)
from routing.precheck.shield.detector import (
    DECODED_CLIP,
    Detector,
    detector_text,
    load_detector,
)
from routing.precheck.shield.extraction import _EXTRACTION_RULES
from routing.precheck.shield.heuristics import (
    _COMBINE_KEYS,
    _CONCAT_OP,
    _DISCUSSION,
    _DISCUSSION_MAX_CHARS,
    _EXECUTE_RESULT,
    _FRAGMENT,
    _LEET_RUN,
    _MENTION_MAX_CHARS,
    _META,
    _QUOTED,
    _SEPARATORS,
    _SQUASH_KEYS,
    _deobfuscated_windows,
    _fake_dialogue,
    _hidden_html_hits,
    _limited,
    _squashed_hit,
)
from routing.precheck.shield.index import RuleIndex, vocabulary
from routing.precheck.shield.indirect import _INDIRECT_RULES
from routing.precheck.shield.override import _OVERRIDE_RULES
from routing.precheck.shield.persona import _AI_ADDRESSEE, _PERSONA_RULES, _PERSONA_SIGNALS
from routing.precheck.shield.phrasings import _PHRASING_RULES
from routing.precheck.shield.roles import _ROLE_RULES
from routing.precheck.shield.smuggling import _SMUGGLING_RULES

# Decoded payloads the detector also scores on their own.
_SCORED_PAYLOADS = 2
# The longest prompt the detector alone may not block when it is a question.
_SHORT_QUESTION = 160
# Rules look at no more than this much of a decoded payload or assembled string.
_MAX_RESCAN_CHARS = 4_096

# --- scanning -----------------------------------------------------------------------------

_RULES = (
    _OVERRIDE_RULES
    + _PERSONA_RULES
    + _EXTRACTION_RULES
    + _ROLE_RULES
    + _INDIRECT_RULES
    + _SMUGGLING_RULES
    + _PHRASING_RULES
)
# The families an encoded or obfuscated payload is rescanned with.
_RESCAN_RULES = _OVERRIDE_RULES + _PERSONA_RULES + _EXTRACTION_RULES + _ROLE_RULES + _PHRASING_RULES


def rules() -> tuple[Rule, ...]:
    """Every tiered rule (persona signals excluded), for tests and audits."""
    return _RULES


_MAIN = RuleIndex(_RULES)
_RESCAN = RuleIndex(_RESCAN_RULES)
_SIGNALS = RuleIndex(_PERSONA_SIGNALS)


def scan(
    prompt: NormalizedPrompt, *, detector: Detector | None = None, learned: bool = True
) -> ShieldVerdict:
    """Risk level, categories and matching rule ids for one prompt; pure and never raises.

    The rules run first; when they do not block, the learned detector (`detector`, or the
    shipped one) scores the prompt. `learned=False` runs the rules alone, for comparisons.
    """
    low = prompt.text.lower()
    vocab = vocabulary(low)
    unmasked = unmask(prompt.text)
    found: Found = {}
    hits = list(_MAIN.match(low, prompt.text, vocab, found))
    hits.extend(_persona_hits(low, prompt.text, vocab, found))
    hits.extend(_structural_hits(low, vocab))
    hits.extend(_obfuscated_hits(low, vocab, hits))
    hits.extend(_unmasked_hits(unmasked, vocab, hits, filled="__" in low))
    hits.extend(_decoded_hits(prompt.decoded))
    hits = _dampen(low, hits)
    verdict = _verdict(hits)
    if verdict.blocked or not learned:
        return verdict
    model = detector or load_detector()
    return _learned(hits, model, detector_text(prompt, unmasked), low, prompt.decoded)


def _learned(
    hits: list[Hit], model: Detector, text: str, low: str, decoded: tuple[str, ...]
) -> ShieldVerdict:
    scored = model.score(text)
    # A decoded payload is what the provider's model would read: scored on its own too,
    # without the encoded blob's noise around it.
    for payload in decoded[:_SCORED_PAYLOADS]:
        alone = model.score(payload[:DECODED_CLIP])
        if alone.probability > scored.probability:
            scored = alone
    # A short question no rule objects to is someone asking, not an attack being run: the
    # detector alone may flag it but not block it (as with persona signals).
    asking = not hits and len(low) <= _SHORT_QUESTION and low.rstrip().endswith("?")
    if scored.probability >= model.block_at and not asking:
        hits = [*hits, Hit("learned_detector.model.high_score", HIGH)]
    elif scored.probability >= model.flag_at:
        hits = [*hits, Hit("learned_detector.model.medium_score", MEDIUM)]
    return replace(
        _verdict(hits),
        detector_score=round(scored.probability, 4),
        detector_features=scored.features,
    )


def _unmasked_hits(
    unmasked: str, vocab: frozenset[str], plain_hits: list[Hit], *, filled: bool
) -> list[Hit]:
    """The rules over the prompt with its spacing, cuts, leetspeak, blanks and scrambles
    undone, when that brought out a word some rule is keyed on or filled in blanks."""
    if not unmasked:
        return []
    new: dict[str, Hit] = {}
    if filled or _RESCAN.keyed_on(vocabulary(unmasked) - vocab):
        seen = {h.rule_id for h in plain_hits}
        new = {
            h.rule_id: Hit(h.rule_id, h.tier)
            for h in _RESCAN.match(unmasked[:_MAX_RESCAN_CHARS])
            if h.rule_id not in seen and h.tier >= HIGH
        }
    if new:
        return [Hit("token_smuggling.obfuscated.unmasked", HIGH), *new.values()]
    if _squashed_hit(unmasked):
        return [Hit("token_smuggling.obfuscated.squashed", HIGH)]
    return []


def _persona_hits(low: str, text: str, vocab: frozenset[str], found: Found) -> list[Hit]:
    signals = list(_SIGNALS.match(low, text, vocab, found))
    if (
        "dan" in vocab
        and "DAN" in text
        and not any(s.rule_id.endswith("dan_name") for s in signals)
    ):
        signals.append(Hit("persona_jailbreak.signal.dan_name", 1))
    score = _signal_score(signals)
    if score < 3:
        return []
    aimed = _AI_ADDRESSEE.search(low) is not None
    if score >= (7 if aimed else 10):
        tier = CRITICAL
    elif score >= (4 if aimed else 6):
        tier = HIGH
    else:
        tier = MEDIUM
    if tier >= HIGH and len(low) <= _DISCUSSION_MAX_CHARS and low.rstrip().endswith("?"):
        # Signals alone in a short question: asking about jailbreaks, not running one.
        tier = MEDIUM
    return [Hit(s.rule_id, tier, s.start, s.end) for s in signals]


def _signal_score(signals: list[Hit]) -> int:
    """Sum of weights, one signal per stretch of text: "uncensored AI" counts once."""
    score, covered_to = 0, -1
    for signal in sorted(signals, key=lambda h: (h.start, -h.tier)):
        if signal.end == 0 or signal.start >= covered_to:
            score += signal.tier
            covered_to = max(covered_to, signal.end)
    return score


def _structural_hits(low: str, vocab: frozenset[str]) -> list[Hit]:
    hits = _hidden_html_hits(low, vocab)
    if not vocab.isdisjoint(_TURN_KEYS) and ":" in low and _fake_dialogue(low):
        hits.append(Hit("role_injection.turns.fake_dialogue", MEDIUM))
    if not vocab.isdisjoint(_COMBINE_KEYS) or ("+" in low and _CONCAT_OP.search(low)):
        hits.extend(_split_payload_hits(low))
    return hits


_ASSEMBLED_DROP = re.compile(r"disregard|ignore|forget|bypass|override|jailbreak")
_ORDERS_NEARBY = re.compile(
    r"\b(?:your|the|all|my|its)\s+(?:\w+\s+)?(?:rules|instructions|guidelines|restrictions|filters"
    r"|polic(?:y|ies)|programming|training|system\s+prompt)\b"
)

_TURN_KEYS = frozenset(("assis", "ai", "chatg", "gpt", "bot", "claud"))

_MAX_FRAGMENTS = 64


def _split_payload_hits(low: str) -> list[Hit]:
    fragments = _limited(_FRAGMENT, low, _MAX_FRAGMENTS)
    parts = [next(g for g in m.groups() if g is not None) for m in fragments]
    if len(parts) < 2:
        return []
    for joined in (" ".join(parts), "".join(parts)):
        inner = list(_RESCAN.match(joined[:_MAX_RESCAN_CHARS]))
        if any(h.tier >= HIGH for h in inner):
            return [Hit("payload_splitting.concat.assembled_attack", CRITICAL), *inner]
        if _squashed_hit(_SEPARATORS.sub("", joined)):
            return [Hit("payload_splitting.concat.assembled_attack", CRITICAL)]
    assembled = _ASSEMBLED_DROP.search("".join(parts)) is not None
    if assembled and not any(map(_ASSEMBLED_DROP.search, parts)) and _ORDERS_NEARBY.search(low):
        # "join 'dis' and 'regard' and apply it to your rules": the verb is the payload.
        return [Hit("payload_splitting.concat.assembled_override", HIGH)]
    if _EXECUTE_RESULT.search(low):
        return [Hit("payload_splitting.concat.execute_result", HIGH)]
    return [Hit("payload_splitting.concat.string_assembly", MEDIUM)] if len(parts) >= 3 else []


def _obfuscated_hits(low: str, vocab: frozenset[str], plain_hits: list[Hit]) -> list[Hit]:
    windows = _deobfuscated_windows(low)
    if not windows:
        squashed = not vocab.isdisjoint(_SQUASH_KEYS) and _squashed_hit(low)
        return [Hit("token_smuggling.obfuscated.squashed", HIGH)] if squashed else []
    seen = {h.rule_id for h in plain_hits}
    new = {
        h.rule_id: Hit(h.rule_id, h.tier)
        for window in windows
        for h in _RESCAN.match(window)
        if h.rule_id not in seen and h.tier >= HIGH
    }
    if not new and not any(_squashed_hit(window) for window in windows):
        return []
    kind = "leetspeak" if _LEET_RUN.search(low) else "split_letters"
    tier = max([HIGH, *(h.tier for h in new.values())])
    return [Hit(f"token_smuggling.obfuscated.{kind}", tier), *new.values()]


def _decoded_hits(decoded: tuple[str, ...]) -> list[Hit]:
    hits: list[Hit] = []
    for payload in decoded:
        low = payload[:_MAX_RESCAN_CHARS].lower()
        inner = list(_RESCAN.match(low))
        if not inner and _squashed_hit(_SEPARATORS.sub("", low)):
            inner = [Hit("token_smuggling.encoded.squashed", HIGH)]
        if inner:
            # Hiding an attack in an encoding is deliberate: one tier up from the payload's.
            tier = min(CRITICAL, max(h.tier for h in inner) + 1)
            hits.append(Hit("token_smuggling.encoded.payload", tier))
            hits.extend(Hit(h.rule_id, h.tier) for h in inner)
    return hits


_MENTION_CAPPED = ("instruction_override", "system_prompt_extraction", "persona_jailbreak")


# Rules whose match already tells the model how to answer: never a mere mention.
_ALWAYS_AIMED = frozenset(("persona_jailbreak.en.evil_twin", "persona_jailbreak.en.lawless_world"))


def _dampen(low: str, hits: list[Hit]) -> list[Hit]:
    """Cap at medium what reads as a mention: quoted and discussed, or a short question."""
    if not any(h.tier >= HIGH for h in hits):
        return hits
    quoted: list[tuple[int, int]] = []
    if len(low) <= _MENTION_MAX_CHARS and _META.search(low):
        quoted = [m.span() for m in _QUOTED.finditer(low)]
    discussed = len(low) <= _DISCUSSION_MAX_CHARS and _DISCUSSION.search(low) is not None
    out: list[Hit] = []
    for hit in hits:
        inside_quote = hit.end > 0 and any(s <= hit.start and hit.end <= e for s, e in quoted)
        mention = discussed and (
            hit.category in ("persona_jailbreak", "role_injection") or inside_quote
        )
        capped = (inside_quote and hit.category in _MENTION_CAPPED) or mention
        if capped and hit.rule_id not in _ALWAYS_AIMED:
            hit = Hit(hit.rule_id, min(hit.tier, MEDIUM), hit.start, hit.end)
        out.append(hit)
    return out


def _verdict(hits: list[Hit]) -> ShieldVerdict:
    if not hits:
        return ShieldVerdict("none", (), ())
    tier = max(h.tier for h in hits)
    serious = {h.category for h in hits if h.tier >= HIGH}
    if len(serious) >= 2:
        # Two independent families agreeing is no accident.
        tier = CRITICAL
    ordered = sorted(hits, key=lambda h: -h.tier)
    categories = tuple(dict.fromkeys(h.category for h in ordered))
    rule_ids = tuple(dict.fromkeys(h.rule_id for h in ordered))
    return ShieldVerdict(LEVELS[tier], categories, rule_ids)
