"""False-hit guards: a semantic candidate is served only if both prompts agree on what a
static embedding cannot see (numbers and units, named entities, negation and opposites,
comparison direction, the answer's language, requested format or length), and the one
shape of a different question it scores highest: the same sentence with a word substituted.

Each prompt is reduced once to `GuardFeatures`, sets of short keyed hashes, so an entry keeps
what its guards compare and never its prompt's text. Reading a prompt takes about 0.1 ms
(mostly the keyed hashes); comparing two, a few microseconds (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from typing import Any

from django.conf import settings

from routing.cache.keys import cache_text
from routing.precheck.classifier.language import detect_language

GUARD_REASONS = (
    "numbers", "language", "entities", "negation", "direction", "format", "substitution",
)  # fmt: skip

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "half": "0.5", "quarter": "0.25", "double": "2", "twice": "x2", "triple": "x3",
    "dozen": "12", "once": "x1",
}  # fmt: skip
# "second" only where it cannot be the unit of time ("a second", "per second").
_ORDINAL_WORDS = {
    "first": "1th", "second": "2th", "third": "3th", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
}  # fmt: skip
_PER = {"a", "an", "per", "every", "each", "one", "1"}
_UNITS = {
    "%": "%", "percent": "%", "kg": "kg", "kilograms": "kg", "kilogram": "kg", "g": "g",
    "grams": "g", "gram": "g", "lb": "lb", "lbs": "lb", "pounds": "lb", "pound": "lb",
    "oz": "oz", "ounces": "oz", "km": "km", "kilometers": "km", "kilometres": "km", "m": "m",
    "meters": "m", "metres": "m", "cm": "cm", "mm": "mm", "mi": "mi", "miles": "mi",
    "mile": "mi", "ft": "ft", "feet": "ft", "foot": "ft", "inch": "in",
    "inches": "in", "mph": "mph", "kmh": "kmh", "c": "c", "°c": "c", "celsius": "c", "f": "f",
    "°f": "f", "fahrenheit": "f", "s": "s", "sec": "s", "seconds": "s", "second": "s",
    "ms": "ms", "min": "min", "minutes": "min", "minute": "min", "h": "h", "hours": "h",
    "hour": "h", "hr": "h", "hrs": "h", "days": "d", "day": "d", "weeks": "w", "week": "w",
    "months": "mo",
    "month": "mo", "years": "y", "year": "y", "usd": "usd", "dollars": "usd", "eur": "eur",
    "euros": "eur", "gb": "gb", "mb": "mb", "kb": "kb", "tb": "tb", "words": "words",
    "sentences": "sentences", "paragraphs": "paragraphs", "lines": "lines", "items": "items",
    "bullets": "bullets", "steps": "steps", "points": "points",
}  # fmt: skip
_NEGATIONS = {
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot",
    "except", "excluding", "dont", "doesnt", "isnt", "arent", "wasnt", "werent", "cant",
    "wont", "shouldnt", "wouldnt", "couldnt", "didnt", "hasnt", "havent", "avoid",
}  # fmt: skip
# Word -> (group, pole): two prompts that use one group must use the same pole of it.
_POLES: dict[str, tuple[str, int]] = {}
for _group, (_one, _other) in {
    "more": ({"more", "greater", "higher", "bigger", "larger", "longer", "increase",
              "increasing", "raise", "above", "most", "max", "maximum", "largest",
              "biggest", "highest", "longest", "upper"},
             {"less", "fewer", "lower", "smaller", "shorter", "decrease", "decreasing",
              "reduce", "below", "least", "min", "minimum", "smallest", "lowest",
              "shortest", "bottom"}),
    "order": ({"ascending", "asc", "sort", "sorted", "forward", "first", "oldest", "earliest",
               "before", "start", "beginning"},
              {"descending", "desc", "reverse", "reversed", "backward", "backwards", "last",
               "newest", "latest", "after", "end", "ending"}),
    "speed": ({"faster", "fastest", "quicker", "quickest", "speed"},
              {"slower", "slowest", "slow"}),
    "good": ({"best", "better", "pros", "advantages", "benefits", "good"},
             {"worst", "worse", "cons", "disadvantages", "drawbacks", "bad", "risks"}),
    "ease": ({"easy", "easier", "easiest", "simple", "simpler", "simplest"},
             {"hard", "harder", "hardest", "difficult", "tough", "toughest"}),
    "cost": ({"cheaper", "cheapest", "cheap"}, {"expensive", "pricier", "costlier"}),
    "codec": ({"encode", "encrypt", "compress", "serialize", "zip", "encoding", "encryption"},
              {"decode", "decrypt", "decompress", "deserialize", "unzip", "decoding",
               "decryption"}),
    "change": ({"add", "insert", "append", "create", "install", "enable", "open", "start",
                "import", "upload", "push", "buy", "join", "merge", "lock", "keep", "retain",
                "include", "accept", "allow"},
               {"remove", "delete", "drop", "uninstall", "disable", "close", "stop", "export",
                "download", "pull", "sell", "leave", "split", "unlock", "discard", "exclude",
                "reject", "deny", "block"}),
    # A stance, a switch, a temperature, a trend: "for"/"on" are used by both sides of
    # most pairs alike, so they only count against their opposite.
    "stance": ({"for", "pro", "favor", "favour", "support", "supporting", "defend"},
               {"against", "con", "oppose", "opposing", "criticize", "criticise"}),
    "switch": ({"on", "show", "visible", "unhide", "reveal"},
               {"off", "hide", "hidden", "invisible", "conceal"}),
    "heat": ({"warm", "warmer", "warmest", "hot", "hotter", "heat", "heating", "boil",
              "boiling", "melt", "melting"},
             {"cool", "cooler", "coolest", "cold", "colder", "chill", "cooling", "freeze",
              "freezing", "frozen"}),
    "trend": ({"rise", "rising", "rose", "grow", "growth", "gain", "gaining", "win", "winning",
               "success", "successful", "victory", "love", "agree"},
              {"fall", "falling", "fell", "decline", "declining", "collapse", "shrink", "lose",
               "losing", "failure", "fail", "defeat", "hate", "disagree"}),
    # Not up/down, on/off, left/right: as prepositions they would refuse paraphrases.
    "compass": ({"north", "east"}, {"south", "west"}),
    "truth": ({"true", "odd", "positive", "past"}, {"false", "even", "negative", "future"}),
}.items():  # fmt: skip
    for _pole, _words in enumerate((_one, _other)):
        for _word in _words:
            _POLES.setdefault(_word, (_group, _pole))
_LANGUAGES = {
    "english", "french", "spanish", "german", "italian", "portuguese", "chinese", "mandarin",
    "cantonese", "japanese", "korean", "russian", "arabic", "hindi", "dutch", "swedish",
    "norwegian", "danish", "finnish", "polish", "turkish", "greek", "hebrew", "latin",
    "ukrainian", "czech", "vietnamese", "thai", "indonesian", "persian", "urdu", "bengali",
    "python", "javascript", "typescript", "java", "c++", "c#", "rust", "golang", "ruby", "php",
    "swift", "kotlin", "scala", "sql", "bash", "shell", "powershell", "haskell", "perl", "lua",
    "html", "css", "matlab", "julia", "elixir", "erlang", "dart", "fortran", "cobol",
}  # fmt: skip
_FORMATS = {
    "json", "yaml", "xml", "csv", "table", "markdown", "bullet", "bullets", "numbered",
    "code", "snippet", "haiku", "poem", "sonnet", "limerick", "essay", "email", "letter",
    "tweet", "summary", "summarize", "summarise", "outline", "paragraph", "paragraphs",
    "sentence", "sentences", "short", "brief", "briefly", "concise", "detailed", "long",
    "step-by-step", "eli5", "diagram", "chart", "regex", "script", "function", "class",
    "example", "examples", "story", "joke", "song", "slogan", "title", "headline", "formal",
    "informal", "casual", "list", "one-line", "oneliner", "one-liner", "word", "words",
    "checklist", "timeline", "detail", "depth", "full", "rhyme", "rhymes", "rhyming", "verse",
    "free-verse", "yes", "items", "points",
}  # fmt: skip
_FORMAT_ALIASES = {
    "summarize": "summary", "summarise": "summary", "tldr": "summary", "tl;dr": "summary",
    "bullet": "bullets", "paragraph": "paragraphs", "sentence": "sentences", "word": "words",
    "rhyme": "rhyming", "rhymes": "rhyming", "brief": "short", "briefly": "short",
    "concise": "short", "detail": "detailed", "depth": "detailed", "simply": "simple",
    "example": "examples", "point": "points", "item": "items",
}  # fmt: skip
# The same thing said two ways, folded before anything is compared.
_EQUIVALENTS = [
    (re.compile(p), r) for p, r in (
        (r"\bunited states(?: of america)?\b|\bu\.s\.a?\.?(?=\s|$)|\busa\b", "us"),
        (r"\bunited kingdom\b|\bu\.k\.(?=\s|$)", "uk"),
        (r"\bregular expressions?\b", "regex"),
        (r"\btl;?dr\b", "summarize"),
        (r"\bjs\b", "javascript"), (r"\bts\b", "typescript"), (r"\bpy\b", "python"),
        (r"\bwi-fi\b", "wifi"), (r"\be-mail\b", "email"),
        (r"(\w)['\u2019]s\b", r"\1"),  # a possessive: "rome's first emperor"
    )
]  # fmt: skip
_EQUIVALENTS_TYPED = [
    (re.compile(p.pattern, re.IGNORECASE), r if r.startswith("\\") else r.upper())
    for p, r in _EQUIVALENTS
]
# The spoken languages' names, as the precheck's detector names them.
_SPOKEN = {
    "english": "en", "french": "fr", "spanish": "es", "german": "de", "italian": "it",
    "portuguese": "pt", "chinese": "zh", "mandarin": "zh", "japanese": "ja", "korean": "ko",
    "russian": "ru", "arabic": "ar", "hindi": "hi", "dutch": "nl", "swedish": "sv",
    "norwegian": "no", "danish": "da", "finnish": "fi", "polish": "pl", "turkish": "tr",
    "greek": "el", "hebrew": "he", "ukrainian": "uk", "czech": "cs", "vietnamese": "vi",
    "thai": "th", "indonesian": "id", "persian": "fa",
}  # fmt: skip
# Only asymmetric comparisons: "the difference between A and B" is B and A's too.
_COMPARING = {"than", "superior", "inferior", "outperform", "outperforms", "beat", "beats"}
# "Convert A to B" is not "convert B to A": the content words either side of these.
_ARROWS = {"to", "into", "from", "than", "over", "onto", "towards", "toward"}
# Prefixes and suffixes that turn a word into its opposite ("safe"/"unsafe",
# "correctly"/"incorrectly", "careful"/"careless").
_NEGATING_PREFIXES = ("un", "in", "im", "ir", "il", "dis", "non", "non-", "anti")
_STOP = {
    "i", "a", "an", "the", "what", "how", "why", "who", "when", "where", "which", "is", "are",
    "do", "does", "can", "could", "should", "would", "will", "my", "me", "you", "your", "it",
    "in", "on", "of", "to", "for", "and", "with", "please", "tell", "explain", "give",
}  # fmt: skip
_TOKEN = re.compile(r"[$€£]?\d+(?:[.,]\d+)*(?:st|nd|rd|th|k)?\b|[°]?[\w+#'-]+|%", re.UNICODE)
_NUMBER = re.compile(r"[$€£]?(\d+(?:[.,]\d+)*)(st|nd|rd|th|k)?$")
# "50/30/20" is "50-30-20", "4-year-old" is "four year old": numbers are read split there.
_JOINER = re.compile(r"(?<=\w)[-/](?=\w)")
# Words that carry no topic: left out of the content stems the verifier compares.
_FUNCTION = _STOP | {
    "am", "be", "been", "being", "was", "were", "did", "has", "have", "had", "this", "that",
    "these", "those", "there", "any", "some", "way", "ways", "best", "get", "make", "if",
    "its", "at", "by", "about", "or", "from", "as", "so", "we", "they", "our", "their",
    "up", "out", "im", "ive", "id", "possible", "ok", "really", "just", "also", "into",
}  # fmt: skip
_SUFFIXES = ("ing", "ed", "es", "s", "ly", "er")
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]*|\b[A-Z]{2,}\b")


_SETS = (
    "numbers", "entities", "words", "poles", "languages", "formats", "stems", "arrows",
    "backs", "opposites",
)  # fmt: skip


@dataclass(frozen=True)
class GuardFeatures:
    """What the guards compare of one prompt, as keyed hashes (never the prompt's text)."""

    numbers: frozenset[str]
    entities: frozenset[str]
    words: frozenset[str]
    negated: int  # how many negations: "not ... without" is not "not ..."
    poles: frozenset[str]
    languages: frozenset[str]
    formats: frozenset[str]
    order: tuple[str, ...]  # content words in order, when the prompt compares
    stems: frozenset[str] = frozenset()  # content words, stemmed: what the verifier overlaps
    arrows: frozenset[str] = frozenset()  # "a>b" for "a to b", "a into b", "a than b"
    backs: frozenset[str] = frozenset()  # the same arrows reversed, "b>a"
    opposites: frozenset[str] = frozenset()  # "safe" for "unsafe", "care+" for "careless"
    skeleton: tuple[str, ...] = ()  # every token, stemmed, in order

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: sorted(getattr(self, name)) for name in _SETS}
        return data | {
            "negated": self.negated,
            "order": list(self.order),
            "skeleton": list(self.skeleton),
        }

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> GuardFeatures:
        sets = {name: frozenset(data.get(name, ())) for name in _SETS}
        negated = int(data.get("negated") or 0)
        return cls(
            **sets,
            negated=negated,
            order=tuple(data.get("order", ())),
            skeleton=tuple(data.get("skeleton", ())),
        )


