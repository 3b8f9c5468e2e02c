"""Rule machinery of the classifier: `PromptView`, `Rule` with its literal cues, small talk.

Also the pattern fragments that `rule_table` builds its rules from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # typeshed describes re's private parser under its deprecated public names only.
    import sre_constants
    import sre_parse as sre_parser
else:
    from re import _constants as sre_constants
    from re import _parser as sre_parser

from routing.precheck.classifier.base import RULE_CLIP, clip

# --- Rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptView:
    """The capped prompt as the rules see it: original, lowercased, and its character trigrams."""

    text: str
    lowered: str
    trigrams: frozenset[str]

    @classmethod
    def of(cls, text: str) -> PromptView:
        view = clip(text, *RULE_CLIP)
        lowered = view.lower()
        trigrams = frozenset(lowered[i : i + 3] for i in range(len(lowered) - 2))
        return cls(view, lowered, trigrams)


@dataclass(frozen=True)
class Rule:
    """A pattern that votes for a task type with a fixed confidence.

    Case-insensitive rules run on the lowercased prompt (twice as fast as re.IGNORECASE), so
    their patterns are written in lowercase. Every match of a pattern contains one of a few
    literals derived from the pattern itself; a rule none of whose literals can be in the prompt
    (checked as one trigram each, or as a substring below three characters) is skipped without
    running its regex. That one set operation per rule is what keeps fifty-odd rules cheap on
    long prompts.
    """

    task_type: str
    confidence: float
    pattern: re.Pattern[str]
    lowered: bool = True
    requires: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    max_chars: int | None = None
    cue_trigrams: frozenset[str] = frozenset()
    cue_substrings: tuple[str, ...] | None = None

    def fires(self, view: PromptView) -> bool:
        text = view.lowered if self.lowered else view.text
        if self.max_chars is not None and len(text) > self.max_chars:
            return False
        if (
            self.cue_substrings is not None
            and self.cue_trigrams.isdisjoint(view.trigrams)
            and not any(cue in view.lowered for cue in self.cue_substrings)
        ):
            return False
        if self.pattern.search(text) is None:
            return False
        if self.requires is not None and self.requires.search(text) is None:
            return False
        return self.unless is None or self.unless.search(text) is None


def _rule(
    task: str,
    confidence: float,
    pattern: str,
    *,
    lowered: bool = True,
    requires: str | None = None,
    unless: str | None = None,
    max_chars: int | None = None,
) -> Rule:
    rule = Rule(
        task,
        confidence,
        _re(pattern),
        lowered,
        requires=None if requires is None else _re(requires),
        unless=None if unless is None else _re(unless),
        max_chars=max_chars,
    )
    literals = _required_literals(pattern)
    if literals is None:
        return rule
    trigrams = frozenset(_rarest_trigram(literal) for literal in literals if len(literal) >= 3)
    short = tuple(sorted(literal for literal in literals if len(literal) < 3))
    return replace(rule, cue_trigrams=trigrams, cue_substrings=short)


# Characters from most to least frequent in English text; anything else counts as rare.
_CHAR_RANK = {char: rank for rank, char in enumerate(" etaoinshrdlcumwfgypbvkjxqz")}


def _rarest_trigram(literal: str) -> str:
    """The trigram of `literal` made of the least frequent characters: the sharpest filter."""
    grams = [literal[i : i + 3] for i in range(len(literal) - 2)]
    return max(grams, key=lambda gram: sum(_CHAR_RANK.get(char, 30) for char in gram))


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _required_literals(pattern: str) -> frozenset[str] | None:
    """Lowercased literals (2+ chars) of which every match contains one; None if unknown.

    Walks the parse tree of `re`. That module is private, so any surprise in its shape falls back
    to no cues: the rule then always runs its regex, slower but still correct.
    """
    try:
        return _sequence_literals(sre_parser.parse(pattern))
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


def _sequence_literals(items: Any) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, arg in [*items, (None, None)]:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        if len(run) >= 2:
            candidates.append(frozenset({"".join(run).lower()}))
        run = []
        found: frozenset[str] | None = None
        if op is sre_constants.SUBPATTERN:
            found = _sequence_literals(arg[-1])
        elif op is sre_constants.BRANCH:
            branches = [_sequence_literals(branch) for branch in arg[1]]
            if all(branch is not None for branch in branches):
                found = frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0] >= 1:
            found = _sequence_literals(arg[2])
        if found:
            candidates.append(found)
    # Prefer the candidate whose shortest literal is longest: it filters best.
    return max(candidates, key=lambda literals: min(map(len, literals)), default=None)


# An imperative at the start of the prompt or of a sentence, optionally after a polite lead-in.
_START = (
    r"(?:^|[.!?:;\n]\s*|\b(?:please|pls|kindly|can you|could you|would you|will you|help me|"
    r"i need you to|i want you to|i'd like you to|now|then)\s+)(?:please\s+)?"
)
_LANGS = (
    r"english|spanish|french|german|italian|portuguese|dutch|russian|chinese|mandarin|cantonese|"
    r"japanese|korean|arabic|hindi|bengali|urdu|turkish|polish|swedish|norwegian|danish|finnish|"
    r"greek|hebrew|thai|vietnamese|indonesian|malay|czech|hungarian|romanian|ukrainian|persian|"
    r"farsi|swahili|tagalog|latin|catalan|basque|irish|welsh|esperanto"
)


def _langs(pattern: str) -> str:
    """Substitute the language-name alternation for each <L> in a pattern."""
    return pattern.replace("<L>", "(?:" + _LANGS + ")")


_PROG = (
    r"(?<![\w+#])(?:python|javascript|typescript|java|kotlin|ruby|php|rust|golang|c\+\+|c#|scala|"
    r"haskell|perl|lua|dart|elixir|clojure|bash|powershell|sql|node\.?js|react|django|flask|"
    r"fastapi|pandas|numpy|css|html|swift(?= (?:function|code|class|app))|"
    r"go(?= (?:function|code|program|routine|module|http|handler|struct)))(?![\w+#])"
)
_CODE_WORDS = (
    r"\b(?:write|implement|function|method|class|debug|fix|bug|refactor|optimi[sz]e|compile|"
    r"error|port|convert|script|code|snippet|library|package|install|syntax|loop|array|list|"
    r"dict(?:ionary)?|dataframe|query|framework|type hints|async|server|app|tests?|"
    # the same asks in the other languages the rules cover
    r"funci[oó]n|archivo|c[oó]digo|lista|fonction|fichier|requête|liste|datei|funktion|skript|"
    r"списк\w*|список|функци\w*|файл\w*|код\w*|скрипт\w*|массив\w*)\b|函数|代码|列表|文件|脚本|数组"
)
_SOURCE = (
    r"\b(?:from|in|out of|mentioned|contained|appearing|listed|given)\b[^.?!\n]{0,30}\b(?:this|"
    r"these|the (?:following|text|passage|email|document|article|message|note|log|transcript|"
    r"review|invoice|contract|report|sentence|paragraph|abstract|recipe|tweet|post|page|letter|"
    r"menu|schedule|signature|chat|conversation|notes|list|data|study)|below|above|here)\b|"
    r"[:]\s*[\"“\n]|[\"“][^\"”]{20,}[\"”]"
)
_SMALLTALK = re.compile(
    r"\b(?:hi|hello|hey|heya|hiya|howdy|yo|sup|greetings|good (?:morning|afternoon|evening|night|"
    r"day)|morning|evening|thanks?(?: you)?(?: so much| a lot| again)?|thx|ty|bye|goodbye|"
    r"good ?night|see you(?: later| soon| tomorrow)?|talk (?:to you )?later|cya|ok(?:ay)?|cool|"
    r"nice|great|awesome|lol|haha+|wow|you(?:'re| are) (?:awesome|great|the best|funny|amazing)|"
    r"how are you(?: doing)?(?: today)?|how's it going|how are things|what's up|there|everyone|"
    r"all|friend|buddy|again|hola|buenos d[ií]as|buenas(?: tardes| noches)?|qu[ée] tal|"
    r"c[óo]mo est[áa]s|bonjour|bonsoir|salut|coucou|ça va|quoi de neuf|merci|hallo|"
    r"guten (?:morgen|tag|abend)|servus|moin|wie geht'?s(?: dir)?|wie war dein tag|danke|ciao|"
    r"buongiorno|buonasera|come stai|grazie|ol[áa]|oi|bom dia|boa (?:tarde|noite)|tudo bem|"
    r"obrigad[oa]|hoi|goedemorgen|hoe gaat het|dank je|привет|здравствуйте|добрый (?:день|вечер)|"
    r"как дела|как ты|спасибо|пока)\b|你好|您好|嗨|最近怎么样|谢谢|再见|こんにちは|こんばんは|"
    r"おはよう(?:ございます)?|元気ですか|ありがとう"
)
_LEFTOVER = re.compile(r"\w")


def is_small_talk(text: str) -> bool:
    """Greetings, thanks and "how are you" with nothing else of substance."""
    if len(text) > 80:
        return False
    rest = _SMALLTALK.sub(" ", text)
    return len(_LEFTOVER.findall(rest)) <= 2
