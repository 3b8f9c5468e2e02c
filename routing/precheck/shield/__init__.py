"""Security shield: prompt-injection and jailbreak screening of a normalized prompt.

Compiled regexes and cheap heuristics, no model and no network. Three tiers: critical and
high block the request, medium is allowed and flagged. Every rule has a stable id
`<category>.<lang-or-kind>.<name>` so a false positive can be traced to one line in the
category's module.

The scan, top to bottom: the tiered rules; weighted persona signals (several weak hints of
a jailbreak persona add up); structural checks (hidden HTML, fake dialogue turns, strings
assembled from fragments); the same rules over a de-obfuscated view (leetspeak, split
letters) and over the payloads the normalizer decoded (a hit there is token smuggling);
then quoted or discussed mentions are capped at medium. A prompt the rules do not block goes
to the second stage, a learned n-gram detector (`detector`, trained from `corpus` by
`training`), which blocks at a calibrated high score and flags at a medium one.

Cost model: a regex costs time per character, so each rule declares the words its match
cannot do without, and runs only when the prompt has them. The prompt's words are turned
into a set of 5-letter prefixes once (C-level translate and split); a rule index maps
prefixes to rules. A rule that runs is tried only where one of its start literals occurs
(`routing.precheck.anchors`, read off the regex's parse tree, found with `str.find` and
shared by the rules over one text), not at every character of a long prompt. A rule whose
start is a word of any kind before a fixed word ("DEV Mode") is tried only at the word
before each occurrence of that word (`Rule.word_before`).

Layout: `base` (tiers, verdict, `Rule` and its builder); one module of rule tables per
category (`override`, `persona`, `extraction`, `roles`, `indirect`, `smuggling`); `index`
(word prefixes and the rule index); `heuristics` (payload splitting, mention context,
obfuscation view, hidden HTML); `engine` (`scan` and the verdict).

Pure Python, no Django import (the benchmark runs it without settings).
"""

from routing.precheck.shield.base import (
    CRITICAL,
    HIGH,
    KEY_LEN,
    LEVELS,
    MEDIUM,
    NONE,
    Hit,
    Rule,
    ShieldVerdict,
    Trigger,
)
from routing.precheck.shield.engine import rules, scan
from routing.precheck.shield.index import RuleIndex, vocabulary

__all__ = [
    "CRITICAL",
    "HIGH",
    "KEY_LEN",
    "LEVELS",
    "MEDIUM",
    "NONE",
    "Hit",
    "Rule",
    "RuleIndex",
    "ShieldVerdict",
    "Trigger",
    "rules",
    "scan",
    "vocabulary",
]