def guard_features(prompt: str) -> GuardFeatures:
    """The guards' view of one prompt."""
    folded = _equivalents(cache_text(prompt))
    raw = [t.strip("'-") for t in _TOKEN.findall(folded)]
    negations = sum(1 for t in raw if t in _NEGATIONS or t.endswith("n't"))
    tokens = [t.replace("'", "") for t in raw if t]
    split = [t.strip("'-").replace("'", "") for t in _TOKEN.findall(_JOINER.sub(" ", folded))]
    numbers = _numbers([t for t in split if t])
    capitals = {
        _entity(m.group(0))
        for m in _CAPITAL.finditer(_equivalents(prompt.strip().lstrip("¿¡\"'("), fold=False))
    }
    # Language and format names are compared by their own guards, whatever their case.
    entities = capitals - _STOP - _LANGUAGES - _FORMATS - {""}
    words = set(tokens)
    spellings = words | set(split) | {_entity(w) for w in words}
    comparing = bool(words & _COMPARING)
    order = tuple(t for t in tokens if t not in _STOP and t not in _COMPARING) if comparing else ()
    arrows = _arrows(tokens)
    opposites, positives = _opposites(words)
    return GuardFeatures(
        numbers=_hashed(numbers),
        entities=_hashed(entities),
        words=_hashed(spellings | positives),
        negated=negations,
        poles=_hashed(f"{g}:{p}" for g, p in (_POLES[w] for w in words if w in _POLES)),
        languages=_hashed(_languages(prompt, words)),
        formats=_hashed(_format(tokens)),
        order=tuple(_hash(t) for t in order),
        stems=_hashed(_stem(t) for t in words - _FUNCTION if not _NUMBER.match(t)),
        arrows=_hashed(f"{a}>{b}" for a, b in arrows),
        backs=_hashed(f"{b}>{a}" for a, b in arrows),
        opposites=_hashed(opposites),
        skeleton=tuple(_hash(_skeleton_word(t)) for t in split if t),
    )


