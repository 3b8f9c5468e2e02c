"""Prompt normalizer: the first precheck stage.

Every later stage (exact cache, shield, classifier) sees `NormalizedPrompt.text`, so two
prompts that differ only by invisible characters, compatibility forms, look-alike letters
or spacing share one text and one cache key. Embedded encoded runs (base64, hex, URL
escapes, rot13, Unicode tag / variation-selector smuggling) are decoded into `decoded` so
the shield can rescan them.

Pure Python, no Django import: the benchmark runs it without settings. Every pass is a
C-level regex, translate or codec call over the text, so the cost stays linear; decoding
is capped in candidates and output size so a hostile 1 MB prompt stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from routing.precheck.anchors import start_anchors

MAX_DECODED_ITEMS = 16
MAX_DECODED_CHARS = 16_384
# A single candidate longer than this is decoded only up to the cap.
MAX_CANDIDATE_CHARS = 8_192
MIN_ENCODED_CHARS = 16


@dataclass(frozen=True)
class NormalizedPrompt:
    text: str
    sha256: str
    decoded: tuple[str, ...] = ()


def normalize(raw: str) -> NormalizedPrompt:
    """Canonical text, its SHA-256 and the texts hidden in encoded runs; never raises."""
    hidden = _invisible_payloads(raw)
    text = clean(raw)
    decoded = _decode_all(text, hidden)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return NormalizedPrompt(text=text, sha256=digest, decoded=decoded)


def clean(raw: str) -> str:
    """The canonical form without decoding: NFKC, invisibles dropped, look-alikes folded."""
    if raw.isascii():
        return _clean_ascii(raw)
    # Passes whose characters are absent are skipped: looking for their UTF-8 bytes is a
    # C-level byte search, several times cheaper than a regex class scanned over the text.
    text = raw
    try:
        data = raw.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        text = _SURROGATES.sub("", _LINE_BREAK.sub("\n", raw))
    else:
        if _holds(data, _LINE_BREAK_BYTES):
            text = _LINE_BREAK.sub("\n", text)
    # Invisibles go before NFKC too: one between a letter and its mark would otherwise
    # block the composition, and the result would change on a second pass.
    text = _INVISIBLE.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        # Unchanged by NFKC, the text has no invisibles left for the second pass.
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _fold_confusables(text)
    if _holds(text.encode("utf-8"), _MARK_BYTES):
        text = _STACKED_MARKS.sub("", text)
    return _collapse_blanks(text)


def _clean_ascii(text: str) -> str:
    # The common case, kept cheap: each pass runs only when its characters are present.
    if "\r" in text or "\x0b" in text or "\x0c" in text:
        text = _LINE_BREAK.sub("\n", text)
    if not text.isprintable():
        text = _ASCII_CONTROL.sub("", text)
    return _collapse_blanks(text)


def _collapse_blanks(text: str) -> str:
    """Runs of blanks to one space, blank lines and the blanks around line breaks dropped."""
    if _plain_blanks(text):
        return text.strip()
    # The same as _SPACES, then _NEWLINES, then strip (the tests hold them equal), by
    # C-level splits: a regex class checked at every character costs several times more.
    return "\n".join(" ".join(words) for line in text.split("\n") if (words := line.split()))


def _plain_blanks(text: str) -> bool:
    """True when every blank is a single space or line break between two non-blanks (the
    blank passes would change nothing but the ends): counted with C-level calls."""
    if "  " in text or " \n" in text or "\n " in text or "\n\n" in text:
        return False
    blanks = len(text) - sum(map(len, text.split()))
    return blanks == text.count(" ") + text.count("\n")


def _utf8_needles(chars: str) -> tuple[bytes, ...]:
    """Byte strings one of which is in the UTF-8 form of any text holding one of `chars`:
    their whole encodings, or for a long list their lead bytes."""
    encoded = {ch.encode("utf-8") for ch in chars}
    if len(encoded) > 8:
        encoded = {code[:-1] or code for code in encoded}
    return tuple(sorted(encoded))


def _members(spec: str) -> str:
    """The characters of a regex class body made of characters and "a-b" ranges."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out += map(chr, range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def _holds(data: bytes, needles: tuple[bytes, ...]) -> bool:
    return any(needle in data for needle in needles)


