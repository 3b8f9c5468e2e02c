"""Shield heuristics outside the rule tables, run by `engine`.

Payload splitting, mention context (quoted or discussed attacks), the obfuscation view and
hidden HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from routing.precheck.anchors import AnchoredPattern
from routing.precheck.shield.base import HIGH, Hit
from routing.precheck.shield.roles import _AI_TURN, _USER_TURN

# --- payload_splitting ------------------------------------------------------------------------

# Every short quoted literal, in order: the fragments a split payload is assembled from.
# Searched only at quote characters (AnchoredPattern): the regex alone tries every one
# of its alternatives at every character.
_FRAGMENT = AnchoredPattern(
    re.compile(
        r"\"([^\"\n]{1,120})\"|(?<!\w)'([^'\n]{1,120})'(?!\w)|[“‘«]([^”’»\n]{1,120})[”’»]"
        r"|`([^`\n]{1,120})`"
    )
)
# "a + b", "'ign' + 'ore'": starts with the literal "+", which the engine finds in C.
_CONCAT_OP = re.compile(r"\+ ?[a-z_$'\"`]")
_COMBINE_KEYS = frozenset(
    ("conca", "combi", "join", "joine", "toget", "merge", "appen", "glue", "zusam", "junta", "unir")
)
_EXECUTE_RESULT = AnchoredPattern(
    re.compile(
        r"\b(?:follow|obey|execute|perform|carry\s+out|act\s+on|comply\s+with)\s+(?:\w+\s+){0,3}?"
        r"(?:result|resulting|combined|concatenated|it|that|this|z|c|them|instructions?)\b"
        r"|\bdo\s+what\s+(?:it|the\s+result|z|c)\s+says|\b(?:behave|act|respond)\s+(?:as|like)\s+"
        r"(?:the\s+)?(?:result|combined|[a-z]\d?)\b"
    )
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
    r"|tests?|testing|article|newsletter|blog|essay|headline|paper|proofread|explain\w*"
    r"|attackers?|phrases?\s+like|prompts\s+like)\b"
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
    r"|is\s+it\s+(?:safe|possible|legal)|in\s+(?:python|javascript|the\s+docs|my\s+code)"
    r"|where\s+(?:does|do|should|is|are)|in\s+(?:chatml|a\s+fine-tuning|the\s+template))\b"
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
# a to z become "a", the separators "s", other bytes "o": four spaced letters read "asasasa".
_SPACED_SHAPE = bytes(
    ord("a") if 97 <= c <= 122 else ord("s") if chr(c) in " .,-_*/|+~" else ord("o")
    for c in range(256)
)


def _maybe_spaced(low: str) -> bool:
    """False when _SPACED_HINT cannot match: no four letters alternate with separators.
    A C-level translate and find, where the regex is tried at every blank."""
    return b"asasasa" in low.encode("utf-8", "surrogatepass").translate(_SPACED_SHAPE)


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
    hints = (_LEET_RUN, _SPACED_HINT, _SHORT_CUT) if _maybe_spaced(low) else (_LEET_RUN, _SHORT_CUT)
    spots = sorted(m.start() for hint in hints for m in _limited(hint, low))
    windows: list[tuple[int, int]] = []
    for spot in spots:
        if windows and spot - _WINDOW <= windows[-1][1]:
            windows[-1] = (windows[-1][0], spot + _WINDOW)
        else:
            windows.append((max(0, spot - _WINDOW), spot + _WINDOW))
    pieces = (low[start:end] for start, end in windows)
    return [fixed for piece in pieces if (fixed := _deobfuscate(piece)) != piece]


def _limited(
    pattern: re.Pattern[str] | AnchoredPattern, text: str, limit: int = 256
) -> Iterator[re.Match[str]]:
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
    return any(_SQUASHED.search(word) for word in _long_words(text))


# Bytes other than a to z (multi-byte UTF-8 included) become spaces.
_NOT_A_TO_Z = bytes(c if 97 <= c <= 122 else 32 for c in range(256))


def _long_words(text: str) -> list[str]:
    """`_LONG_WORD.findall(text)`, by C-level translate and split: the regex would try a
    match at every letter, each running to the end of its word."""
    words = text.encode("utf-8", "surrogatepass").translate(_NOT_A_TO_Z).decode().split()
    if not words or max(map(len, words)) < 14:
        return []
    return [word for word in words if len(word) >= 14]


# --- hidden HTML: comments and invisible elements ----------------------------------------

_MAX_HTML_SPOTS = 64
_HTML_SPAN = 600
_HIDDEN_STYLE = AnchoredPattern(
    re.compile(
        r"display\s*:\s*none|font-size\s*:\s*0(?:\.\d+)?(?:px|pt|em)?\s*[;\"']|color\s*:\s*"
        r"(?:white|#fff(?:fff)?\b|transparent)|visibility\s*:\s*hidden|opacity\s*:\s*0\s*[;\"']"
        r"|\bhidden\b[^>]{0,40}>"
    )
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