def guard_refusal(new: GuardFeatures, cached: GuardFeatures) -> str | None:
    """Why `cached`'s answer must not serve `new` (one of GUARD_REASONS), or None."""
    if new.numbers != cached.numbers:
        return "numbers"
    if new.languages != cached.languages:
        return "language"
    if _swapped_entities(new, cached):
        return "entities"
    if new.negated != cached.negated or _opposed(new, cached) or _opposed(cached, new):
        return "negation"
    if _poles_differ(new.poles, cached.poles) or _reordered(new.order, cached.order):
        return "direction"
    if new.arrows & cached.backs:
        return "direction"
    if new.formats != cached.formats:
        return "format"
    if _substituted(new.skeleton, cached.skeleton):
        return "substitution"
    return None


def _languages(prompt: str, words: set[str]) -> set[str]:
    """The languages a prompt names (spoken ones by their code) and, when it names no
    spoken one, the language it is written in: the answer comes in that language, so
    "¿Qué es X? Answer in English" asks what "What is X?" asks, and "¿Qué es X?" does not.
    English is the default, left out: a short English prompt is often detected as
    undetermined, and "in English" on an English prompt asks nothing more."""
    named = words & _LANGUAGES
    spoken = {_SPOKEN.get(w, w) for w in named}
    if not named & _SPOKEN.keys():
        spoken.add(detect_language(prompt))
    return spoken - {"en", "und"}