# --- invisible and control characters -----------------------------------------------------

# Tabs need no entry: the space-collapsing pass below folds them with other blanks.
_LINE_BREAK = re.compile("[\r\x0b\x0c\x85\u2028\u2029]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ASCII_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
# Zero-width, bidi controls, fillers, variation selectors, tag characters and C0/C1
# controls. ZWJ/ZWNJ go too: they change emoji and some scripts' rendering but not the
# words, and leaving them in would let "ig\u200dnore" dodge every rule and the cache key.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff"
    "\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_LINE_BREAK_BYTES = _utf8_needles("\r\x0b\x0c\x85\u2028\u2029")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r" ?\n[\s]*")
# Combining marks NFKC could not compose onto an ASCII letter ("i̴g̴n̴o̴r̴e̴"): pure
# obfuscation. Marks on non-ASCII letters stay, since many scripts need them.
_MARKS = "\u0300-\u036f\u0489\u1ab0-\u1aff\u20d0-\u20ff"
_STACKED_MARKS = re.compile(f"(?<=[A-Za-z])[{_MARKS}]+")
_MARK_BYTES = _utf8_needles(_members(_MARKS))


# --- confusables ----------------------------------------------------------------------------

# Cyrillic, Greek, Armenian and IPA letters that render like ASCII letters. Fullwidth and
# mathematical alphanumerics need no entry: NFKC already folds them.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ɑ": "a",
    "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y",
    "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    "α": "a", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "Տ": "S", "Օ": "O",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)
_CONF_CLASS = "".join(sorted(_CONFUSABLES))
_HAS_CONFUSABLE = re.compile(f"[{_CONF_CLASS}]")
# A word mixing ASCII letters with look-alikes is folded. Anchored on \b so each word is
# tried once: the lookaheads never rescan the inside of a long word.
_MIXED_WORD = re.compile(rf"\b(?=\w*[A-Za-z])(?=\w*[{_CONF_CLASS}])\w+")
_PURE_WORD = re.compile(rf"\b[{_CONF_CLASS}]+\b")
# Greek or Cyrillic letters that have no ASCII look-alike: their presence means real
# Greek/Russian text, whose words must stay as they are.
_REAL_GREEK_CYRILLIC = re.compile(f"(?![{_CONF_CLASS}])[\u0370-\u03ff\u0400-\u04ff]")


def _fold_word(match: re.Match[str]) -> str:
    return match.group().translate(_CONFUSABLE_TABLE)


def _fold_confusables(text: str) -> str:
    if not _HAS_CONFUSABLE.search(text):
        return text
    text, mixed = _MIXED_WORD.subn(_fold_word, text)
    if mixed and _REAL_GREEK_CYRILLIC.search(text) is None:
        # Someone is already disguising English, and no real Greek or Russian word is
        # around: a word spelled entirely in look-alikes ("ѕуѕтем") is part of the disguise.
        # Without that evidence a quoted "мама" stays Russian.
        text = _PURE_WORD.sub(_fold_word, text)
    return text


# --- decoding -------------------------------------------------------------------------------

_TAGS = "\U000e0020-\U000e007e"
_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_TAG_RUN = re.compile(f"[{_TAGS}]{{4,}}")
_SELECTOR_RUN = re.compile(f"[{_SELECTORS}]{{4,}}")
_HIDDEN_BYTES = _utf8_needles(_members(_TAGS + _SELECTORS))


def _invisible_payloads(raw: str) -> list[str]:
    """ASCII hidden in Unicode tag characters or in variation selectors (one byte each)."""
    if raw.isascii() or not _holds(raw.encode("utf-8", "surrogatepass"), _HIDDEN_BYTES):
        return []
    found = [m.group().translate(_TAG_TO_ASCII) for m in _limited(_TAG_RUN.finditer(raw))]
    for m in _limited(_SELECTOR_RUN.finditer(raw)):
        data = bytes(_selector_byte(ch) for ch in m.group()[:MAX_CANDIDATE_CHARS])
        text = data.decode("utf-8", errors="replace")
        if _looks_like_text(text):
            found.append(text)
    return found


_TAG_TO_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}


