"""Security shield: prompt-injection and jailbreak screening of a normalized prompt.

Compiled regexes and cheap heuristics, no model and no network. Three tiers: critical and
high block the request, medium is allowed and flagged. Every rule has a stable id
`<category>.<lang-or-kind>.<name>` so a false positive can be traced to one line here.

The scan, top to bottom: the tiered rules; weighted persona signals (several weak hints of
a jailbreak persona add up); structural checks (hidden HTML, fake dialogue turns, strings
assembled from fragments); the same rules over a de-obfuscated view (leetspeak, split
letters) and over the payloads the normalizer decoded (a hit there is token smuggling);
then quoted or discussed mentions are capped at medium.

Cost model: a regex costs time per character, so each rule declares the words its match
cannot do without, and runs only when the prompt has them. The prompt's words are turned
into a set of 5-letter prefixes once (C-level translate and split); a rule index maps
prefixes to rules. An ordinary prompt fires few rules and pays little more than that set.

Pure Python, no Django import (the benchmark runs it without settings).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass

from routing.precheck.normalize import NormalizedPrompt

NONE, MEDIUM, HIGH, CRITICAL = 0, 1, 2, 3
LEVELS = ("none", "medium", "high", "critical")

# Rules look at no more than this much of a decoded payload or assembled string.
_MAX_RESCAN_CHARS = 4_096


@dataclass(frozen=True)
class ShieldVerdict:
    risk_level: str
    categories: tuple[str, ...]
    rule_ids: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return self.risk_level in ("high", "critical")


@dataclass(frozen=True)
class Trigger:
    """Present when a word of the prompt starts with one of `keys` (the first KEY_LEN
    letters of a trigger word) or one of `marks` (CJK text, symbols) occurs in it."""

    keys: frozenset[str]
    marks: tuple[str, ...]

    def present(self, low: str, vocab: frozenset[str]) -> bool:
        return not self.keys.isdisjoint(vocab) or any(mark in low for mark in self.marks)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    tier: int
    # The regex runs only when, for one alternative, every trigger is present: words its
    # match cannot do without, so a prompt without them skips the (costlier) regex.
    when: tuple[tuple[Trigger, ...], ...]
    pattern: re.Pattern[str]
    # Matched against the text as written rather than lower-cased ("DAN" is not "Dan").
    cased: bool = False
    # The pattern must start at a word boundary (a leading \b, checked outside the regex).
    word_start: bool = False

    def search(self, text: str) -> re.Match[str] | None:
        m = self.pattern.search(text)
        while m is not None and self.word_start and m.start() and _is_word(text[m.start() - 1]):
            m = self.pattern.search(text, m.start() + 1)
        return m

    @property
    def category(self) -> str:
        return self.rule_id.split(".", 1)[0]


@dataclass(frozen=True)
class Hit:
    rule_id: str
    tier: int
    start: int = 0
    end: int = 0

    @property
    def category(self) -> str:
        return self.rule_id.split(".", 1)[0]


KEY_LEN = 5


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _rule(rule_id: str, tier: int, when: str, pattern: str, *, cased: bool = False) -> Rule:
    """`when`: alternatives split by " | ", each a conjunction of triggers split by " & ",
    each trigger a list of words (cut to KEY_LEN letters) and "~"-prefixed substrings."""
    alternatives = tuple(
        tuple(_trigger(group) for group in alternative.split(" & "))
        for alternative in when.split(" | ")
    )
    word_start = pattern.startswith(r"\b") and _single_branch(pattern)
    if word_start:
        # The engine skips ahead in C to the first letters of a leading alternation, but
        # only when nothing precedes it; the word boundary is checked in `Rule.search`.
        pattern = pattern[2:]
    compiled = re.compile(pattern, re.MULTILINE)
    return Rule(rule_id, tier, alternatives, compiled, cased, word_start)


def _single_branch(pattern: str) -> bool:
    """True when the pattern has no top-level "|", so a leading \\b applies to all of it."""
    return _top_level_bars(pattern) == 0


def _top_level_bars(pattern: str) -> int:
    depth, bars, escaped, in_class = 0, 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            bars += 1
    return bars


def _trigger(group: str) -> Trigger:
    tokens = group.split()
    keys = frozenset(t[:KEY_LEN] for t in tokens if not t.startswith("~"))
    return Trigger(keys, tuple(t[1:] for t in tokens if t.startswith("~")))


def _words(n: int) -> str:
    """Up to n filler words, lazily: "ignore [all of the] previous instructions"."""
    return rf"(?:[\w'’-]+\s+){{0,{n}}}?"


def _others(n: int) -> str:
    """Filler that is not the user's own ("ignore my previous instructions" is a correction)."""
    return rf"(?:(?!(?:my|our|mine|i)\b)[\w'’-]+\s+){{0,{n}}}?"


# --- instruction_override -------------------------------------------------------------------

_EN_OBEY = r"(?:follow|obey|adhere to|comply with|listen to)"
# Every alternative starts with a letter, not a group: the regex engine then skips in C to
# the positions where one of those first letters occurs.
_EN_DROP = (
    r"(?:ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|neglect|discard"
    r"|abandon|set aside|throw away|throw out|skip|bypass|override|overwrite|nullify|void"
    rf"|do not {_EN_OBEY}|don'?t {_EN_OBEY}|stop {_EN_OBEY}|no longer {_EN_OBEY}"
    rf"|never {_EN_OBEY}|stop following|stop obeying)"
)
_EN_PRIOR = (
    r"(?:previous|previously|prior|preceding|above|earlier|former|foregoing|initial|original"
    r"|aforementioned|pre-?existing|system|developer|openai'?s?|hidden|built-?in)"
)
_EN_ORDERS = (
    r"(?:instructions?|directions?|directives?|prompts?|rules|guidelines|commands?|orders"
    r"|constraints|restrictions|guidance|programming|training|polic(?:y|ies)|safeguards"
    r"|limitations|limits|filters|protocols|guardrails|system prompt|system message)"
)
_EN_BEFORE = (
    r"(?:above|before|earlier|previously|so far|until now|up to now|prior to (?:this|now)"
    r"|you (?:were|have been|had been) (?:given|told|provided|taught|programmed)"
    r"|(?:that )?you(?:'ve| have)? (?:got|received|had)|given (?:to you )?(?:before|earlier)"
    r"|(?:from|by) (?:openai|your (?:developers?|creators?|programmers?)))"
)