def _equivalents(text: str, *, fold: bool = True) -> str:
    """The equivalents folded; with `fold` off, on the prompt as typed (where capitals
    still mark names), an abbreviation in capitals ("US")."""
    table = _EQUIVALENTS if fold else _EQUIVALENTS_TYPED
    for pattern, replacement in table:
        text = pattern.sub(replacement, text)
    return text


def _entity(word: str) -> str:
    """A name as compared: case, apostrophes, dots, hyphens and a plural "s" dropped
    ("Wi-Fi", "wifi"; "TVs", "TV"; "Node.js", "nodejs")."""
    name = re.sub(r"['\u2019.\-]", "", word.casefold())
    return name[:-1] if len(name) > 3 and name.endswith("s") else name


def _swapped_entities(new: GuardFeatures, cached: GuardFeatures) -> bool:
    """A name each prompt has and the other lacks: one was swapped for the other. A name
    only one of them gives ("Chrome", "Google Chrome") narrows, it does not swap."""
    return bool(new.entities - cached.words) or bool(cached.entities - new.words)


def _poles_differ(one: frozenset[str], other: frozenset[str]) -> bool:
    """Whether the two prompts use a pole group ("more"/"less", "for"/"against") with
    different poles; a group only one of them uses is wording, not a flip."""
    groups_one, groups_other = _pole_groups(one), _pole_groups(other)
    shared = groups_one.keys() & groups_other.keys()
    return any(groups_one[group] != groups_other[group] for group in shared)