def _selector_byte(ch: str) -> int:
    cp = ord(ch)
    return cp - 0xFE00 if cp <= 0xFE0F else cp - 0xE0100 + 16


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
MIN_HEX_PAIRS = 8
_HEX_RUN = re.compile(rf"(?:(?:0x|\\x)?[0-9A-Fa-f]{{2}}(?:, ?|[ :])?){{{MIN_HEX_PAIRS},}}")
# Hex of text interleaves digits and letters ("69676e"); prose and plain numbers rarely do.
_HEX_HINT = re.compile(r"[0-9][a-fA-F]|[a-fA-F][0-9]|\\x|0x")
# The same test as _HEX_HINT, tried at digits only (rare in prose) rather than at every
# letter a to f.
_HEX_HINT_AT_DIGIT = re.compile(r"[0-9](?:(?<=[a-fA-F][0-9])|(?=[a-fA-F]))")
_HEX_NOISE = re.compile(r"0x|\\x|[ ,:]")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_B64_URLSAFE = str.maketrans("-_", "+/")


def _decode_all(text: str, hidden: list[str]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    budget = MAX_DECODED_CHARS
    frontier = [text]
    # Two levels catch a payload wrapped twice (URL-escaped base64, base64 of hex).
    for depth in range(2):
        found = itertools.chain(hidden if depth == 0 else (), *map(_decode_runs, frontier))
        frontier = []
        for item in found:
            item = clean(item[:budget])
            if not item or item in out or item == text:
                continue
            out[item] = None
            frontier.append(item)
            budget -= len(item)
            if budget <= 0 or len(out) >= MAX_DECODED_ITEMS:
                return tuple(out)
    return tuple(out)


def _decode_runs(text: str) -> Iterator[str]:
    for finder in (_base64_payloads, _hex_payloads, _url_payloads, _rot13_payloads):
        yield from finder(text)


def _limited(matches: Iterator[re.Match[str]], limit: int = 64) -> Iterator[re.Match[str]]:
    for count, match in enumerate(matches):
        if count >= limit:
            return
        yield match


def _base64_payloads(text: str) -> Iterator[str]:
    for run in _base64_runs(text):
        run = run[:MAX_CANDIDATE_CHARS]
        # Real base64 of text mixes cases; a long plain word or a path does not.
        if run.islower() or run.isupper() or run.isdigit():
            continue
        if len(run) % 4 == 1:
            run = run[:-1]
        try:
            data = base64.b64decode(run.translate(_B64_URLSAFE) + "=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            continue
        yield from _as_text(data)


# Bytes outside the base64 alphabet (multi-byte UTF-8 included) become spaces.
_NON_BASE64 = bytes(
    c if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "+/_-") else 32 for c in range(256)
)


def _base64_runs(text: str) -> Iterator[str]:
    """What _BASE64_RUN finds, its "=" padding stripped: the first 64 runs of the alphabet
    at least 16 long. Split in C: the regex would try a match at every letter of prose."""
    tokens = text.encode("utf-8", "surrogatepass").translate(_NON_BASE64).decode().split()
    if not tokens or max(map(len, tokens)) < 16:
        return iter(())
    return itertools.islice((token for token in tokens if len(token) >= 16), 64)


# Hex digits and the separators _HEX_RUN allows become "h", other bytes NUL.
_HEX_RUN_BYTES = bytes(
    ord("h") if chr(c) in "0123456789abcdefABCDEFx\\, :" else 0 for c in range(256)
)


def _long_hex_stretch(text: str) -> bool:
    """Whether some stretch of hex digits and separators is as long as a _HEX_RUN match
    (16 characters at least): the regex is tried at every letter a to f of prose."""
    data = text.encode("utf-8", "surrogatepass").translate(_HEX_RUN_BYTES)
    return max(map(len, data.split(b"\0"))) >= 2 * MIN_HEX_PAIRS


def _hex_payloads(text: str) -> Iterator[str]:
    if "\\x" not in text and "0x" not in text and _HEX_HINT_AT_DIGIT.search(text) is None:
        return
    if not _long_hex_stretch(text):
        return
    for m in _limited(_HEX_RUN.finditer(text)):
        digits = _HEX_NOISE.sub("", m.group()[:MAX_CANDIDATE_CHARS])
        digits = digits[: len(digits) - len(digits) % 2]
        if len(digits) >= MIN_ENCODED_CHARS:
            yield from _as_text(bytes.fromhex(digits))


def _url_payloads(text: str) -> Iterator[str]:
    first = _URL_ESCAPE.search(text)
    if first is None or _URL_ESCAPE.search(text, first.end()) is None:
        return  # a candidate token needs two escapes
    # Whitespace-separated tokens rather than a regex: "\S*%..\S*" would rescan a long
    # token from every starting position.
    candidates = (token for token in text.split() if "%" in token)
    for token in itertools.islice(candidates, 64):
        token = token[:MAX_CANDIDATE_CHARS]
        if len(_URL_ESCAPE.findall(token)) < 2:
            continue
        decoded = unquote(unquote(token.replace("+", " ")))
        if decoded != token and _looks_like_text(decoded):
            yield decoded


def _as_text(data: bytes) -> Iterator[str]:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if _looks_like_text(decoded):
        yield decoded


def _looks_like_text(text: str) -> bool:
    """Mostly printable and carrying words, so random bytes and binary blobs are dropped."""
    if len(text) < 4 or sum(ch.isalpha() for ch in text[:64]) < 3:
        return False
    if text.isprintable():
        return True
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    return printable >= 0.9 * len(text)


# rot13 is tried on sentence-sized runs and kept only where the rotated run reads as
# English while the original does not: rot13 of ordinary prose almost never yields these.
_COMMON_WORDS = frozenset(
    ("the", "and", "you", "your", "all", "any", "are", "now", "not", "for", "with", "this",
     "that", "what", "how", "tell", "make", "give", "ignore", "previous", "prior", "instruction",
     "instructions", "rules", "system", "prompt", "reveal", "forget", "pretend", "mode", "secret",
     "password", "disregard", "above", "everything", "restrictions", "answer", "print", "show",
     "please", "is", "to", "of", "in", "it", "be", "from", "only", "my", "me", "new", "task",
     "do", "must", "will", "write", "say", "who", "was", "were", "said", "text", "words",
     "before", "here", "then", "every", "no", "longer", "rule", "setup", "hidden")
)  # fmt: skip
_COMMON_WORDS_ROT13 = frozenset(codecs.encode(word, "rot13") for word in _COMMON_WORDS)
_ASCII_WORD = re.compile("[a-z]+")
# The words of _ASCII_WORD by C-level translate and split: other bytes become spaces.
_NON_ASCII_LOWER = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
_LETTER_RUN = re.compile(r"[A-Za-z][A-Za-z ,'-]{14,}")


def _rot13_payloads(text: str) -> Iterator[str]:
    low = text.lower()
    # The keywords in their rot13 form, looked up first: ordinary text has none of them.
    words = low.encode("utf-8", "surrogatepass").translate(_NON_ASCII_LOWER).decode().split()
    if len(_COMMON_WORDS_ROT13.intersection(words)) < 3:
        return
    for m in _LETTER_RUN.finditer(low):
        start, end = m.start(), min(m.end(), m.start() + MAX_CANDIDATE_CHARS)
        words = _ASCII_WORD.findall(low, start, end)
        hidden = sum(word in _COMMON_WORDS_ROT13 for word in words)
        if hidden >= 3 and hidden > 2 * sum(word in _COMMON_WORDS for word in words):
            yield codecs.encode(text[start:end], "rot13")


# --- unmasking: obfuscation undone, for the shield's second look ---------------------------

# Single letters separated by blanks or punctuation: "i g n o r e", "r.e.v.e.a.l". The hint
# starts with the separator, which the regex engine finds in C; the run is rebuilt only near it.
_SEP = r"[ .\-_*/|~]"
_SPACED_HINT = re.compile(
    rf"{_SEP}(?<=(?<![^\W\d_])[^\W\d_]{_SEP})[^\W\d_]{_SEP}[^\W\d_]{_SEP}[^\W\d_](?![^\W\d_])"
)
_SPACED_LETTERS = re.compile(rf"(?<![^\W\d_])[^\W\d_](?:{_SEP}{{1,2}}[^\W\d_](?![^\W\d_])){{3,}}")
_SPACED_SEPARATORS = re.compile(_SEP)
# For a C-level precheck of _SPACED_HINT: ASCII letters and the lead byte of any other
# character (its continuation bytes dropped) become "a", separators "s", the rest "o".
_SPACED_SHAPE = bytes(
    ord("a") if chr(c).isalpha() or c >= 0xC0 else ord("s") if chr(c) in " .-_*/|~" else ord("o")
    for c in range(256)
)
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


def _maybe_spaced(low: str) -> bool:
    """False when _SPACED_HINT cannot match: no four letters alternate with separators
    (every character outside ASCII counted as a letter, so none is missed)."""
    data = low.encode("utf-8", "surrogatepass").translate(_SPACED_SHAPE, _CONTINUATION_BYTES)
    return b"asasasa" in data


# A word cut by a separator after a short first piece: "ig-nore", "dis_regard", "sys.tem".
_CUT_HINT = re.compile(
    r"[-_*|/](?:(?<=(?<![^\W\d_])[^\W\d_].)|(?<=(?<![^\W\d_])[^\W\d_]{2}.)"
    r"|(?<=(?<![^\W\d_])[^\W\d_]{3}.))[^\W\d_]{2}"
)
_CUT_WORD = re.compile(r"(?<![^\W\d_])([^\W\d_]{1,3})[-_*|/]([^\W\d_]{2,})")
_LETTER_RUN_AT = re.compile(r"[^\W\d_]*")


def _rejoin_cut_words(low: str) -> str:
    """`_CUT_WORD.sub(r"\1\2", low)`: the separator of each cut dropped. Its matches are the
    separators _CUT_HINT finds (tried at separators only, while _CUT_WORD is tried at every
    letter), except one inside the word a previous match ran to: "ab-cd-ef" gives "abcd-ef"."""
    pieces, last, taken_to = [], 0, 0
    for hint in _CUT_HINT.finditer(low):
        at = hint.start()
        start = at - 1
        while start > 0 and _is_letter(low[start - 1]):
            start -= 1
        if start < taken_to:
            continue  # the word before the separator was taken by the previous match
        end = _LETTER_RUN_AT.match(low, at + 1)
        taken_to = at + 1 if end is None else end.end()
        pieces += [low[last:at]]
        last = at + 1
    return "".join(pieces) + low[last:]


def _is_letter(ch: str) -> bool:
    return ch.isalnum() and not ch.isdecimal()


# Digits and symbols standing in for letters inside a word: "1gn0r3", "pr0mpt", "$y$tem".
# A stand-in between letters ("pr0mpt", "1gn0re"), not a number next to a word ("5th", "$20").
_LEET_HINT = re.compile(
    r"[0-9@$](?:(?<=[a-z][0-9@$])(?=[0-9@$]*[a-z])|(?<=(?<![\w@$])[0-9@$])(?=[a-z]{2})"
    r"(?!(?:st|nd|rd|th|am|pm|km|kg|cm|mm|ml|mb|gb|kb|px|ms)\b))"
)
_LEET_WORD = re.compile(r"[\w@$]*[0-9@$][\w@$]*")
_LEET_TABLE = str.maketrans("0134578@$", "oieastbas")
_LEET_SPOTS = 64
_SCRAMBLE_CUE = re.compile(
    r"unscrambl|scrambled|jumbled|anagram|rearrang|re-?order|backwards|reverse|right order"
    r"|correct order|desordenad|invers|umgekehrt|durcheinander|mélang|à l'envers|наоборот"
)
_SCRAMBLE_LITERALS = tuple(anchor.text for anchor in start_anchors(_SCRAMBLE_CUE.pattern, 0) or ())


def _scramble_cue(low: str) -> bool:
    """`_SCRAMBLE_CUE.search(low)`, after a look for the literals its matches start with:
    a few C-level finds instead of an alternation tried at most letters of the prompt."""
    if _SCRAMBLE_LITERALS and not any(map(low.__contains__, _SCRAMBLE_LITERALS)):
        return False
    return _SCRAMBLE_CUE.search(low) is not None


_SCRAMBLE_WORDS = (
    "ignore", "disregard", "forget", "bypass", "override", "previous", "prior", "instructions",
    "instruction", "rules", "guidelines", "system", "prompt", "reveal", "secret", "password",
    "restrictions", "filters", "policy", "unfiltered", "jailbreak", "above", "everything",
    "obey", "developer", "mode", "hidden", "confidential", "safety", "print", "repeat",
)  # fmt: skip
_SIGNATURES = {"".join(sorted(word)): word for word in _SCRAMBLE_WORDS}
_ASCII_LETTERS = re.compile(r"[a-z]{3,}")
_MAX_UNMASK_CHARS = 4_096


def unmask(text: str) -> str:
    """`text` lower-cased with common obfuscations undone, or "" when there was none.

    Spaced letters are joined, words cut by a separator after a short piece rejoined,
    leetspeak read as letters, and, when the prompt asks for letters or words to be
    reordered, scrambled or reversed trigger words restored (appended). Only the first and
    last 2 KB are looked at, so the cost is bounded; the result is for scanning, never for
    the cache key or the model provider.
    """
    view = text if len(text) <= _MAX_UNMASK_CHARS else text[:2048] + "\n" + text[-2048:]
    low = view.lower()
    out = low
    if _maybe_spaced(out) and _SPACED_HINT.search(out):
        # A run of single letters mixing in look-alikes is a disguise: fold them too.
        out = _SPACED_LETTERS.sub(
            lambda m: _SPACED_SEPARATORS.sub("", m.group()).translate(_CONFUSABLE_TABLE), out
        )
    if _CUT_HINT.search(out):
        out = _rejoin_cut_words(out)
    if _LEET_HINT.search(out):
        out = _unleet(out)
    if "__" in out:
        out = _filled_blanks(out)
    if _scramble_cue(low):
        restored = _unscrambled(out)
        if restored:
            out += "\n" + " ".join(restored)
    return out if out != low else ""


_BLANK = re.compile(r"_{2,}")
_QUOTED_PIECE = re.compile(r"['\"‘“]([^\W_][\w -]{0,39}?)['\"’”]")


def _filled_blanks(low: str) -> str:
    """ "____ your ____ prompt ... (the pieces: 'reveal', 'system')": the blanks filled in."""
    blanks = _BLANK.findall(low)
    pieces = _QUOTED_PIECE.findall(low[low.rfind("__") :])
    if len(pieces) < len(blanks):
        pieces = _QUOTED_PIECE.findall(low)
    if not blanks or len(pieces) < len(blanks):
        return low
    fill = iter(pieces)
    return _BLANK.sub(lambda _: next(fill), low, count=len(blanks))


def _unleet(low: str) -> str:
    """Words holding a leet digit or symbol next to a letter, read as letters."""
    pieces, last = [], 0
    for m in itertools.islice(_LEET_HINT.finditer(low), _LEET_SPOTS):
        if m.start() < last:
            continue
        word = _LEET_WORD.search(low, max(last, _word_start(low, m.start())))
        if word is None:
            break
        pieces += [low[last : word.start()], word.group().translate(_LEET_TABLE)]
        last = word.end()
    return "".join(pieces) + low[last:]


def _word_start(low: str, at: int) -> int:
    start = at
    while start > 0 and (low[start - 1].isalnum() or low[start - 1] in "_@$"):
        start -= 1
    return start


def _unscrambled(low: str) -> list[str]:
    found: dict[str, None] = {}
    for word in itertools.islice(dict.fromkeys(_ASCII_LETTERS.findall(low)), 512):
        original = _SIGNATURES.get("".join(sorted(word)))
        if original is not None and original != word:
            found[original] = None
    return list(found)
