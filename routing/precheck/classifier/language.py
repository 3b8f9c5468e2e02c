"""Language of a prompt, from its script or stopword votes."""

from __future__ import annotations

import re
from collections import defaultdict

# --- Language ----------------------------------------------------------------------------------

_SCRIPTS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("hangul", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"), 2),
    ("kana", re.compile(r"[\u3040-\u30ff]"), 2),
    ("han", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]"), 2),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]"), 1),
    ("arabic", re.compile(r"[\u0600-\u06ff\u0750-\u077f]"), 1),
    ("devanagari", re.compile(r"[\u0900-\u097f]"), 1),
    ("greek", re.compile(r"[\u0370-\u03ff]"), 1),
    ("hebrew", re.compile(r"[\u0590-\u05ff]"), 1),
    ("thai", re.compile(r"[\u0e00-\u0e7f]"), 1),
)
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_SCRIPT_LANGUAGE = {
    "hangul": "ko",
    "han": "zh",
    "devanagari": "hi",
    "greek": "el",
    "hebrew": "he",
    "thai": "th",
}
_STOPWORDS = {
    "en": "the a an and or of to in into is are was were be been it its this that these for on "
    "with as at by from about what how why who which can you your i my me we our they them he "
    "she his her do does did please not have has had will would should could there their if "
    "but so than then some any all more just also very hi hello hey thanks write give tell "
    "explain translate summarize describe list need want help good",
    "es": "el la los las un una y o de del que en es son por para con se lo su al como más "
    "pero qué cómo este esta estos muy hola gracias mi tu también cuál dónde traduce escribe "
    "explica resume dame necesito quiero estoy algo",
    "de": "der die das ein eine und oder ist sind nicht mit für auf den dem des zu von im "
    "es ich du wie was wer warum bitte diese dieser diesen auch hallo danke mein dein ins "
    "übersetze schreibe erkläre fasse gib brauche möchte",
    "fr": "le la les un une et ou de des du est sont pas avec pour sur dans que qui ce cette "
    "je tu vous il elle comment pourquoi quel quelle bonjour merci mon ton au aux traduis "
    "écris explique résume donne besoin veux",
    "it": "il lo la gli le un una e o di del della che è sono non con per su nel nella "
    "questo questa come perché chi ciao grazie mio tuo anche sei traduci scrivi spiega "
    "riassumi dammi voglio più",
    "pt": "o a os as um uma e ou de do da dos das que é são não com para em no na por "
    "este esta como porque olá obrigado meu você também traduza escreva explique resuma "
    "preciso quero",
    "nl": "de het een en of van in is zijn niet met voor op dat die dit wat hoe waarom "
    "ik je jij we hallo dank mijn ook naar er vertaal schrijf leg uit geef wil graag",
}


def _stopword_votes() -> dict[str, tuple[str, ...]]:
    votes: dict[str, tuple[str, ...]] = {}
    for language, words in _STOPWORDS.items():
        for word in words.split():
            votes[word] = (*votes.get(word, ()), language)
    return votes


_STOPWORD_VOTES = _stopword_votes()
_LATIN_WORD_RE = re.compile(r"[a-zà-öø-ÿ]+")
_MARKERS = {"ñ": "es", "¿": "es", "¡": "es", "ß": "de", "ã": "pt", "õ": "pt", "ç": "fr"}
_CODE_SPAN_RE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+|\S+@\S+", re.DOTALL)


def detect_language(text: str) -> str:
    """ISO 639-1 code from the script, or stopword votes for Latin script; "und" if unsure."""
    sample = _CODE_SPAN_RE.sub(" ", text[:600])
    script = _dominant_script(sample)
    if script == "latin":
        return _latin_language(sample)
    if script == "cyrillic":
        return "uk" if re.search(r"[іїєґІЇЄҐ]", sample) else "ru"
    if script == "arabic":
        return "fa" if re.search(r"[پچژگ]", sample) else "ar"
    if script == "han":
        return "ja" if _SCRIPTS[1][1].search(sample) else "zh"
    if script == "kana":
        return "ja"
    return _SCRIPT_LANGUAGE.get(script, "und")


def _dominant_script(sample: str) -> str:
    counts = {"latin": len(_LATIN_RE.findall(sample))}
    if not sample.isascii():
        for name, pattern, weight in _SCRIPTS:
            # A CJK character carries about a word; weigh it against Latin letters accordingly.
            counts[name] = weight * len(pattern.findall(sample))
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else "und"


def _latin_language(sample: str) -> str:
    lowered = sample.lower()
    votes: defaultdict[str, float] = defaultdict(float)
    for word in _LATIN_WORD_RE.findall(lowered):
        languages = _STOPWORD_VOTES.get(word, ())
        for language in languages:
            votes[language] += 1 / len(languages)
    for marker, language in _MARKERS.items():
        if marker in lowered:
            votes[language] += 1.5
    if not votes:
        return "und"
    return max(votes, key=lambda language: votes[language])