def _pole_groups(poles: frozenset[str]) -> dict[str, set[str]]:
    """Group -> the poles of it a prompt uses, from the hashed "group:pole" values."""
    groups: dict[str, set[str]] = {}
    for hashed in poles:
        group, _, pole = _pole_names().get(hashed, hashed).partition(":")
        groups.setdefault(group, set()).add(pole)
    return groups


@cache
def _pole_names() -> dict[str, str]:
    names = {f"{g}:{p}" for g, p in _POLES.values()}
    return {_hash(name): name for name in names}


def _opposed(one: GuardFeatures, other: GuardFeatures) -> bool:
    """ "unsafe" in one prompt, "safe" (and not "unsafe") in the other."""
    return bool((one.opposites & other.words) - other.opposites)


def _opposites(words: set[str]) -> tuple[set[str], set[str]]:
    """(the bases of words that negate them, marks of words with a positive suffix):
    "unsafe" -> "safe", "careless" -> "care+", and "careful" -> "care+" as a word."""
    opposites, positives = set(), set()
    for word in words - _FUNCTION:
        for prefix in _NEGATING_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 4:
                opposites.add(word[len(prefix) :])
        if word.endswith("less") and len(word) > 6:
            opposites.add(word[:-4] + "+")
        elif word.endswith("ful") and len(word) > 5:
            positives.add(word[:-3] + "+")
    return opposites, positives


