"""False-hit guards: a semantic candidate is served only if both prompts agree on what a
static embedding cannot see (numbers and units, named entities, negation, comparison
direction, target language, requested format or length).

Each prompt is reduced once to `GuardFeatures`, sets of short keyed hashes, so an entry keeps
what its guards compare and never its prompt's text. Checks are set comparisons over the
normalised text: a few microseconds a prompt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings

from routing.cache.keys import cache_text

GUARD_REASONS = ("numbers", "language", "entities", "negation", "direction", "format")

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "half": "0.5", "quarter": "0.25", "double": "x2", "twice": "x2", "triple": "x3",
    "dozen": "12", "once": "x1",
}  # fmt: skip
_UNITS = {
    "%": "%", "percent": "%", "kg": "kg", "kilograms": "kg", "kilogram": "kg", "g": "g",
    "grams": "g", "gram": "g", "lb": "lb", "lbs": "lb", "pounds": "lb", "pound": "lb",
    "oz": "oz", "ounces": "oz", "km": "km", "kilometers": "km", "kilometres": "km", "m": "m",
    "meters": "m", "metres": "m", "cm": "cm", "mm": "mm", "mi": "mi", "miles": "mi",
    "mile": "mi", "ft": "ft", "feet": "ft", "foot": "ft", "in": "in", "inch": "in",
    "inches": "in", "mph": "mph", "kmh": "kmh", "c": "c", "°c": "c", "celsius": "c", "f": "f",
    "°f": "f", "fahrenheit": "f", "s": "s", "sec": "s", "seconds": "s", "second": "s",
    "ms": "ms", "min": "min", "minutes": "min", "minute": "min", "h": "h", "hours": "h",
    "hour": "h", "days": "d", "day": "d", "weeks": "w", "week": "w", "months": "mo",
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
                "import", "upload", "push", "buy", "join", "merge", "lock"},
               {"remove", "delete", "drop", "uninstall", "disable", "close", "stop", "export",
                "download", "pull", "sell", "leave", "split", "unlock"}),
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
    "informal", "casual", "list", "one-line", "oneliner", "word", "words",
}  # fmt: skip
# Only asymmetric comparisons: "the difference between A and B" is B and A's too.
_COMPARING = {"than", "superior", "inferior", "outperform", "outperforms", "beat", "beats"}
_STOP = {
    "i", "a", "an", "the", "what", "how", "why", "who", "when", "where", "which", "is", "are",
    "do", "does", "can", "could", "should", "would", "will", "my", "me", "you", "your", "it",
    "in", "on", "of", "to", "for", "and", "with", "please", "tell", "explain", "give",
}  # fmt: skip
_TOKEN = re.compile(r"[$€£]?\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|[°]?[\w+#'-]+|%", re.UNICODE)
_NUMBER = re.compile(r"[$€£]?(\d+(?:[.,]\d+)*)(st|nd|rd|th)?$")
# Words that carry no topic: left out of the content stems the verifier compares.
_FUNCTION = _STOP | {
    "am", "be", "been", "being", "was", "were", "did", "has", "have", "had", "this", "that",
    "these", "those", "there", "any", "some", "way", "ways", "best", "get", "make", "if",
    "its", "at", "by", "about", "or", "from", "as", "so", "we", "they", "our", "their",
    "up", "out", "im", "ive", "id", "possible", "ok", "really", "just", "also", "into",
}  # fmt: skip
_SUFFIXES = ("ing", "ed", "es", "s", "ly", "er")
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]*|\b[A-Z]{2,}\b")


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

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: sorted(getattr(self, name))
            for name in ("numbers", "entities", "words", "poles", "languages", "formats", "stems")
        }
        return data | {"negated": self.negated, "order": list(self.order)}

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> GuardFeatures:
        sets = {
            name: frozenset(data.get(name, ()))
            for name in ("numbers", "entities", "words", "poles", "languages", "formats", "stems")
        }
        negated = int(data.get("negated") or 0)
        return cls(**sets, negated=negated, order=tuple(data.get("order", ())))


def guard_features(prompt: str) -> GuardFeatures:
    """The guards' view of one prompt."""
    folded = cache_text(prompt)
    raw = [t.strip("'-") for t in _TOKEN.findall(folded)]
    negations = sum(1 for t in raw if t in _NEGATIONS or t.endswith("n't"))
    tokens = [t.replace("'", "") for t in raw if t]
    numbers = _numbers(tokens)
    capitals = {
        m.group(0).casefold().replace("'", "").replace("\u2019", "")
        for m in _CAPITAL.finditer(prompt.strip())
    }
    # Language and format names are compared by their own guards, whatever their case.
    entities = capitals - _STOP - _LANGUAGES - _FORMATS
    words = set(tokens)
    comparing = bool(words & _COMPARING)
    order = tuple(t for t in tokens if t not in _STOP and t not in _COMPARING) if comparing else ()
    return GuardFeatures(
        numbers=_hashed(numbers),
        entities=_hashed(entities),
        words=_hashed(words),
        negated=negations,
        poles=_hashed(f"{g}:{p}" for g, p in (_POLES[w] for w in words if w in _POLES)),
        languages=_hashed(words & _LANGUAGES),
        formats=_hashed(_singular(w) for w in words & _FORMATS),
        order=tuple(_hash(t) for t in order),
        stems=_hashed(_stem(t) for t in words - _FUNCTION if not _NUMBER.match(t)),
    )


def guard_refusal(new: GuardFeatures, cached: GuardFeatures) -> str | None:
    """Why `cached`'s answer must not serve `new` (one of GUARD_REASONS), or None."""
    if new.numbers != cached.numbers:
        return "numbers"
    if new.languages != cached.languages:
        return "language"
    if not (new.entities <= cached.words and cached.entities <= new.words):
        return "entities"
    if new.negated != cached.negated:
        return "negation"
    if new.poles != cached.poles or _reordered(new.order, cached.order):
        return "direction"
    if new.formats != cached.formats:
        return "format"
    return None


def _reordered(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether two comparisons name their shared words in another order ("is A faster than
    B" and "is B faster than A"); words only one of them uses do not count."""
    shared = set(one) & set(other)
    return [w for w in one if w in shared] != [w for w in other if w in shared]


def _numbers(tokens: list[str]) -> set[str]:
    """Each number (digits or words) with the unit that follows it, if any."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        match = _NUMBER.match(token)
        value = match.group(1).replace(",", "") if match else _NUMBER_WORDS.get(token)
        if value is None:
            continue
        if match and match.group(2):
            value += "th"  # an ordinal: "the 3rd" is not "3 items"
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if value == "1" and not match and following not in _UNITS:
            continue  # a determiner ("in one shower", "more than one"), not a count
        found.add(f"{value}{_UNITS.get(following, '')}")
    return found


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
