"""A tokenizer-free token estimate."""

from __future__ import annotations

import math

# Lead bytes of 3-4 byte and of 2-byte UTF-8 sequences: one per character of that width.
_WIDE_LEADS = bytes(range(0xE0, 0xF8))
_DOUBLE_LEADS = bytes(range(0xC0, 0xE0))


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate that never decreases as text grows.

    Counted from UTF-8 lengths, in C, so a 100 KB paste stays cheap: a 3- or 4-byte character
    (CJK, kana, hangul, Devanagari, Thai, emoji) is about a token, a 2-byte one (Cyrillic,
    Greek, Arabic, Hebrew, accented Latin) about 0.4, and an ASCII one about 0.25.
    """
    if text.isascii():
        return math.ceil(len(text) / 4)
    encoded = text.encode("utf-8", "surrogatepass")
    wide = len(encoded) - len(encoded.translate(None, _WIDE_LEADS))
    double = len(encoded) - len(encoded.translate(None, _DOUBLE_LEADS))
    return math.ceil(wide + double / 2.5 + (len(text) - wide - double) / 4)