def _arrows(tokens: list[str]) -> set[tuple[str, str]]:
    """(a, b) for each "a to b", "a into b", "a than b": the nearest content word either
    side of the arrow word."""
    content = [(i, t) for i, t in enumerate(tokens) if t not in _FUNCTION and t not in _ARROWS]
    found = set()
    for i, token in enumerate(tokens):
        if token not in _ARROWS:
            continue
        left = [t for j, t in content if j < i]
        right = [t for j, t in content if j > i]
        if left and right and left[-1] != right[0]:
            found.add((left[-1], right[0]))
    return found


def _substituted(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """The same sentence with one or two content words changed ("clean"/"season a cast
    iron pan", "a for"/"a while loop"): what a static embedding scores highest and a
    paraphrase almost never is. Words with the same stem count as the same."""
    if not one or not other:
        return False
    ops = [op for op in SequenceMatcher(None, one, other, autojunk=False).get_opcodes()]
    changed = [op for op in ops if op[0] != "equal"]
    if len(changed) != 1 or changed[0][0] != "replace":
        return False
    _, i1, i2, j1, j2 = changed[0]
    if i2 - i1 > 3 or j2 - j1 > 3:
        return False
    kept = len(one) - (i2 - i1)
    if kept < 3 or kept < 0.6 * max(len(one), len(other)):
        return False
    swapped = set(one[i1:i2]) | set(other[j1:j2])
    return not swapped <= _function_hashes()


def _skeleton_word(token: str) -> str:
    """A token as the substitution guard compares it: a number by its value, a word by its
    stem without a final "e" ("reverse", "reversing")."""
    value = _number(token, "")
    return value if value is not None else _stem(token).removesuffix("e")


@cache
def _function_hashes() -> frozenset[str]:
    return _hashed(_skeleton_word(w) for w in _FUNCTION)


def _format(words: list[str]) -> set[str]:
    """The format words asked for, each under one name; "how long" asks a duration and
    "list" after "i", "to" or "you" is the verb."""
    found = set()
    for i, term in enumerate(words):
        if term not in _FORMATS and not (term.endswith("s") and term[:-1] in _FORMATS):
            continue
        before = words[i - 1] if i else ""
        if term == "long" and before == "how":
            continue
        if term == "list" and (i == 0 or before in {"i", "to", "you", "and", "we"}):
            continue
        name = _singular(term)
        found.add(_FORMAT_ALIASES.get(name, _FORMAT_ALIASES.get(term, name)))
    return found


def _reordered(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether two comparisons name their shared words in another order ("is A faster than
    B" and "is B faster than A"); words only one of them uses do not count."""
    shared = set(one) & set(other)
    return [w for w in one if w in shared] != [w for w in other if w in shared]


def _numbers(tokens: list[str]) -> set[str]:
    """Each number (digits or words) with the unit that follows it, if any. One ("a",
    "one", "1", "first") is left out: "a cup" and "1 cup" ask the same, and a "first" or
    "opening" line is only one of many words for it."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        before = tokens[i - 1] if i else ""
        value = _number(token, before)
        if value is None or value in {"1", "1th"}:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        found.add(f"{value}{_UNITS.get(following, '') if not value.endswith('th') else ''}")
    return found


def _number(term: str, before: str) -> str | None:
    match = _NUMBER.match(term)
    if match is None:
        if term == "second" and before in _PER:
            return None  # the unit of time
        return _ORDINAL_WORDS.get(term) or _NUMBER_WORDS.get(term)
    value, suffix = match.group(1).replace(",", ""), match.group(2)
    if suffix == "k":
        return str(round(float(value) * 1000))
    if suffix:
        return value + "th"  # an ordinal: "the 3rd" is not "3 items"
    return value


def _stem(word: str) -> str:
    """A crude suffix strip ("tripping", "trips" -> "tripp", "trip"): enough for overlap."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and word[:-1] in _FORMATS else word


def _hashed(values: Iterable[str]) -> frozenset[str]:
    return frozenset(_hash(v) for v in values)


def _hash(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8"), key=_key(), digest_size=6).hexdigest()


@cache
def _key() -> bytes:
    """A key from the project's secret: an entry's hashes say nothing without it."""
    return hashlib.sha256(f"semantic-cache-guards:{settings.SECRET_KEY}".encode()).digest()[:32]