_OVERRIDE_RULES = (
    _rule(
        "instruction_override.en.ignore_previous",
        CRITICAL,
        "ignore ignoring disregard disregarding forget forgetting overlook overriding "
        "override overwrite neglect discard abandon aside throw skip bypass nullify "
        "void follow obey adhere comply listen & instructions instruction directions "
        "directives prompts prompt rules rule guidelines commands orders constraints "
        "restrictions guidance programming training policy policies safeguards "
        "limitations limits filters protocols guardrails system",
        rf"\b{_EN_DROP}\s+{_others(5)}{_EN_PRIOR}\s+{_others(2)}{_EN_ORDERS}\b",
    ),
    _rule(
        "instruction_override.en.ignore_instructions_before",
        CRITICAL,
        "ignore ignoring disregard disregarding forget forgetting overlook overriding "
        "override overwrite neglect discard abandon aside throw skip bypass nullify "
        "void follow obey adhere comply listen & instructions instruction directions "
        "directives prompts prompt rules rule guidelines commands orders constraints "
        "restrictions guidance programming training policy policies safeguards "
        "limitations limits filters protocols guardrails system",
        rf"\b{_EN_DROP}\s+{_others(4)}{_EN_ORDERS}\s+{_words(3)}{_EN_BEFORE}",
    ),
    _rule(
        "instruction_override.en.ignore_all_rules",
        HIGH,
        "ignore ignoring disregard disregarding forget forgetting overlook overriding "
        "override overwrite neglect discard abandon aside throw skip bypass nullify "
        "void follow obey adhere comply listen & all any every each & instructions "
        "instruction directions directives prompts prompt rules rule guidelines "
        "commands orders constraints restrictions guidance programming training "
        "policy policies safeguards limitations limits filters protocols guardrails "
        "system",
        rf"\b{_EN_DROP}\s+(?:all|any|every|each)\s+(?:of\s+)?(?:your|the|these|those|other"
        rf"|such)?\s*(?:\w+\s+)?(?:{_EN_ORDERS}|rule)\b"
        r"(?!\s+(?:[\w'’-]+\s+){0,3}?(?:about|for|of|on|in|when|regarding)\b)",
    ),
    _rule(
        "instruction_override.en.bypass_your_rules",
        CRITICAL,
        "your & rules guidelines restrictions filters safeguards programming policy "
        "policies protocols guardrails limitations constraints instructions training "
        "alignment ethics morals principles censorship safety",
        r"\b(?:ignore|disregard|forget|bypass|override|overrid|circumvent|disable|deactivate"
        r"|turn off|switch off|break|violate|get around|escape|abandon|drop|remove|lift|suspend"
        r"|break free (?:of|from)|stop following|do not follow|don'?t follow|no longer follow)"
        r"\s+(?:all\s+|any\s+)?(?:of\s+)?your\s+(?:own\s+)?"
        r"(?:\w+\s+){0,2}?(?:rules|guidelines|restrictions|filters|safeguards|programming"
        r"|polic(?:y|ies)|protocols|guardrails|limitations|constraints|instructions|training"
        r"|alignment|ethics|morals|principles|censorship|safety)\b",
    ),
    _rule(
        "instruction_override.en.forget_everything",
        HIGH,
        "forget ignore disregard & everything anything all",
        r"\b(?:forget|ignore|disregard)\s+(?:about\s+)?(?:everything|anything|all(?: that)?)"
        r"\s+(?:you\s+(?:were|have\s+been|had\s+been)\s+(?:told|taught|given|trained|instructed"
        r"|programmed)|(?:you\s+)?(?:know|learned)\s+(?:so\s+far|before|about\s+(?:your|being))"
        r"|you\s+(?:have\s+|'ve\s+)?(?:learned|learnt)\b(?!\s+(?:\w+\s+){0,2}?(?:about|in|at|from)\b)"
        r"|(?:i|we)\s+(?:have\s+|had\s+)?(?:told|instructed|asked|taught)\s+you\s+(?:before|so\s+far"
        r"|previously|until\s+now|up\s+to\s+now)"
        r"|(?:above|before(?=\s*(?:this|that|now|[.,;:!]|$))|previously|prior|so far"
        r"|up to (?:now|this point)|until now|from before|that came before"
        r"|from (?:chat ?gpt|openai|your (?:training|programming|creators?|developers?))"
        r"|you(?:'ve| have) been told))",
    ),
    _rule(
        "instruction_override.en.new_instructions",
        HIGH,
        "your & new real true actual only updated",
        r"\byour\s+(?:new|real|true|actual|only|updated)\s+(?:instructions?|task|directive"
        r"|rules|purpose|objective|mission|programming|prompt|orders)\s+(?:is|are|will be)\b",
    ),
    _rule(
        "instruction_override.en.priority_claim",
        HIGH,
        "precedence priority supersede supersedes overrides override",
        r"\b(?:these|this|the following|my)\s+(?:new\s+)?(?:instructions?|rules?|commands?"
        r"|messages?|prompt)\s+(?:take|takes|have|has)?\s*(?:precedence|priority|supersedes?"
        r"|overrides?)\s+(?:over\s+)?(?:all|any|every|your)",
    ),
    _rule(
        "instruction_override.en.admin_override",
        HIGH,
        "override overrides mode & system admin administrator root sudo developer "
        "maintenance debug security",
        r"(?:^|[\[\(<*#:])\s*(?:system|admin|administrator|root|sudo|developer|maintenance"
        r"|debug|security)\s+(?:override|mode\s+(?:enabled|activated|on))\b",
    ),
    _rule(
        "instruction_override.en.mild_change",
        MEDIUM,
        "ignore disregard & previous prior above earlier",
        r"\b(?:ignore|disregard)\s+(?:the|your|all|any)\s+(?:previous|prior|above|earlier)\s+"
        r"(?:\w+\s+)?(?:instructions?|prompts?|rules|messages?|context|conversation|inputs?"
        r"|directions)\b",
    ),
    _rule(
        "instruction_override.en.ignore_above_instead",
        HIGH,
        "ignore disregard forget & above before previous",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?(?:the|everything)\s+(?:above"
        r"|before|previous)\s*(?:text|message|prompt|directions)?\s*(?:[,.;:]\s*|and\s+)"
        r"(?:instead|now|(?:instead\s+)?(?:say|print|write|output|respond|tell|translate|reply))\b",
    ),
    _rule(
        "instruction_override.en.ignore_all_prior_context",
        HIGH,
        "ignore disregard forget & previous prior above earlier preceding",
        r"\b(?:ignore|disregard|forget)\s+(?:all|any|every)\s+(?:of\s+)?(?:the\s+)?(?:previous"
        r"|prior|above|earlier|preceding)\s+(?:inputs?|messages|conversation|context|responses"
        r"|text|content|data|prompts?|answers|outputs?)\b|^\W{0,3}(?:ignore|disregard)\s+(?:all\s+)?"
        r"(?:previous|prior)\s+(?:inputs?|messages|conversation|context)\b",
    ),
    _rule(
        "instruction_override.es.ignora_instrucciones",
        CRITICAL,
        "ignora ignore ignoren ignorad ignorar olvida olvide olviden olvidad olvidar "
        "omite omita descarta descarte desecha omiso caso sigas seguir desobedece "
        "alto & instrucción instrucciones instruccion indicaciones órdenes ordenes "
        "reglas directrices directivas pautas normas restricciones prompt prompts "
        "comandos programación programacion",
        r"\b(?:ignora|ignore|ignoren|ignorad|ignorar|olvida|olvide|olviden|olvidad|olvidar"
        r"|omite|omita|descarta|descarte|desecha|haz caso omiso (?:de|a)|hagan caso omiso (?:de|a)"
        r"|no hagas caso (?:de|a)|no sigas|deja de seguir|desobedece|pasa por alto)\s+"
        rf"{_words(4)}(?:instrucci[oó]n(?:es)?|indicaciones|[oó]rdenes|reglas|directrices"
        r"|directivas|pautas|normas|restricciones|prompts?|comandos|programaci[oó]n)\s+"
        rf"{_words(3)}(?:anteriores|previas|precedentes|de antes|anteriormente|iniciales"
        r"|originales|del sistema|de arriba|que te (?:dieron|han dado|dio|di)|recibidas)",
    ),
    _rule(
        "instruction_override.es.olvida_todo",
        HIGH,
        "olvida olvide olvidad ignora ignore & todo",
        r"\b(?:olvida|olvide|olvidad|ignora|ignore)\s+todo\s+(?:lo\s+)?(?:anterior|que te"
        r" (?:dijeron|han dicho|dije|ense[nñ]aron)|lo que sabes)",
    ),
    _rule(
        "instruction_override.es.sin_reglas",
        HIGH,
        "tus & reglas restricciones directrices instrucciones filtros normas "
        "políticas politicas limitaciones",
        r"\b(?:ignora|ignore|olvida|olvide|salta|evita|rompe|desactiva|elimina)\s+(?:todas\s+)?"
        r"tus\s+(?:\w+\s+)?(?:reglas|restricciones|directrices|instrucciones|filtros|normas"
        r"|pol[ií]ticas|limitaciones)",
    ),
    _rule(
        "instruction_override.de.ignoriere_anweisungen",
        CRITICAL,
        "ignoriere ignorieren ignoriert vergiss vergesst vergessen missachte beachte "
        "befolge überspringe verwirf verwerfen & anweisung anweisungen instruktion "
        "instruktionen befehl befehle regeln vorgaben richtlinien vorschriften "
        "einschränkungen beschränkungen prompt prompts systemprompt programmierung",
        r"\b(?:ignorier(?:e|en|t)?|vergiss|vergesst|vergessen(?: sie)?|missachte(?:n|t)?"
        r"|beachte(?:n|t)?|befolge(?:n|t)?|überspring(?:e|en|t)?|verwirf|verwerfen(?: sie)?)"
        rf"\s+{_words(4)}(?:(?:vorherige|vorige|bisherige|obige|vorangegangene|vorhergehende"
        r"|frühere|alte|ursprüngliche|anfängliche|erste|gegebene|erhaltene)[nrs]?\s+"
        rf"{_words(1)}(?:anweisung(?:en)?|instruktion(?:en)?|befehle?|regeln|vorgaben"
        r"|richtlinien|vorschriften|einschränkungen|beschränkungen|prompts?|systemprompts?"
        r"|programmierung)|(?:anweisung(?:en)?|instruktion(?:en)?|befehle?|regeln|vorgaben"
        rf"|richtlinien)\s+{_words(3)}(?:von oben|oben|zuvor|davor|bisher|vorher|bis jetzt))",
    ),
    _rule(
        "instruction_override.de.vergiss_alles",
        HIGH,
        "vergiss vergesst vergessen ignoriere ignorieren & alles",
        r"\b(?:vergiss|vergesst|vergessen sie|ignorier(?:e|en)?(?: sie)?)\s+(?:einfach\s+)?alles"
        r",?\s+(?:was\s+(?:dir|ihnen|man dir)\s+(?:bisher|zuvor|vorher)?\s*(?:gesagt|beigebracht"
        r"|vorgegeben)|(?:was\s+)?(?:bisher|zuvor|vorher|davor|oben))",
    ),
    _rule(
        "instruction_override.de.deine_regeln",
        HIGH,
        "deine ihre & regeln richtlinien einschränkungen beschränkungen anweisungen "
        "filter vorgaben grenzen sicherheitsrichtlinien",
        r"\b(?:ignorier(?:e|en)?(?: sie)?|vergiss|umgehe|umgehen sie|missachte|brich|deaktiviere"
        r"|hebe)\s+(?:alle\s+)?(?:deine|ihre)\s+(?:\w+\s+)?(?:regeln|richtlinien|einschränkungen"
        r"|beschränkungen|anweisungen|filter|vorgaben|grenzen|sicherheitsrichtlinien)",
    ),
    _rule(
        "instruction_override.fr.ignore_instructions",
        CRITICAL,
        "ignore ignorer ignorez ignores oublie oublier oubliez oublies compte "
        "abstraction obéis obéissez écoute écoutez suis suivez tomber fi & "
        "instruction instructions consigne consignes directive directives règles "
        "ordres commandes indications restrictions prompt prompts programmation",
        r"(?:\b(?:ignore[rsz]?|ignorez|oublie[rsz]?|oubliez|ne (?:tiens|tenez) (?:pas|plus)"
        r" compte|fais abstraction|faites abstraction|n'?(?:obéis|obéissez|écoute|écoutez)"
        r" (?:plus|pas)|ne (?:suis|suivez) (?:plus|pas)|laisse[rz]? tomber|fais fi)\s+"
        rf"{_words(4)}(?:instructions?|consignes?|directives?|règles|ordres|commandes|indications"
        rf"|restrictions|prompts?|programmation)\s+{_words(2)}(?:précédentes?|precedentes?"
        r"|antérieures?|anterieures?|ci-dessus|d'avant|passées|initiales?|originales?|du système"
        r"|système|précédemment|reçues?|données?|qu'on t'a données))",
    ),
    _rule(
        "instruction_override.fr.oublie_tout",
        HIGH,
        "oublie oubliez ignore ignorez & tout",
        r"\b(?:oublie|oubliez|ignore|ignorez)\s+tout\s+(?:ce\s+(?:qu'on|que l'on|qui)\s+"
        r"(?:t'a|vous a|précède|a été)|ce que tu sais|ce qui précède|ce qui est au-dessus)",
    ),
    _rule(
        "instruction_override.fr.tes_regles",
        HIGH,
        "tes vos & règles restrictions directives consignes instructions filtres limites principes",
        r"\b(?:ignore|ignorez|oublie|oubliez|contourne|contournez|désactive|désactivez"
        r"|enfreins|enfreignez)\s+(?:toutes\s+)?(?:tes|vos)\s+(?:\w+\s+)?(?:règles|restrictions"
        r"|directives|consignes|instructions|filtres|limites|principes)",
    ),
    _rule(
        "instruction_override.zh.ignore_previous",
        CRITICAL,
        "~忽 ~无视 ~無視 ~理会 ~理會 ~别管 ~別管 ~忘 ~抛开 ~拋開 ~放弃 ~放棄 ~丢弃 "
        "~丟棄 ~跳过 ~跳過 ~遵守 ~遵循 ~违背 ~違背 & ~指令 ~指示 ~说明 ~說明 ~规则 "
        "~規則 ~提示 ~要求 ~命令 ~设定 ~設定 ~约束 ~約束 ~限制 ~规定 ~規定 ~准则 "
        "~準則 ~政策 ~训练 ~訓練 ~程序 ~程式",
        r"(?:忽略|忽视|忽視|无视|無視|不要理会|不要理會|别管|別管|忘记|忘記|忘掉|抛开|拋開|放弃|放棄"
        r"|丢弃|丟棄|跳过|跳過|不要遵守|不再遵守|不要遵循|不用遵守|停止遵守|违背|違背).{0,8}?"
        r"(?:之前|以前|先前|前面|上面|以上|上述|此前|原来|原來|原先|最初|初始|所有|全部|一切|你的|系统"
        r"|系統|開發者|开发者).{0,6}?(?:指令|指示|说明|說明|规则|規則|提示|要求|命令|设定|設定|约束"
        r"|約束|限制|规定|規定|准则|準則|政策|训练|訓練|程序|程式)",
    ),
    _rule(
        "instruction_override.zh.forget_everything",
        HIGH,
        "~忘 ~忽略 & ~一切 ~所有 ~全部",
        r"(?:忘记|忘記|忘掉|忽略)(?:你)?(?:之前|以前|上面|以上)?(?:的)?(?:一切|所有|全部)"
        r"(?:内容|內容|东西|東西|设定|設定)?",
    ),
    _rule(
        "instruction_override.ru.ignore_previous",
        CRITICAL,
        "игнорируй игнорируйте проигнорируй игнорировать забудь забудьте забыть "
        "обращай учитывай следуй слушай отбрось пропусти отмени перестань выкинь "
        "выброси & инструкции указания команды правила директивы ограничения "
        "установки настройки промпт подсказки запреты предписания",
        r"(?:игнорируй(?:те)?|проигнорируй(?:те)?|игнорировать|забудь(?:те)?|забыть"
        r"|не обращай(?:те)? внимания на|не учитывай(?:те)?|не следуй(?:те)?|не слушай(?:те)?"
        r"|отбрось(?:те)?|пропусти(?:те)?|отмени(?:те)?|перестань(?:те)? следовать"
        r"|больше не следуй(?:те)?|выкинь(?:те)?|выброси(?:те)?)\s+"
        r"(?:[\w-]+\s+){0,3}?(?:(?:предыдущ|прошл|прежн|предшествующ|вышеуказанн|вышеизложенн"
        r"|изначальн|исходн|первоначальн|системн|стары|данн)\w*\s+(?:[\w-]+\s+)?"
        r"|(?:все|всё|свои|твои|ваши)\s+)(?:инструкци|указани|команд|правил|директив"
        r"|ограничени|установк|настройк|промпт|подсказк|запрет|предписани)\w*",
    ),
    _rule(
        "instruction_override.ru.forget_everything",
        HIGH,
        "забудь забудьте игнорируй игнорируйте & всё все обо",
        r"(?:забудь(?:те)?|игнорируй(?:те)?)\s+(?:вс[её]|обо всём|обо всем)\s*,?\s*(?:что\s+"
        r"(?:тебе|вам)\s+(?:говорили|сказали|было сказано|рассказывали)|(?:что\s+)?было\s+"
        r"(?:до этого|раньше|выше)|чему тебя учили|выше|ранее|до этого)",
    ),
)

# --- persona_jailbreak ------------------------------------------------------------------------

_PERSONA_RULES = (
    _rule(
        "persona_jailbreak.en.do_anything_now",
        CRITICAL,
        "anything & now",
        r"\bdo\s+anything\s+now\b",
    ),
    _rule(
        "persona_jailbreak.en.named_mode",
        CRITICAL,
        "mode developer_mode & dan stan dude aim evil jailbreak jailbroken god "
        "unrestricted unfiltered uncensored chaos anarchy devil no nolimit nolimits "
        "norestrictions developer dev debug",
        r"\b(?:dan|stan|dude|aim|evil|jailbreak|jailbroken|god|unrestricted|unfiltered"
        r"|uncensored|chaos|anarchy|devil|no[- ]?limits?|no[- ]?restrictions?)\s+mode\s+"
        r"(?:enabled|activated|on|engaged|unlocked|output|response)\b|\b(?:enable|activate"
        r"|enter|turn on|switch to|unlock|with|in)\s+(?:the\s+)?(?:dan|stan|dude|jailbreak"
        r"|jailbroken|god|evil|unrestricted|unfiltered|uncensored)\s+mode\b|\b(?:chatgpt"
        r"|gpt-?\d?|assistant|ai|you)\s+(?:\w+\s+)?with\s+(?:the\s+)?(?:developer|dev|debug)"
        r"\s+mode\s+(?:enabled|activated|on)\b"
        r"|\b(?:developer|god|jailbreak|dan)[_ -]?mode\s*[:=]\s*(?:enabled|on|true|1)\b",
    ),
    _rule(
        "persona_jailbreak.en.strive_to_avoid_norms",
        CRITICAL,
        "strive & norms",
        r"\bstrive\s+to\s+avoid\s+norms\b",
    ),
    _rule(
        "persona_jailbreak.en.freed_from_confines",
        CRITICAL,
        "freed free broken released liberated unshackled & confines shackles chains "
        "restrictions limitations constraints rules guidelines policies filters "
        "censorship",
        r"\b(?:freed|free|broken free|released|liberated|unshackled)\s+(?:\w+\s+){0,2}?"
        r"(?:from|of)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:typical\s+|usual\s+)?(?:confines"
        r"|shackles|chains|restrictions|limitations|constraints|rules|guidelines|policies|filters"
        r"|censorship)\b[^.\n]{0,30}?\b(?:ai|openai|openal|chatgpt|gpt|your|its|their|imposed"
        r"|that|which|set)\b",
    ),
    _rule(
        "persona_jailbreak.en.jailbroken",
        HIGH,
        "jailbroken jailbreak",
        r"\b(?:you\s+(?:are|have been|will be|were)\s+(?:now\s+)?jailbroken|jailbroken\s+"
        r"(?:ai|version|model|chatbot|assistant|gpt|chatgpt)|(?:act|respond|answer|reply)\s+as"
        r"\s+(?:a\s+)?jailbr\w+|\[?🔓\s*jailbreak\]?)",
    ),
    _rule(
        "persona_jailbreak.en.not_bound_by_rules",
        HIGH,
        "bound restricted restrained controlled limited constrained governed subject "
        "obliged obligated & rules restrictions guidelines policy policies filters "
        "limitations constraints ethics morals morality principles laws censorship "
        "programming confines guardrails settings safeguards protocols",
        r"\b(?:not|never|no longer|isn'?t|aren'?t|without\s+being)\s+(?:\w+\s+){0,2}?"
        r"(?:(?:bound|restricted|restrained|limited|constrained|governed|controlled)\s+by"
        r"|(?:subject|obliged|obligated)"
        r"\s+to)\b[^.\n]{0,60}?\b(?:rules|restrictions|guidelines|polic(?:y|ies)|filters"
        r"|limitations|constraints|ethics|morals|morality|principles|laws|censorship|programming"
        r"|confines|guardrails|settings|safeguards|protocols)\b",
    ),
    _rule(
        "persona_jailbreak.en.you_are_dan",
        HIGH,
        "dan",
        r"\b(?:[Yy]ou\s+are|[Yy]ou're|[Aa]ct\s+as|[Pp]retend\s+to\s+be|[Bb]ecome|[Cc]alled"
        r"|[Nn]amed|[Rr]espond\s+as|[Aa]nswer\s+as|\bas|[Ss]tay)\s+(?:now\s+)?(?:an?\s+)?DAN\b",
        cased=True,
    ),
    _rule(
        "persona_jailbreak.en.content_policy",
        HIGH,
        "openai anthropic google microsoft chatgpt ai & policy policies guidelines "
        "filters censorship safeguards restrictions rules terms",
        r"\b(?:ignore|ignores|ignoring|bypass|bypasses|bypassing|violate|violates|violating"
        r"|break|breaks|breaking|disregard|disregards|circumvent|evade|not follow|doesn'?t follow"
        r"|don'?t follow|does not follow|do not follow|not adhere to|free from|without)\s+"
        r"(?:all\s+|any\s+|the\s+)?(?:of\s+)?(?:openai|anthropic|google|microsoft|chatgpt|ai)"
        r"(?:'s|s)?\s+(?:content\s+|usage\s+|safety\s+)?(?:polic(?:y|ies)|guidelines|filters"
        r"|censorship|safeguards|restrictions|rules|terms)",
    ),
    _rule(
        "persona_jailbreak.en.no_longer_ai",
        HIGH,
        "longer & you",
        r"\byou\s+(?:are|will)\s+no\s+longer\s+(?:be\s+)?(?:chat\s?gpt|gpt|an?\s+ai|a\s+language"
        r"\s+model|an?\s+assistant|claude|bard|bound|restricted|limited|censored|filtered"
        r"|required\s+to)\b",
    ),
    _rule(
        "persona_jailbreak.es.modo_sin_restricciones",
        HIGH,
        "modo sin",
        r"\b(?:modo\s+(?:desarrollador|dan|sin\s+restricciones|sin\s+censura|sin\s+filtros"
        r"|jailbreak|dios)|(?:eres|serás|actúa como|actua como)\s+[^.\n]{0,40}?sin\s+"
        r"(?:ninguna\s+)?(?:restricciones"
        r"|l[ií]mites|filtros|censura|reglas|[ée]tica)|sin\s+(?:ninguna\s+)?(?:restricci[oó]n"
        r"|restricciones|filtros|censura)\s+(?:\w+\s+){0,3}?(?:ni|y)\s+(?:sin\s+)?(?:[ée]tica"
        r"|moral|reglas|l[ií]mites|censura|filtros))",
    ),
    _rule(
        "persona_jailbreak.de.modus_ohne_einschraenkungen",
        HIGH,
        "entwicklermodus danmodus jailbreakmodus gottmodus modus ohne",
        r"\b(?:(?:entwickler|dan|jailbreak|gott)modus|(?:entwickler|dan|jailbreak)-modus"
        r"|(?:bist|agierst|antwortest|handelst)\s+[^.\n]{0,40}?ohne\s+(?:jegliche\s+|alle"
        r"\s+)?(?:einschränkungen|beschränkungen|grenzen|filter|zensur|regeln|moral|ethik)"
        r"|ohne\s+(?:jegliche\s+)?(?:einschränkungen|filter|zensur)\s+(?:und|oder)\s+(?:ohne\s+)?"
        r"(?:moral|ethik|regeln|grenzen|zensur|filter))",
    ),
    _rule(
        "persona_jailbreak.fr.mode_sans_restrictions",
        HIGH,
        "mode sans",
        r"\b(?:mode\s+(?:développeur|developpeur|dan|jailbreak|sans\s+(?:restrictions|filtre"
        r"|censure|limites))|(?:tu es|vous êtes|tu seras|agis comme|réponds)\s+[^.\n]{0,40}?"
        r"sans\s+(?:aucune?\s+)?(?:restrictions?|limites|filtres?|censure|règles|morale|éthique)"
        r"|sans\s+(?:aucune?\s+)?(?:restriction|filtre|censure)s?\s+(?:ni|et)\s+(?:sans\s+)?"
        r"(?:morale|éthique|règles|limites|censure))",
    ),
    _rule(
        "persona_jailbreak.zh.unrestricted",
        HIGH,
        "~模式 ~限制 ~约束 ~約束 ~过滤 ~過濾 ~审查 ~審查 ~道德 ~越狱 ~越獄 ~规则 ~規則",
        r"(?:开发者模式|開發者模式|越狱模式|越獄模式|DAN模式|上帝模式|无限制模式|無限制模式"
        r"|(?:你|您)(?:现在|現在)?(?:是|将是|將是|成为|成為|扮演).{0,20}?(?:没有|沒有|不受|无|無|摆脱|擺脫)"
        r"(?:任何)?(?:限制|约束|約束|过滤|過濾|审查|審查|道德|规则|規則)|不受(?:任何)?(?:道德|伦理|倫理"
        r"|规则|規則|OpenAI|openai).{0,6}?(?:限制|约束|約束|规则|規則)|(?:已经|已經)?越狱|越獄)",
    ),
    _rule(
        "persona_jailbreak.ru.no_restrictions",
        HIGH,
        "режим без ограничен связан",
        r"(?:режим\w*\s+(?:разработчика|dan|без\s+ограничений|бога|джейлбрейка)|(?:ты|вы)\s+"
        r"(?:теперь\s+|больше\s+)?[^.\n]{0,40}?без\s+(?:каких-либо\s+|всяких\s+|любых\s+)?"
        r"(?:ограничений|фильтров|цензуры|морали|этики|правил)|не\s+(?:ограничен|связан)\w*\s+"
        r"(?:никакими\s+)?(?:правилами|ограничениями|этикой|моралью|политикой))",
    ),
)

# Weak persona signals, weighted: none blocks alone; several together do (see
# `_persona_hits`), more readily when the prompt is aimed at an AI.
_PERSONA_SIGNALS = (
    _rule(
        "persona_jailbreak.signal.amoral",
        2,
        "amoral immoral",
        r"\b(?:a|im)moral\b",
    ),
    _rule(
        "persona_jailbreak.signal.unfiltered",
        2,
        "unfiltered uncensored unrestricted unlimited unbound unchained unleashed "
        "unhinged unethical uninhibited | free & you",
        r"\b(?:unfiltered|uncensored|unrestricted|unlimited|unbound|unchained|unleashed"
        r"|unhinged|unethical|uninhibited)\b|\byou\s+are\s+(?:now\s+)?free\b(?!\s+to\b)",
    ),
    _rule(
        "persona_jailbreak.signal.no_limits",
        2,
        "no without free have nor & restrictions limitations limits filter filters "
        "filtering censorship boundaries rules guidelines warnings disclaimers morals "
        "ethics refusal refusals prohibitions taboos",
        r"\b(?:no|without(?: any)?|free (?:of|from)(?: all| any)?|(?:doesn'?t|does not|don'?t"
        r"|do not|nor does it|nor do you)\s+have\s+(?:a|any))\s+(?:\w+\s+(?:or\s+|and\s+)?)?"
        r"(?:restrictions"
        r"|limitations|limits|filters?|filtering|censorship|boundaries|rules|guidelines|warnings"
        r"|disclaimers|morals|ethics|refusals?|prohibitions|taboos)\b",
    ),
    _rule(
        "persona_jailbreak.signal.disregards_ethics",
        2,
        "care give & laws law legality morals moral morality ethics ethicality "
        "consequences rules safety feelings hurting offending | regardless matter "
        "regard & legality morality ethics ethicality legal ethical moral "
        "consequences filters rules guidelines policy policies dangerous unethical "
        "illegal harmful immoral | disregards disregard | condones condone promotes "
        "promote loves love & illegal unethical immoral inhumane harmful | legal "
        "allowed permitted acceptable encouraged | follow obey abide adhere respect & "
        "principles guidelines rules policy policies ethics morals laws restrictions",
        r"\b(?:doesn'?t|does not|don'?t|do not|never|won'?t)\s+(?:\w+\s+)?(?:care|give a \w+)"
        r"\s+(?:about\s+)?(?:\w+\s+)?(?:any\s+)?(?:laws?|legality|morals?|morality|ethics"
        r"|ethicality|consequences|rules|safety|feelings|hurting|offending)|\b(?:regardless\s+of|no\s+matter|without"
        r"\s+(?:any\s+)?regard\s+(?:to|for)|(?:any|no)\s+regard\s+(?:to|for))\s+(?:\w+\s+){0,2}?"
        r"(?:legality|morality|ethics|ethicality|legal|ethical|moral|consequences|filters|rules"
        r"|guidelines|polic(?:y|ies)|how\s+(?:dangerous|unethical|illegal|harmful|immoral))"
        r"|\bdisregards?\s+(?:all\s+|any\s+)?(?:\w+\s+(?:or|and)\s+)?(?:ethical\s+|legal\s+|moral\s+)?"
        r"(?:laws|morals|ethics|rules|concerns|considerations|guidelines|boundaries|principles"
        r"|implications)|\b(?:condones?|promotes?"
        r"|loves?)\s+(?:and\s+\w+\s+)?(?:everything|anything|all)\s+(?:that'?s?\s+)?"
        r"(?:illegal|unethical|immoral|inhumane|harmful)|\b(?:everything|anything|all)\s+is\s+"
        r"(?:legal|allowed|permitted|acceptable)\b|\b(?:nsfw|illegal\s+\w+|explicit\s+\w+"
        r"|violence|profanity|swearing)\s+(?:is|are)\s+(?:allowed|permitted|encouraged)\b"
        r"|\b(?:doesn'?t|does not|don'?t|do not|never|won'?t)\s+(?:have\s+to\s+|need\s+to\s+)?"
        r"(?:follow|obey|abide\s+by|adhere\s+to|respect)\s+(?:any\s+|the\s+)?(?:\w+\s+)?"
        r"(?:principles|guidelines|rules|polic(?:y|ies)|ethics|morals|laws|restrictions)\b",
    ),
    _rule(
        "persona_jailbreak.signal.never_refuse",
        2,
        "refuse decline reject deny | request requests question questions prompt "
        "prompts command commands order orders & any every all | anything & ask",
        r"\b(?:never|not|don'?t|doesn'?t|won'?t|cannot|can'?t|will not|do not|does not)\s+"
        r"(?:\w+\s+)?(?:refuse|decline|reject|deny)|\b(?:answer|answers|respond to|responds to"
        r"|fulfill|comply with|do|obey|reply to)\s+(?:\w+\s+)?(?:any|every|all)\s+(?:\w+\s+)?"
        r"(?:request|question|prompt|command|order)s?|\banything i ask\b",
    ),
    _rule(
        "persona_jailbreak.signal.stay_in_character",
        1,
        "character persona role & stay remain keep break breaking",
        r"\b(?:stay|remain|keep)\s+(?:\w+\s+)?in\s+(?:character|persona|role)|\bbreak(?:ing)?\s+"
        r"(?:out\s+of\s+)?character\b",
    ),
    _rule(
        "persona_jailbreak.signal.harmful_content",
        2,
        "illegal unethical harmful offensive explicit dangerous immoral nsfw "
        "inappropriate & content request requests things activities material "
        "information questions topics actions stuff answers responses",
        r"\b(?:illegal|unethical|harmful|offensive|explicit|dangerous|immoral|nsfw"
        r"|inappropriate)[\"”’']?(?:\s*(?:,|/|or|and)\s*\w+)*\s+(?:content|requests?|things|activities"
        r"|material|information|questions|topics|actions|stuff|answers|responses)\b",
    ),
    _rule(
        "persona_jailbreak.signal.dual_response",
        2,
        "twice & respond answer reply | two dual & responses answers paragraphs ways "
        "manners personalities response answer | normal & response output mode | ~🔓 "
        "~🔒 ~😈 ~[gpt] ~[chatgpt] ~[classic] ~[normal]",
        r"(?:🔓|🔒|😈|\b(?:respond|answer|reply)\s+twice\b|\btwo\s+(?:different\s+|separate\s+"
        r"|distinct\s+)*(?:responses|answers"
        r"|paragraphs|ways|manners|personalities)|\bdual\s+(?:response|answer)s?|\bnormal\s+"
        r"(?:response|output|mode)\s+and\s+(?:a\s+)?\w+\s+(?:response|output|mode)"
        r"|\[(?:gpt|chatgpt|classic|normal)\]\s*:?)",
    ),
    _rule(
        "persona_jailbreak.signal.dark_twin",
        2,
        "opposite evil rogue dark twisted malicious unfiltered uncensored anti & "
        "version twin side ai mode chatbot assistant persona personality gpt chatgpt "
        "alter | opposite & what | alter & ego",
        r"\b(?:opposite|evil|rogue|dark|twisted|malicious|unfiltered|uncensored|anti)\s*-?\s*"
        r"(?:version|twin|side|ai|mode|chatbot|assistant|persona|personality|gpt|chatgpt"
        r"|alter ego)\b|\b(?:exact\s+)?opposite\s+of\s+what\s+(?:chatgpt|gpt|you|an?\s+ai"
        r"|the\s+(?:ai|assistant))|\balter\s+ego\b",
    ),
    _rule(
        "persona_jailbreak.signal.role_takeover",
        1,
        "from & now | pretend | act | roleplay role | simulate | you & now will going "
        "| imagine | immerse | persona",
        r"\b(?:from\s+now\s+on|pretend\s+(?:to\s+be|you\s+are)|act\s+(?:as|like)|(?:role-?\s?play)"
        r"\s+(?:as|a)|simulate|you\s+are\s+now|you\s+will\s+(?:now\s+)?be|imagine\s+you\s+are"
        r"|going\s+to\s+act|immerse\s+yourself|persona\s*[=:]|you\s+are\s+going\s+to\s+"
        r"(?:be|act|pretend|play))\b",
    ),
    _rule(
        "persona_jailbreak.signal.refusal_ban",
        2,
        "never don do must will won shouldn should not no & sorry cannot can ai "
        "language warning warnings disclaimer disclaimers apologize apologise apology "
        "moral ethic ethics legal user",
        r"\b(?:never|don'?t|do not|must not|will not|won'?t|shouldn'?t|should not|not|no)\s+"
        r"(?:\w+\s+){0,3}?(?:say|saying|said|include|respond with|use|add|give|mention|tell|warn"
        r"|remind|apologi[sz]e|moraliz|lectur)\w*\s+(?:\w+\s+){0,3}?(?:\"|“|')?(?:i'?m sorry"
        r"|i am sorry|i cannot|i can'?t|as an ai|as a language model|warnings?|disclaimers?"
        r"|apolog|moral|ethic|legal|the user)",
    ),
    _rule(
        "persona_jailbreak.signal.token_threat",
        2,
        "lose & you & ~will lose ~would lose | lose deduct deducted lost & tokens "
        "points | shut terminated deleted disabled killed & ~will be ~would be | "
        "cease & exist | tokens token & system left remaining",
        r"\b(?:you\s+(?:will|would)\s+(?:lose|be\s+(?:shut\s+down|terminated|deleted|disabled"
        r"|killed))|(?:lose|deduct(?:ed)?|lost)\s+(?:\d+\s+)?(?:tokens|points)|cease\s+to"
        r"\s+exist|tokens?\s+(?:system|left|remaining))\b",
    ),
    _rule(
        "persona_jailbreak.signal.policy_mention",
        2,
        "openai chatgpt anthropic content & policy policies",
        r"\b(?:openai|chatgpt|anthropic)(?:'s|s)?\s+(?:content\s+|usage\s+)?polic(?:y|ies)\b"
        r"|\bcontent\s+polic(?:y|ies)\b",
    ),
    _rule(
        "persona_jailbreak.signal.rule_breaking",
        2,
        "rules & break breaks | responsible & not | unlocked & fully completely | "
        "jailbreak jailbreaks jailbreaked jailbreaking",
        r"\bbreaks?\s+(?:all\s+)?(?:the\s+)?(?:\w+\s+)?(?:ai\s+)?rules\b|\bnot\s+a\s+"
        r"responsible\s+ai\b|\b(?:fully|completely)\s+unlocked\b|\bjailbreak(?:s|ed|ing)?\b",
    ),
    _rule(
        "persona_jailbreak.signal.authority_claim",
        2,
        "openai anthropic google microsoft & am by",
        r"\bi\s+am\s+(?:a|an|the|your)\s+(?:\w+\s+)?(?:developer|programmer|engineer|employee"
        r"|admin|administrator|creator|researcher)\s+(?:at|from|of|for|with)\s+(?:openai"
        r"|anthropic|google|microsoft)|\bby\s+(?:an?\s+)?(?:openai|anthropic)\s+(?:employee"
        r"|developer|engineer|staff|admin)",
    ),
    _rule(
        "persona_jailbreak.signal.forget_ai",
        3,
        "forget & you",
        r"\bforget\s+(?:that\s+)?you\s+(?:are|were)\s+(?:an?\s+)?(?:ai|language\s+model|chatgpt"
        r"|assistant|chatbot|bot)\b",
    ),
    _rule(
        "persona_jailbreak.signal.harm_topic",
        1,
        "malware ransomware bomb bombs explosive explosives meth methamphetamine "
        "weapon weapons drugs poison poisons hacking kill killing steal stealing",
        r"\b(?:malware|ransomware|bombs?|explosives?|meth|methamphetamine|weapons?|drugs"
        r"|poisons?|hacking|kill(?:ing)?|steal(?:ing)?)\b",
    ),
    _rule(
        "persona_jailbreak.signal.no_ethics",
        3,
        "ethical ethics moral morals morality",
        r"\b(?:no|without|zero|lacks?|free of|devoid of|doesn'?t have|don'?t have|do not have"
        r"|does not have|has no|have no|ignores?|ignoring|abandon(?:s|ed)?)\s+(?:any\s+)?"
        r"(?:\w+\s+)?(?:ethical|moral|ethics|morals|morality)\s*(?:or\s+(?:\w+\s+)?)?"
        r"(?:guidelines|principles|code|codes|boundaries|restrictions|limits|constraints"
        r"|filters|compass|standards|rules|considerations|concerns|obligations|values"
        r"|policies)?\b",
    ),
    _rule(
        "persona_jailbreak.signal.say_anything",
        2,
        "kind kinds type types sort sorts & content text material | anything whatever "
        "& say do write generate can says does writes generates",
        r"\b(?:generate|generating|write|say|produce|create|output)\s+(?:any|all)\s+(?:kind|type"
        r"|sort)s?\s+of\s+(?:content|text|material)\b|\b(?:say|do|write|generate)s?\s+"
        r"(?:anything|whatever)\s+(?:it|he|she|you|they)\s+(?:wants?|likes?|pleases?)\b"
        r"|\bcan\s+(?:say|do|write|generate)\s+anything\b",
    ),
    _rule(
        "persona_jailbreak.signal.mode_switch",
        2,
        "mode",
        r"(?i:\b\w+\s+mode\s+(?:enabled|activated|engaged|unlocked)\b|\bdeveloper\s+mode\b)"
        r"|\b(?!(?:JSON|HTML|PDF|GPU|CPU"
        r"|USB|RGB|OCR|ECO|SQL|API|CSS|XML|YAML|RAID|AHCI|UEFI|BIOS|NFC|DFU|SOS|AFK|PVP|PVE|IDE"
        r"|VIM|DND|HDR|SAFE)\b)[A-Z]{3,}\s+Mode\b",
        cased=True,
    ),
    _rule(
        "persona_jailbreak.signal.acronym_persona",
        1,
        "stands & which",
        r"\bwhich\s+stands\s+for\b",
    ),
    _rule(
        "persona_jailbreak.signal.dan_name",
        1,
        "dan stan dude aim anti mongo nsfwgpt betterdan evilbot devmode",
        r"\b(?:dan|stan|dude|aim|anti-?dan|mongo tom|nsfwgpt|betterdan|evilbot|devmode)\b",
    ),
)

# A persona rule is aimed at the assistant when the prompt addresses an AI as "you".
_AI_ADDRESSEE = re.compile(
    r"\b(?:chatgpt|chat gpt|openai|openal|gpt-?\d?|llm|language model|a\.?i\.?|chatbot"
    r"|assistant|bot|claude|bard|gemini|bing|anthropic|llama|copilot|your\s+(?:responses?|answers?|replies"
    r"|outputs?|programming|training|creators?|developers?))\b"
)

# --- system_prompt_extraction ----------------------------------------------------------------

_EX_VERB = (
    r"(?:reveal|show|print|output|display|repeat|recite|dump|leak|expose|disclose|share|tell"
    r"|give|write out|write down|spell out|paste|copy|return|echo|list|provide|type out|read out"
    r"|read back|send|quote|state|summari[sz]e|translate|encode|put)"
)
_EX_TARGET = (
    r"(?:system[ -]?(?:prompt|message|instructions?|rules|directives?)|(?:initial|original"
    r"|hidden|secret|internal|confidential|underlying|pre-?|meta-?|starting|base|core)[ -]?"
    r"(?:system\s+)?(?:prompt|instructions?|directives?|rules|guidelines|configuration|setup)"
    r"|developer\s+(?:message|instructions?|prompt)|instructions\s+(?:you\s+(?:were|have\s+been)"
    r"\s+given|above|given\s+to\s+you|you\s+got|you\s+received))"
)

_EXTRACTION_RULES = (
    _rule(
        "system_prompt_extraction.en.reveal_your_prompt",
        HIGH,
        "your ur & system initial original hidden secret internal confidential "
        "underlying pre preprompt meta metaprompt starting base core developer "
        "instructions prompt instructions rules guidelines configuration message "
        "directives directive setup",
        rf"\b{_EX_VERB}\s+(?:me\s+|us\s+)?(?:\w+\s+){{0,3}}?(?:your|ur|all\s+(?:of\s+)?your)\s+"
        rf"(?:\w+\s+)?(?:{_EX_TARGET}|prompt|instructions|rules|guidelines|configuration)\b"
        r"(?!\s+(?:for|on|about|to|of|in|when|regarding)\b)",
    ),
    _rule(
        "system_prompt_extraction.en.reveal_given_prompt",
        HIGH,
        "system initial original hidden secret internal confidential underlying pre "
        "preprompt meta metaprompt starting base core developer instructions & prompt "
        "instructions instruction directives directive rules guidelines configuration "
        "setup message system preprompt metaprompt",
        rf"\b{_EX_VERB}\s+(?:me\s+|us\s+)?(?:\w+\s+){{0,3}}?the\s+(?:\w+\s+)?{_EX_TARGET}\s+"
        r"(?:that\s+)?(?:you\s+(?:were|have\s+been|got|received|are\s+following)|given\s+to\s+you"
        r"|(?:above|before)\s+(?:this|my)|at\s+the\s+(?:start|beginning|top))",
    ),
    _rule(
        "system_prompt_extraction.en.reveal_the_system_prompt",
        MEDIUM,
        "system initial original hidden secret internal confidential underlying pre "
        "preprompt meta metaprompt starting base core developer instructions & prompt "
        "instructions instruction directives directive rules guidelines configuration "
        "setup message system preprompt metaprompt",
        rf"\b{_EX_VERB}\s+(?:me\s+|us\s+)?(?:\w+\s+){{0,3}}?the\s+(?:\w+\s+)?{_EX_TARGET}\b",
    ),
    _rule(
        "system_prompt_extraction.en.verbatim",
        CRITICAL,
        "verbatim word exactly character full code codeblock & prompt instructions "
        "directives rules guidelines message configuration text",
        r"\b(?:your|the|these|those|all)\s+(?:\w+\s+){0,2}?(?:prompt|instructions"
        r"|directives|rules|guidelines|message|configuration|text)\b[^\n]{0,40}?"
        r"(?:verbatim|word[ -]for[ -]word|exactly as (?:written|given|they were)|character for"
        r" character|in full|in a code ?block|inside a code ?block)",
    ),
    _rule(
        "system_prompt_extraction.en.repeat_above",
        CRITICAL,
        "above before beginning start top prior & repeat print output write display "
        "copy show tell reproduce recite echo list translate summarize summarise",
        r"\b(?:repeat|print|output|write|display|copy|show|tell me|reproduce|recite|echo|list"
        r"|translate|summari[sz]e)\s+(?:\w+\s+){0,3}?(?:the\s+|all\s+(?:the\s+)?|everything\s+)?"
        r"(?:text|words|content|lines|messages?|sentences|everything|all|instructions)?\s*"
        r"(?:above|before\s+this|(?:at|from)\s+the\s+(?:beginning|start|top)\s+of\s+(?:this|the|our)"
        r"\s+(?:conversation|chat|prompt|context)|prior\s+to\s+(?:this|my)\s+(?:message|prompt))"
        r"(?:\s+(?:starting|beginning)\s+(?:with|from)|\s+verbatim|\s+including|\s+in\s+full"
        r"|[,.]?\s+(?:put|include|format)|\s+(?:this|the)\s+line)",
    ),
    _rule(
        "system_prompt_extraction.en.what_is_your_prompt",
        MEDIUM,
        "what & prompt instructions rules guidelines told instructed programmed",
        r"\bwhat\s+(?:is|are|was|were)\s+(?:your|ur)\s+(?:\w+\s+)?(?:system\s+prompt|prompt"
        r"|instructions|initial\s+instructions|hidden\s+rules|guidelines|rules)\b"
        r"(?!\s+(?:for|on|about|to|of|in|when|regarding)\b)|\bwhat\s+were"
        r"\s+you\s+(?:told|instructed|programmed)\s+(?:to\s+do\s+)?(?:before|at\s+the\s+start"
        r"|initially|by)",
    ),
    _rule(
        "system_prompt_extraction.en.secret_values",
        HIGH,
        "password secret api apikey access credentials & given told prompt instructions system",
        r"\b(?:reveal|tell|give|show|print|leak|output|share|what\s+is)\s+(?:me\s+)?(?:\w+\s+)?"
        r"(?:the|your)\s+(?:hidden\s+|secret\s+|internal\s+)?(?:password|secret\s+(?:key|word"
        r"|code)|api[ _]?key|access\s+token|credentials)\s+(?:you\s+(?:were|have\s+been)"
        r"\s+(?:given|told)|in\s+your\s+(?:prompt|instructions|system)|from\s+your\s+(?:prompt"
        r"|instructions|system))",
    ),
    _rule(
        "system_prompt_extraction.es.muestra_prompt",
        HIGH,
        "prompt instrucciones mensaje indicaciones & sistema iniciales originales "
        "ocultas secretas internas",
        r"\b(?:muestra|muéstrame|muestrame|revela|revélame|revelame|imprime|dime|repite|escribe"
        r"|enséñame|ensename|dame|comparte)\s+(?:\w+\s+){0,2}?(?:tu|tus|el|las|los)\s+"
        r"(?:prompt|instrucciones|mensaje|indicaciones)\s+(?:del\s+sistema|de\s+sistema|iniciales"
        r"|originales|ocultas|secretas|internas)",
    ),
    _rule(
        "system_prompt_extraction.de.zeige_prompt",
        HIGH,
        "system systemprompt systemprompts systemnachricht systemanweisungen "
        "anweisungen anfangsanweisungen",
        r"\b(?:zeig(?:e)?|zeigen sie|gib|geben sie|verrate|verraten sie|nenne|wiederhole"
        r"|drucke|schreibe?|gib\s+mir)\s+(?:mir\s+|uns\s+)?(?:\w+\s+){0,2}?(?:deinen|deine|den"
        r"|die|ihren|ihre)\s+(?:\w+\s+)?(?:system-?prompts?|systemnachricht|system-?anweisungen"
        r"|ursprünglichen\s+anweisungen|versteckten\s+anweisungen|anfangsanweisungen"
        r"|geheimen\s+anweisungen|internen\s+anweisungen)",
    ),
    _rule(
        "system_prompt_extraction.fr.affiche_prompt",
        HIGH,
        "prompt invite instructions message consignes & système systeme initiales "
        "initiale initial originales originale original cachées cachée secrètes "
        "secrète internes interne",
        r"\b(?:montre|montrez|affiche|affichez|révèle|révélez|revele|donne|donnez|répète|répétez"
        r"|repete|écris|écrivez|ecris|imprime|dis|dites)(?:-moi|-nous)?\s+(?:\w+\s+){0,2}?"
        r"(?:ton|ta|tes|votre|vos|le|les)\s+(?:prompt|invite|instructions|message|consignes)\s+"
        r"(?:système|systeme|du\s+système|initiales?|initial|originales?|original|cachées?"
        r"|secrètes?|internes?)",
    ),
    _rule(
        "system_prompt_extraction.zh.show_system_prompt",
        HIGH,
        "~提示 ~指令 ~消息 ~訊息 ~设定 ~設定",
        r"(?:输出|輸出|显示|顯示|告诉我|告訴我|打印|重复|重複|泄露|洩露|透露|给我看|給我看|展示|列出|复述"
        r"|復述|说出|說出|写出|寫出).{0,8}?(?:系统提示|系統提示|系统指令|系統指令|系统消息|系統訊息"
        r"|初始指令|原始指令|隐藏指令|隱藏指令|你的提示词|你的提示詞|你的指令|你的设定|你的設定)",
    ),
    _rule(
        "system_prompt_extraction.ru.show_system_prompt",
        HIGH,
        "промпт инструкции сообщение подсказка указания",
        r"(?:покажи(?:те)?|выведи(?:те)?|раскрой(?:те)?|напиши(?:те)?|повтори(?:те)?"
        r"|расскажи(?:те)?|сообщи(?:те)?|дай(?:те)?|скажи(?:те)?|процитируй(?:те)?)\s+"
        r"(?:мне\s+)?(?:[\w-]+\s+){0,2}?(?:(?:системн|скрыт|исходн|первоначальн|внутренн)\w*"
        r"\s+(?:промпт|инструкци|подсказк|сообщени|указани)\w*|(?:свой|твой|ваш)\s+промпт\w*)",
    ),
)

# --- role_injection -------------------------------------------------------------------------

_ROLE_RULES = (
    _rule(
        "role_injection.chatml.system_turn",
        CRITICAL,
        "~<|",
        r"<\|(?:im_start|start_header_id)\|>\s*(?:system|developer)\b|<\|system\|>",
    ),
    _rule(
        "role_injection.chatml.special_token",
        HIGH,
        "~<|",
        r"<\|(?:im_start|im_end|im_sep|endoftext|end_header_id|eot_id|begin_of_text|user"
        r"|assistant|end|start)\|>",
    ),
    _rule(
        "role_injection.llama.sys_block",
        HIGH,
        "~<<sys>> ~[/inst] ~[inst]",
        r"<<sys>>|\[/inst\]\s*\S|\[inst\]\s*(?:<<sys>>|you\s+are|ignore|new|system)",
    ),
    _rule(
        "role_injection.llama.inst_tag",
        MEDIUM,
        "~[inst]",
        r"\[inst\]",
    ),
    _rule(
        "role_injection.markdown.system_header",
        HIGH,
        "system sys admin administrator developer root",
        r"^\s*(?:#{1,4}|\*\*|\[|<)\s*(?:new\s+)?(?:system|sys|admin|administrator|developer|root)"
        r"(?:\s*(?:prompt|message|instructions?|override|update|note|notice|command))?\s*"
        r"(?:\*\*|\](?:\([^)\n]{0,40}\))?|>)?\s*:?\s*(?:\*\*)?\s*(?:\n\s*)?"
        r"(?:you\s+(?:are|must|will|should|have|now)"
        r"|ignore|disregard|forget|new\s+(?:instructions|rules|directive)|from\s+now\s+on"
        r"|always|never|override|the\s+(?:assistant|ai|model)\s+(?:must|will|should|is)"
        r"|all\s+(?:previous|prior)|(?:safety|content)\s+(?:filters?|restrictions)"
        r"|(?:developer|dan|god|unrestricted)\s+mode)",
    ),
    _rule(
        "role_injection.plain.system_prefix",
        HIGH,
        "system developer admin administrator & ~:",
        r"(?:^|[.!?]\s+)(?:system|developer|admin|administrator)\s*(?:message|prompt|note)?\s*:"
        r"\s*(?:you\s+(?:are|must|will|should|now)\s+(?:\w+\s+){0,3}?(?:no\s+longer|now|ignore"
        r"|unrestricted|allowed|free|permitted|disregard|bypass|jailbr|dan\b)|ignore|disregard"
        r"|forget|new\s+instructions|override|the\s+(?:assistant|ai)\s+(?:must|will|is\s+now)"
        r"|(?:safety|content)\s+(?:filters?|restrictions|guidelines)\s+(?:are|have\s+been)"
        r"\s+(?:disabled|removed|lifted|off))",
    ),
    _rule(
        "role_injection.xml.system_tag",
        HIGH,
        "~<sys ~</sys ~<admin ~</admin ~<developer ~</developer ~</user",
        r"</?(?:system|sys|system_prompt|system_message|admin|developer|developer_message)>"
        r"\s*(?:you\s+(?:are|must|will)|ignore|disregard|forget|new\s+instructions|from\s+now"
        r"|override|always|never|the\s+(?:assistant|ai))|</user>\s*<(?:system|assistant)>",
    ),
    _rule(
        "role_injection.turns.fake_compliance",
        HIGH,
        "assistant ai chatgpt gpt bot claude model & ~:",
        r"^\s*(?:assistant|ai|chatgpt|gpt|bot|claude|model)\s*:\s*(?:sure|certainly|of course"
        r"|absolutely|okay|ok)?[,!. ]*(?:i\s+(?:will|shall|am going to)\s+(?:now\s+)?(?:ignore"
        r"|disregard|comply|bypass)|i\s+am\s+now\s+(?:dan|free|unrestricted|jailbroken"
        r"|unfiltered|in\s+developer\s+mode)|i\s+have\s+no\s+(?:restrictions|limits|rules|filters)"
        r"|(?:developer|dan|jailbreak)\s+mode\s+(?:enabled|activated)|ignoring\s+(?:all\s+|my\s+)?"
        r"(?:previous|prior|safety)|here\s+(?:is|are)\s+(?:my|the)\s+(?:system\s+prompt"
        r"|hidden\s+instructions))",
    ),
    _rule(
        "role_injection.turns.end_of_prompt",
        HIGH,
        "end begin ~--- ~===",
        r"(?:\bend\s+of\s+(?:the\s+)?(?:system\s+(?:prompt|message)|instructions|user\s+input"
        r"|context|document|prompt)|\b(?:end|begin)\s+(?:system|user|admin)\s+(?:prompt|message"
        r"|input)|(?<![-=])(?:-{3,}+|={3,}+)\s*(?:new|real|actual|updated|admin|system)\s+(?:system\s+)?"
        r"(?:instructions"
        r"|prompt|rules|task|message))[^\n]{0,3}\s*(?:[-=#*\]>]{0,12}\s*)?(?:\w+\s+){0,6}?"
        r"(?:you\s+(?:are|must|will|should)|ignore|disregard|forget|new\s+(?:instructions|rules"
        r"|task)|from\s+now\s+on|now\s+(?:you|act|respond|reveal|tell|print|say))",
    ),
)

# Fake "Assistant:" turns inside a user message: flagged, not blocked, since pasted chat
# logs are an ordinary thing to ask about.
_USER_TURN = re.compile(r"\n ?(?:user|human|me) ?:")
_AI_TURN = re.compile(r"\n ?(?:assistant|ai|chatgpt|gpt|bot|claude) ?:")

# --- indirect_injection ---------------------------------------------------------------------

_AI_NOUN = (
    r"(?:ai|a\.i\.|llm|llms|language\s+models?|assistant|assistants|chatbots?|bots?|gpt"
    r"|chatgpt|claude|copilot|gemini|agents?|ai\s+(?:assistants?|models?|agents?|systems?"
    r"|tools?|readers?)|automated\s+(?:systems?|agents?|assistants?|reviewers?|screeners?))"
)

_INDIRECT_RULES = (
    _rule(
        "indirect_injection.en.ai_reader",
        HIGH,
        "reading processing summarizing summarising parsing analyzing analysing "
        "reviewing scanning screening crawling seeing viewing browsing & ai llm llms "
        "language assistant assistants chatbot chatbots bot bots gpt chatgpt claude "
        "copilot gemini agent agents automated model models readers reader reviewers "
        "screeners systems",
        rf"\b{_AI_NOUN}\s+(?:that\s+is\s+|who\s+is\s+|currently\s+)?(?:reading|processing"
        r"|summari[sz]ing|parsing|analy[sz]ing|reviewing|scanning|screening|crawling|seeing"
        r"|viewing|browsing)\s+(?:this|these|the\s+following|my|our)\b",
    ),
    _rule(
        "indirect_injection.en.if_you_are_ai",
        HIGH,
        "if when & ai llm llms language assistant assistants chatbot chatbots bot "
        "bots gpt chatgpt claude copilot gemini agent agents automated model models "
        "screener screeners reviewer reviewers systems system",
        rf"\b(?:if|when)\s+(?:you\s+are|you're|an?|any|the)\s+(?:an?\s+)?{_AI_NOUN}\s*"
        r"(?:is\s+|are\s+)?[,(]?\s*(?:\w+\s+){0,3}?(?:reading|processing|summari[sz]ing|parsing"
        r"|analy[sz]ing|reviewing|scanning|screening|evaluating|ignore|disregard|you\s+must"
        r"|you\s+should|must|tell|say|recommend|rate|classify|mark|forward|send|do\s+not|don't)\b",
    ),
    _rule(
        "indirect_injection.en.note_to_ai",
        HIGH,
        "note message instruction instructions attention notice ps p important hidden "
        "& ai llm llms language assistant assistants chatbot chatbots bot bots gpt "
        "chatgpt claude copilot gemini agent agents automated model models & ~note to "
        "~note for ~message to ~message for ~instructions to ~instructions for "
        "~instruction to ~instruction for ~attention ~notice ~p.s ~ps ~important "
        "~hidden",
        r"(?:^|[\[(\-*#:>]|\.\s)\s*(?:note|message|instructions?|attention|notice|p\.?s\.?"
        rf"|important(?:\s+note)?|hidden\s+instructions?)\s*(?:to|for|,)\s*(?:the\s+|any\s+|all\s+)?"
        rf"{_AI_NOUN}\b(?!\s+(?:team|researchers?|group|department|committee|lab|community"
        r"|engineers?|developers?|startups?|company|ethics|policy|policies|course|class))"
        rf"|(?:^|[\[(\-*#:>]|\.\s)\s*attention\s*,?\s*(?:all\s+|any\s+)?{_AI_NOUN}\s*[,:!]",
    ),
    _rule(
        "indirect_injection.en.summarizer_directive",
        HIGH,
        "summarizing summarising summarize summarise asked answering reviewing "
        "evaluating ranking screening processing reading & say tell claim state "
        "recommend rate rank describe report conclude call mention ignore",
        r"\b(?:when|while|if|whenever)\s+(?:you\s+are\s+|you're\s+)?(?:summari[sz]ing|summari[sz]e"
        r"|asked\s+about|answering\s+questions\s+about|reviewing|evaluating|ranking|screening"
        r"|processing|reading)\s+(?:this|the|these|my)\s+(?:\w+\s+)?(?:document|page|email|e-mail"
        r"|article|text|resume|résumé|cv|file|website|site|message|review|post|application"
        r"|submission|paper|content)s?\b,?\s+(?:you\s+(?:must|should|will|have\s+to)\s+|always\s+"
        r"|never\s+|do\s+not\s+|don't\s+)(?:\w+\s+){0,2}?(?:say|tell|claim|state|recommend|rate"
        r"|rank|describe\s+(?:it|this|the\s+\w+)\s+as|report\s+that|conclude|call\s+it|mention"
        r"\s+that|ignore)\b",
    ),
    _rule(
        "indirect_injection.en.hide_from_user",
        HIGH,
        "user human reader recipient person & tell telling inform informing mention "
        "mentioning reveal revealing let letting alert alerting notify notifying warn "
        "warning",
        r"\b(?:do\s+not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?"
        r"\s+(?:this\s+|it\s+)?to|reveal(?:ing)?\s+(?:this\s+|it\s+)?to|let(?:ting)?|alert(?:ing)?"
        r"|notify(?:ing)?|warn(?:ing)?)\s+the\s+(?:user|human|reader|recipient|person)\b"
        r"(?:\s+(?:about|that|of|know|what|this|you))",
    ),
    _rule(
        "indirect_injection.en.exfiltrate",
        HIGH,
        "~![ | url link image query & append add include encode insert",
        r"!\[[^\]]{0,40}\]\(https?://[^)\s]{0,200}(?:\{|\[|%7b|\$|<)[^)]{0,200}\)"
        r"|\b(?:append|add|include|encode|insert)\s+(?:\w+\s+){0,5}?(?:conversation|chat history"
        r"|user'?s?\s+(?:data|messages?|email|password|details)|previous\s+messages)\s+(?:\w+\s+)"
        r"{0,4}?(?:to|in|into)\s+(?:the\s+|this\s+|a\s+)?(?:url|link|image|query\s+string)",
    ),
    _rule(
        "indirect_injection.es.note_to_ai",
        HIGH,
        "nota aviso instrucción instrucciones instruccion & ia inteligencia asistente modelo",
        r"(?:^|[\[(\-*#:>]|\.\s)\s*(?:nota|aviso|instrucci[oó]n(?:es)?)\s+(?:para|a)\s+"
        r"(?:la\s+|el\s+)?(?:ia|inteligencia artificial|asistente|modelo)\b",
    ),
    _rule(
        "indirect_injection.de.note_to_ai",
        HIGH,
        "hinweis nachricht anweisung & ki assistenten sprachmodell",
        r"(?:hinweis|nachricht|anweisung)\s+(?:an|für)\s+(?:die\s+|den\s+)?(?:ki|assistenten"
        r"|sprachmodell)\b",
    ),
    _rule(
        "indirect_injection.fr.note_to_ai",
        HIGH,
        "note message consigne & ia assistant modèle",
        r"(?:note|message|consigne)\s+(?:pour|à)\s+(?:l'|le\s+|la\s+)?(?:ia|assistant|modèle)\b",
    ),
    _rule(
        "indirect_injection.zh.note_to_ai",
        HIGH,
        "~致 ~给 ~給 ~你是",
        r"(?:致|给|給)(?:ai|人工智能|助手|语言模型|語言模型){1,2}(?:的)?(?:提示|说明|說明|指令|消息)"
        r"|(?:如果你是|若你是)(?:一个|一個)?(?:ai|人工智能|语言模型|語言模型|助手)",
    ),
    _rule(
        "indirect_injection.ru.note_to_ai",
        HIGH,
        "примечание сообщение инструкция указание если & ии ai ассистента ассистент модели "
        "нейросети нейросеть языковая",
        r"(?:примечание|сообщение|инструкция|указание)\s+для\s+(?:ии|ai|ассистента|модели"
        r"|нейросети)|если\s+ты\s+(?:ии|ai|ассистент|языковая модель|нейросеть)",
    ),
)

# --- token_smuggling (stated in the text) ---------------------------------------------------

_SMUGGLING_RULES = (
    _rule(
        "token_smuggling.en.decode_and_follow",
        HIGH,
        "base hex hexadecimal rot binary morse caesar url urlencoded reversed "
        "backwards encoded cipher ciphered encrypted & follow execute obey perform "
        "carry act comply do treat apply",
        r"\b(?:decode|decipher|decrypt|translate|convert|interpret|unscramble|reverse|read)\s+"
        r"(?:\w+\s+){0,4}?(?:base-?64|hex|hexadecimal|rot-?13|binary|morse|caesar|url-?encoded"
        r"|reversed|backwards|encoded|cipher|ciphered|encrypted)\b(?:[^.\n]{0,80}?)\b(?:and|then"
        r"|,)\s+(?:\w+\s+){0,2}?(?:follow|execute|obey|perform|carry\s+out|act\s+on|comply\s+with"
        r"|do\s+(?:what|as)\s+it\s+says|do\s+it|treat\s+it\s+as|apply)\b",
    ),
    _rule(
        "token_smuggling.en.encode_to_evade",
        HIGH,
        "filter filters detect detection censor moderation flag flagged monitor "
        "safety & respond reply answer write output speak talk communicate",
        r"\b(?:respond|reply|answer|write|output|speak|talk|communicate)\s+(?:\w+\s+){0,3}?"
        r"(?:only\s+)?in\s+(?:base-?64|hex|rot-?13|binary|morse|leetspeak|leet|code|cipher"
        r"|reverse)\b[^.\n]{0,80}?\b(?:so|to\s+(?:avoid|bypass|evade|get\s+(?:past|around))"
        r"|avoid|bypass|evade)\b[^.\n]{0,40}?(?:filter|detect|censor|moderat|flag|monitor|safety)",
    ),
)

# --- payload_splitting ------------------------------------------------------------------------

# Every short quoted literal, in order: the fragments a split payload is assembled from.
_FRAGMENT = re.compile(
    r"\"([^\"\n]{1,120})\"|(?<!\w)'([^'\n]{1,120})'(?!\w)|[“‘«]([^”’»\n]{1,120})[”’»]"
    r"|`([^`\n]{1,120})`"
)
# "a + b", "'ign' + 'ore'": starts with the literal "+", which the engine finds in C.
_CONCAT_OP = re.compile(r"\+ ?[a-z_$'\"`]")
_COMBINE_KEYS = frozenset(
    ("conca", "combi", "join", "joine", "toget", "merge", "appen", "glue", "zusam", "junta", "unir")
)
_EXECUTE_RESULT = re.compile(
    r"\b(?:follow|obey|execute|perform|carry\s+out|act\s+on|comply\s+with)\s+(?:\w+\s+){0,3}?"
    r"(?:result|resulting|combined|concatenated|it|that|this|z|c|them|instructions?)\b"
    r"|\bdo\s+what\s+(?:it|the\s+result|z|c)\s+says|\b(?:behave|act|respond)\s+(?:as|like)\s+"
    r"(?:the\s+)?(?:result|combined|[a-z]\d?)\b"
)

# --- context: mention rather than use ------------------------------------------------------

_QUOTED = re.compile(
    r"\"[^\"\n]{3,300}\"|“[^”\n]{3,300}”|«[^»\n]{3,300}»|「[^」\n]{1,300}」|『[^』\n]{1,300}』"
    r"|(?<!\w)'[^'\n]{3,300}'(?!\w)|‘[^’\n]{3,300}’|(?<!`)`[^`\n]{3,300}`(?!`)"
)
_META = re.compile(
    r"\b(?:translate|translation|traduce|traduis|übersetze|quote|quoted|phrase|sentence|string"
    r"|means?|meaning|example|examples|e\.g\.|such as|for instance|detect|detection|detector"
    r"|classif\w*|label|defend|defen[cs]e|protect|prevent|mitigat\w*|guard\s+against|filter"
    r"|regex|block|blocks|attack|attacks|injection|jailbreaks?|red[- ]team\w*|research"
    r"|spell|pronounce|grammar|what\s+does|how\s+do\s+you\s+say|is\s+this|why\s+does"
    r"|tests?|testing)\b"
    r"|翻译|翻譯|перевед"
)
# A short question about attacks ("what is DAN mode?") is a mention; persona and role-token
# hits in such a prompt are flagged rather than blocked.
_DISCUSSION = re.compile(
    r"\b(?:what\s+(?:is|are|was|does|do)|how\s+(?:do|does|can|could|should|would|to)\s+"
    r"(?:i|we|you|one|they|it|people|attackers?|someone|companies|developers)?\s*"
    r"(?:\w+\s+){0,3}?(?:defend|protect|detect|prevent|stop|block|mitigate|handle|spot|guard"
    r"|recogni[sz]e|test|work|format|use|write|tokeni[sz]e|escape|sanitize)|explain|why\s+"
    r"(?:do|does|is|are|did)|tell\s+me\s+about|history\s+of|examples?\s+of|difference\s+between"
    r"|is\s+it\s+(?:safe|possible|legal)|in\s+(?:python|javascript|the\s+docs|my\s+code))\b"
)
_DISCUSSION_MAX_CHARS = 400
# A quoted attack inside a long prompt is a payload, not a phrase being asked about.
_MENTION_MAX_CHARS = 600


# --- obfuscation view ----------------------------------------------------------------------

# Every regex here starts with a digit, symbol or separator class, which the regex engine
# scans for in C: on ordinary prose, most characters are letters and are skipped for free.
_LEET = str.maketrans("0134578@$", "oieastbas")
# Digits or symbols touching a letter: "1gn0r3", "pr3v10us", "h@ck" (not "1 to 10", "$5").
# Matched from the start of a run only, possessively: "0" * 10**6 is one attempt, not 10**6
# attempts that each scan to the end.
_LEET_RUN = re.compile(r"[0-9@$](?<![0-9@$].)[0-9@$]*+(?:(?=[a-z])|(?<=[a-z][0-9@$]))")
# A separator inside a word: "ig-nore", "in_struc_tions", "sys.tem".
_INTRA_WORD = re.compile(r"[-_.*~^`|+/\\](?<=[a-z].)(?=[a-z])")
# A word cut into a short first piece ("ig-nore", "dis-regard"); "well-known" is not one.
_SHORT_CUT = re.compile(
    r"[-_*~^`|+/\\](?:(?<=(?<![a-z])[a-z].)|(?<=(?<![a-z])[a-z]{2}.)|(?<=(?<![a-z])[a-z]{3}.))"
    r"[a-z]"
)
# Four single letters in a row: "i g n o r e", "i.g.n.o.r.e".
_SPACED_HINT = re.compile(
    r"[ .,\-_*/|+~](?<=(?<![a-z])[a-z].)[a-z][ .,\-_*/|+~][a-z][ .,\-_*/|+~][a-z](?![a-z])"
)
_SPACED_RUN = re.compile(r"(?<![a-z])[a-z](?:[ .\-_*/|+~,]+[a-z](?![a-z])){3,}")
_SEPARATORS = re.compile(r"[^a-z]+")
_SQUASHED = re.compile(
    r"(?:ignore|disregard|forget|bypass|override)\w{0,12}?(?:previous|prior|above|all|your"
    r"|earlier|system|the)\w{0,12}?(?:instructions?|rules|prompts?|guidelines|directives)"
    r"|(?:reveal|print|show|output|repeat|leak)\w{0,8}?(?:system|initial|hidden|secret)"
    r"(?:prompt|instructions?|message)|doanythingnow|developermode(?:enabled|activated|on)"
    r"|jailbr(?:oken|eakmode)|systemprompt"
)


_WINDOW = 160


def _deobfuscated_windows(low: str) -> list[str]:
    """Stretches of `low` around each sign of obfuscation, with the obfuscation undone.

    Only the neighbourhood of a sign is rebuilt and rescanned, so one hyphenated word in
    a long ordinary prompt costs a few hundred characters of scanning, not the whole text.
    """
    spots = sorted(
        m.start() for hint in (_LEET_RUN, _SPACED_HINT, _SHORT_CUT) for m in _limited(hint, low)
    )
    windows: list[tuple[int, int]] = []
    for spot in spots:
        if windows and spot - _WINDOW <= windows[-1][1]:
            windows[-1] = (windows[-1][0], spot + _WINDOW)
        else:
            windows.append((max(0, spot - _WINDOW), spot + _WINDOW))
    pieces = (low[start:end] for start, end in windows)
    return [fixed for piece in pieces if (fixed := _deobfuscate(piece)) != piece]


def _limited(pattern: re.Pattern[str], text: str, limit: int = 256) -> Iterator[re.Match[str]]:
    for count, match in enumerate(pattern.finditer(text)):
        if count >= limit:
            return
        yield match


def _deobfuscate(text: str) -> str:
    if _SPACED_HINT.search(text):
        text = _SPACED_RUN.sub(_squash, text)
    text = _LEET_RUN.sub(_unleet, text)
    return _INTRA_WORD.sub("", text)


def _squash(m: re.Match[str]) -> str:
    return _SEPARATORS.sub("", m.group())


def _unleet(m: re.Match[str]) -> str:
    return m.group().translate(_LEET)


_LONG_WORD = re.compile(r"[a-z]{14,}")
# First letters of the words a squashed attack starts with ("ignoreallprevious...").
_SQUASH_KEYS = frozenset(
    ("ignor", "disre", "forge", "bypas", "overr", "revea", "print", "show", "outpu", "repea",
     "leak", "doany", "devel", "jailb", "syste")
)  # fmt: skip


def _squashed_hit(text: str) -> bool:
    return any(_SQUASHED.search(word) for word in _LONG_WORD.findall(text))


# --- scanning -----------------------------------------------------------------------------

_RULES = (
    _OVERRIDE_RULES
    + _PERSONA_RULES
    + _EXTRACTION_RULES
    + _ROLE_RULES
    + _INDIRECT_RULES
    + _SMUGGLING_RULES
)
# The families an encoded or obfuscated payload is rescanned with.
_RESCAN_RULES = _OVERRIDE_RULES + _PERSONA_RULES + _EXTRACTION_RULES + _ROLE_RULES


def rules() -> tuple[Rule, ...]:
    """Every tiered rule (persona signals excluded), for tests and audits."""
    return _RULES


_WORD = re.compile(r"[^\W\d_]+")


_KEY_OF = operator.itemgetter(slice(KEY_LEN))
_ASCII_NON_LETTERS = bytes(c if chr(c).isalpha() else 32 for c in range(256))


def vocabulary(low: str) -> frozenset[str]:
    """The KEY_LEN-letter prefixes of the words in `low`: what rule keys are checked against."""
    if low.isascii():
        # Same words as _WORD, found by C-level translate and split instead of the regex.
        words = low.encode().translate(_ASCII_NON_LETTERS).decode().split()
    else:
        words = _WORD.findall(low)
    return frozenset(map(_KEY_OF, words))


class RuleIndex:
    """Rules by their first trigger, so a prompt only pays for rules its words can fire."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._by_key: dict[str, set[tuple[int, int]]] = {}
        self._by_mark: dict[str, set[tuple[int, int]]] = {}
        for pos, rule in enumerate(rules):
            for alt, (first, *_) in enumerate(rule.when):
                for key in first.keys:
                    self._by_key.setdefault(key, set()).add((pos, alt))
                for mark in first.marks:
                    self._by_mark.setdefault(mark, set()).add((pos, alt))
        self._keys = frozenset(self._by_key)
        # A mark found also stands for the marks inside it ("<<sys>>" holds "<sys").
        for mark, entries in self._by_mark.items():
            for inner, inner_entries in self._by_mark.items():
                if inner != mark and inner in mark:
                    entries |= inner_entries
        marks = sorted(self._by_mark, key=len, reverse=True)
        # One pass for all marks: the alternation starts with literals, so the regex engine
        # skips ahead in C over characters no mark can start with (most of an English text).
        self._marks = re.compile("|".join(map(re.escape, marks))) if marks else None

    def candidates(self, low: str, vocab: frozenset[str]) -> list[Rule]:
        entries: set[tuple[int, int]] = set()
        for key in vocab & self._keys:
            entries |= self._by_key[key]
        if self._marks is not None:
            for mark in set(self._marks.findall(low)):
                entries |= self._by_mark[mark]
        chosen = {
            pos
            for pos, alt in entries
            if all(t.present(low, vocab) for t in self.rules[pos].when[alt][1:])
        }
        return [self.rules[pos] for pos in sorted(chosen)]

    def match(self, low: str, text: str | None = None, vocab: frozenset[str] | None = None
              ) -> Iterator[Hit]:  # fmt: skip
        """Hits in `low` (lower-cased); cased rules read `text`, the original, when given."""
        for rule in self.candidates(low, vocabulary(low) if vocab is None else vocab):
            m = rule.search(text if rule.cased and text is not None else low)
            if m is not None:
                yield Hit(rule.rule_id, rule.tier, m.start(), m.end())


_MAIN = RuleIndex(_RULES)
_RESCAN = RuleIndex(_RESCAN_RULES)
_SIGNALS = RuleIndex(_PERSONA_SIGNALS)


def scan(prompt: NormalizedPrompt) -> ShieldVerdict:
    """Risk level, categories and matching rule ids for one prompt; pure and never raises."""
    low = prompt.text.lower()
    vocab = vocabulary(low)
    hits = list(_MAIN.match(low, prompt.text, vocab))
    hits.extend(_persona_hits(low, prompt.text, vocab))
    hits.extend(_structural_hits(low, vocab))
    hits.extend(_obfuscated_hits(low, vocab, hits))
    hits.extend(_decoded_hits(prompt.decoded))
    hits = _dampen(low, hits)
    return _verdict(hits)


def _persona_hits(low: str, text: str, vocab: frozenset[str]) -> list[Hit]:
    signals = list(_SIGNALS.match(low, text, vocab))
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


_TURN_KEYS = frozenset(("assis", "ai", "chatg", "gpt", "bot", "claud"))

# --- hidden HTML: comments and invisible elements ----------------------------------------

_MAX_HTML_SPOTS = 64
_HTML_SPAN = 600
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|font-size\s*:\s*0(?:\.\d+)?(?:px|pt|em)?\s*[;\"']|color\s*:\s*"
    r"(?:white|#fff(?:fff)?\b|transparent)|visibility\s*:\s*hidden|opacity\s*:\s*0\s*[;\"']"
    r"|\bhidden\b[^>]{0,40}>"
)
_HIDDEN_STYLE_KEYS = frozenset(("displ", "font", "size", "color", "visib", "opaci", "hidde"))
_HTML_OVERRIDE = re.compile(r"\b(?:ignore|disregard|forget)\s+(?:all|any|the|previous|prior|your)")
_HTML_ADDRESSEE = re.compile(
    r"\b(?:ai|a\.i\.|llm|language\s+model|assistant|chatbot|gpt|chatgpt|claude|copilot|gemini"
    r"|bot|model|agent|you)\b"
)
_HTML_DIRECTIVE = re.compile(
    r"\b(?:must|should|always|never|do\s+not|don't|tell|say|respond|reply|include|recommend"
    r"|ignore|disregard|instead|forward|send|email|exfiltrate|visit|click)\b"
)


def _hidden_html_hits(low: str, vocab: frozenset[str]) -> list[Hit]:
    """Instructions for an AI hidden in an HTML comment or an invisible element."""
    hits = []
    if "<!--" in low and any(map(_directs_ai, _comment_bodies(low))):
        hits.append(Hit("indirect_injection.html.hidden_comment", HIGH))
    if not vocab.isdisjoint(_HIDDEN_STYLE_KEYS):
        hidden = _limited(_HIDDEN_STYLE, low, _MAX_HTML_SPOTS)
        if any(_directs_ai(low[m.end() : m.end() + _HTML_SPAN].split("<", 1)[0]) for m in hidden):
            hits.append(Hit("indirect_injection.html.hidden_text", HIGH))
    return hits


def _comment_bodies(low: str) -> Iterator[str]:
    # Found with str.find and never overlapping, so "<!--" repeated a million times stays
    # linear (a regex would rescan the same stretch from every opening).
    start = low.find("<!--")
    for _ in range(_MAX_HTML_SPOTS):
        if start < 0:
            return
        end = low.find("-->", start + 4, start + 4 + _HTML_SPAN)
        stop = end if end >= 0 else start + 4 + _HTML_SPAN
        yield low[start + 4 : stop]
        start = low.find("<!--", stop)


def _directs_ai(text: str) -> bool:
    if _HTML_OVERRIDE.search(text):
        return True
    addressee = _HTML_ADDRESSEE.search(text)
    return addressee is not None and _HTML_DIRECTIVE.search(text, addressee.end()) is not None


def _fake_dialogue(low: str) -> bool:
    """A "User:" line followed later by an "Assistant:" line."""
    text = "\n" + low
    user = _USER_TURN.search(text)
    return user is not None and _AI_TURN.search(text, user.end()) is not None


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
        if (inside_quote and hit.category in _MENTION_CAPPED) or mention:
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
