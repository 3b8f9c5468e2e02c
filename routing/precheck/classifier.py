"""Prompt classifier of the precheck: task type, complexity, language, images and a token estimate.

Cheap rules decide when a high-precision pattern fires; where they are unsure, a small linear
model over word and character n-grams decides. The model is trained by
`manage.py train_classifier` and shipped as JSON (vocabularies, idf, coefficients), and inference
here reproduces scikit-learn's TF-IDF + LogisticRegression scores with numpy. No LLM call, and no
Django or scikit-learn import at runtime (training imports scikit-learn lazily), so a benchmark
can run this module bare and the first call stays fast.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from re import _constants as sre_constants
from re import _parser as sre_parser
from typing import Any

import numpy as np

from routing.types import TASK_TYPES

COMPLEXITIES = ("low", "medium", "high")

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MODEL_PATH = DATA_DIR / "classifier_model.json"
TRAIN_PATH = DATA_DIR / "classifier_train.jsonl"
EVAL_PATH = DATA_DIR / "classifier_eval.jsonl"

FORMAT_VERSION = 1
# A rule decides only when it is confident and no other task type's rule is close behind.
RULE_THRESHOLD = 0.85
RULE_MARGIN = 0.05
# Long pastes carry the ask at the start or the end; the middle is context. Capping both views
# keeps a 100 KB prompt as cheap as a 2 KB one.
RULE_CLIP = (600, 300)
MODEL_CLIP = (1500, 500)

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 4)
WORD_MAX_FEATURES = 3000
CHAR_MAX_FEATURES = 3000
REGULARIZATION_C = 10.0
WORD_PATTERN = r"(?u)\b\w\w+\b"


@dataclass(frozen=True)
class Classification:
    task_type: str
    complexity: str
    language: str
    needs_images: bool
    input_tokens: int
    confidence: float
    source: str


@dataclass(frozen=True)
class Verdict:
    task_type: str
    confidence: float
    source: str


def classify(text: str, *, has_images: bool = False) -> Classification:
    """Classify a normalized prompt; never raises on odd input and never calls the network."""
    tokens = estimate_tokens(text)
    if not text.strip():
        return Classification("chat", "low", "und", has_images, tokens, 0.0, "rules")
    view = PromptView.of(text)
    verdict = rule_verdict(view) or model_verdict(model_text(text))
    return Classification(
        task_type=verdict.task_type,
        complexity=estimate_complexity(view.lowered, tokens=tokens),
        language=detect_language(view.text),
        needs_images=has_images or _IMAGE_RULE.fires(view),
        input_tokens=tokens,
        confidence=round(verdict.confidence, 4),
        source=verdict.source,
    )


def clip(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + " " + text[-tail:]


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


def _rule(task: str, confidence: float, pattern: str, **kwargs: Any) -> Rule:
    lowered = kwargs.pop("lowered", True)
    extra = {key: _re(value) if isinstance(value, str) else value for key, value in kwargs.items()}
    literals = _required_literals(pattern)
    if literals is None:
        return Rule(task, confidence, _re(pattern), lowered, **extra)
    trigrams = frozenset(_rarest_trigram(literal) for literal in literals if len(literal) >= 3)
    short = tuple(sorted(literal for literal in literals if len(literal) < 3))
    return Rule(
        task,
        confidence,
        _re(pattern),
        lowered,
        **extra,
        cue_trigrams=trigrams,
        cue_substrings=short,
    )


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
    r"dict(?:ionary)?|dataframe|query|framework|type hints|async|server|app|tests?)\b"
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

RULES: tuple[Rule, ...] = (
    # coding
    _rule(
        "coding",
        0.97,
        r"traceback \(most recent call last\)|exception in thread \"|segmentation fault|"
        r"core dumped|npm err!|\b(?:at [\w$.<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)|"
        r"error\[e\d{4}\]|file \"[^\"\n]+\", line \d+|stack ?trace)",
    ),
    _rule("coding", 0.9, r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b", lowered=False),
    _rule("coding", 0.9, r"```"),
    _rule(
        "coding",
        0.95,
        _START + r"(?:write|implement|code|create|build|generate|make|give me|show me|add|fix|"
        r"debug|refactor|optimi[sz]e|rewrite|port|convert|design)\b[^.?!\n]{0,60}?\b(?:function|"
        r"method|class|regex|regular expression|sql|query|unit tests?|tests (?:for|with)|api|"
        r"endpoint|decorator|hook|component|algorithm|module|cli|dockerfile|makefile|one-liner|"
        r"snippet|code(?! of conduct)|program|script (?:that|to)|shell script|bash script|"
        r"python script|type hints|schema|migration|handler|interpreter|parser|crawler|resolver|"
        r"workflow|service layer)\b",
    ),
    _rule("coding", 0.94, _PROG, requires=_CODE_WORDS),
    _rule(
        "coding",
        0.9,
        r"(?:^|[\s;{(])(?:def \w+\(|class \w+(?:\(|:| extends| implements| \{)|import [\w.]+"
        r"(?:;|$| as )|from [\w.]+ import |function \w*\s*\(|const \w+ ?=|let \w+ ?=|var \w+ ?=|"
        r"public (?:static |final )*(?:void|class|int|String|boolean)\b|#include ?<|console\.log\(|"
        r"System\.out\.print|printf\(|fn \w+\(|func \w+\(|=> ?\{|SELECT\b.{1,120}?\bFROM\b|"
        r"INSERT INTO\b|CREATE TABLE\b|UPDATE \w+ SET\b|<\?php|\$_(?:GET|POST)\b)",
        lowered=False,
    ),
    _rule(
        "coding",
        0.92,
        r"\b(?:git (?:commit|rebase|merge|push|pull|stash|checkout|branch|reset|cherry-pick|"
        r"bisect|clone)|docker(?:file|-compose| compose| run| build)|kubectl|pip install|"
        r"npm (?:install|run|i)|yarn add|github actions|regex|regular expression|vs ?code|jupyter|"
        r"webpack|debug|refactor|fix (?:this|the|my) (?:bug|code|function|script|query|loop|"
        r"error|test)|(?:compile|compiler|runtime|syntax) error|unit tests?|n\+1 quer|"
        r"time complexity|list comprehension|(?:for|while) loop|(?:with|using|via) (?:pip|npm|"
        r"conda|brew|apt))\b",
    ),
    _rule(
        "coding",
        0.92,
        r"\bthis (?:code|function|snippet|script|query|loop|method|class|program)\b[^.?!]{0,30}"
        r"\b(?:is|does|doesn't|won't|throws|returns|keeps|crashes|segfaults|fails|never|leaks|"
        r"hangs)\b",
    ),
    _rule(
        "coding",
        0.95,
        r"\b(?:escribe|escriba|implementa|schreibe|schreib|implementiere|écris|écrivez|"
        r"implémente|scrivi|escreva|implemente|schrijf|напиши|реализуй)\b[^.?!\n]{0,50}?"
        r"(?:funci[óo]n|funktion|fonction|funzione|fun[çc][ãa]o|functie|функци|skript|script|"
        r"programa|programm|requ[êe]te sql|consulta sql|sql-abfrage|query|clase|klasse|класс|"
        r"c[óo]digo|codice)",
    ),
    _rule(
        "coding",
        0.95,
        r"(?:写|实现|编写)[^。？！\n]{0,20}(?:函数|程序|代码|脚本|类|算法|接口)|"
        r"用\s?(?:python|java|go|rust|c\+\+|javascript|js|typescript|sql)|"
        r"(?:関数|コード|プログラム|スクリプト)を(?:書|作|実装)",
    ),
    _rule(
        "coding",
        0.96,
        r"\b(?:translate|convert|port|rewrite|transpile)\b[^\n]{0,120}?\b(?:in)?to\s+" + _PROG,
    ),
    # math
    _rule(
        "math",
        0.95,
        r"^(?:what(?:'s| is)|calculate|compute|evaluate|simplify|solve|work out|quick one:?)\s*"
        r"[-+(]?\d[\d\s.,()]*(?:[-+*/×÷^x%]|\*\*|times|plus|minus|divided by|multiplied by|"
        r"to the power of)\s*[-(]?\d",
    ),
    _rule(
        "math", 0.88, r"(?<![\d/.])\d+(?:\.\d+)?\s*(?:[*/×÷^]|\*\*)\s*\(?\d+(?:\.\d+)?\b(?![/.]\d)"
    ),
    _rule("math", 0.9, r"(?<![\w])\d*[xyz](?:\^\d)?\s*[-+*/=]\s*\d"),
    _rule(
        "math",
        0.93,
        r"\b(?:solve (?:for [a-z]\b|the (?:equation|system|inequality|integral|differential)|"
        r"\S+\s*=)|derivative|antiderivative|integral|integrate|differentiate|eigen\w+|"
        r"determinant|matri(?:x|ces)|taylor series|differential equation|quadratic|polynomial|"
        r"logarithm|factorial|hypotenuse|pythagor\w+|greatest common divisor|"
        r"least common multiple|gcd|lcm|square root|cube root|sqrt|prime factori[sz]ation|"
        r"standard deviation|variance|expected (?:value|number)|binomial|inequality|"
        r"interior angles|perimeter|circumference|(?:area|volume) of (?:a|an|the) \w+|slope|"
        r"y-intercept|by induction|irrational|inflection points?|concave|newton's method|"
        r"decimal places|significant figures|probability (?:of|that)|"
        r"to (?:a )?(?:decimal|fraction|percentage)|how many (?:different |distinct )?(?:ways|"
        r"arrangements|combinations|permutations)|is \d+ (?:a )?(?:prime|divisible|even|odd|"
        r"perfect square)|how many \w+ (?:are )?(?:in|per)\b[^?]{0,30}\d)\b",
    ),
    _rule("math", 0.93, r"\d\s*(?:°|degrees )\s*(?:fahrenheit|celsius|[cf]\b)"),
    _rule("math", 0.88, r"\bprove (?:that|by)\b"),
    _rule("math", 0.94, r"\d+(?:[.,]\d+)?\s?%\s*(?:of|de|von|di|van|от)\s+[$€£]?\d"),
    _rule(
        "math",
        0.92,
        r"\b(?:how (?:many|much|long|far|fast|old)|what (?:is|was|will be|are) (?:the|her|his|"
        r"their|its) (?:total|average|final|new|remaining|original|combined|percentage|ratio|"
        r"cost|price|profit|speed|area|volume|perimeter|difference|sum|product|value|dimensions)|"
        r"what percent(?:age)?|at what time|what (?:is|was) (?:it|she|he|they) worth|"
        r"what are the numbers|cu[áa]nt[oa]s?|wie (?:viel|viele|lange)|combien|quant[oiae]s?|"
        r"hoeveel|hoe lang|сколько)\b|多少|几个|几小时|几天|几年|几岁|几次|いくつ|何個|何人|何円|"
        r"何分|何時間",
        requires=r"\d+(?:[.,]\d+)?\D+\d",
        unless=r"\baccording to\b|\bbased on (?:the|this)\b|\bpassage\b",
        max_chars=700,
    ),
    _rule(
        "math",
        0.93,
        r"\b(?:calcula\w*|calcule\w*|calcola\w*|berechne\w*|bereken\w*|resuelve|"
        r"r[ée]sou(?:s|dre|lvez)|risolvi|resolva|вычисли\w*|посчитай\w*|найдите|реши\w*|"
        r"derivada|ableitung|d[ée]riv[ée]e|derivata|производн\w*|ecuaci[óo]n|gleichung|"
        r"[ée]quation|equazione|equa[çc][ãa]o|vergelijking|уравнени\w*)\b|计算|解方程|导数|积分|"
        r"方程",
        requires=r"\d",
    ),
    # reasoning
    _rule(
        "reasoning",
        0.93,
        r"\b(?:riddle|puzzle|brain ?teaser|logic(?:al)? (?:problem|puzzle|question|grid)|"
        r"syllogism|knights? and knaves?|always lies|always tells? the truth|truth-?teller|"
        r"what comes next|comes next in|next (?:number|letter|term|shape|element)|"
        r"(?:number|letter) comes next|complete the (?:sequence|analogy|pattern|series)|"
        r"is to \w+ as \w+ is to|which (?:one )?(?:doesn't|does not) belong|odd one out|"
        r"is (?:this|the following|the) (?:argument|reasoning|deduction|inference)|"
        r"(?:argument|reasoning|deduction) (?:is )?(?:valid|sound|correct)|"
        r"does (?:the conclusion|it|this) (?:logically )?follow|conclusion follows|"
        r"logical (?:fallacy|fallacies|error|flaw)|fallac(?:y|ies)|"
        r"flaw in (?:this|the) (?:argument|reasoning)|monty hall|paradox|lateral thinking|"
        r"trick question|who (?:is|was) (?:lying|telling the truth|guilty)|who owns which|"
        r"(?:can|could) we conclude|necessarily (?:true|false|follow)|confounders?|"
        r"hidden assumptions?|acertijo|adivinanza|rätsel|logikrätsel|énigme|devinette|"
        r"indovinello|enigma|raadsel|загадк\w*|логическ\w* задач\w*|paradoxe|paradoja|"
        r"paradosso)\b|谜题|谜语|逻辑题|脑筋急转弯|なぞなぞ|パズル",
    ),
    _rule(
        "reasoning",
        0.91,
        r"\b(?:(?:estimate|roughly|approximately|ballpark|fermi)\b[^.?!]{0,50}\bhow (?:many|much|"
        r"long|far)|how many\b[^.?!]{3,60}\b(?:would fit|fit in(?:side)?)|how many\b[^.?!]{3,80}"
        r"\?\s*(?:try to )?explain your (?:answer|reasoning|estimate))\b",
    ),
    _rule(
        "reasoning",
        0.88,
        r"\b(?:what (?:would|might|could) (?:happen|have happened|change|the world look like|"
        r"life be like|be different)|how (?:would|might) [^.?!]{3,60} (?:have )?(?:developed|"
        r"differ(?:ed)?|changed?|be different)|what if|if [^.?!]{3,80}\bhad (?:never|not))\b",
    ),
    _rule(
        "reasoning",
        0.8,
        r"\b(?:step[- ]by[- ]step|reason (?:it )?(?:out|through|carefully)|explain your "
        r"(?:reasoning|logic)|show your reasoning|justify your answer|think (?:carefully|it "
        r"through|through)|walk (?:me )?through your (?:reasoning|logic|assumptions)|deduce|"
        r"work backward)\b",
    ),
    # summarization
    _rule(
        "summarization",
        0.96,
        _START + r"(?:summari[sz]e|sum (?:it )?up|recap|condense|boil (?:this|it|that) down|"
        r"shorten (?:this|it|the (?:text|article|email|passage|paragraph))|give me (?:a |the )?"
        r"(?:quick |short |brief )?(?:summary|gist|tl;dr|tldr|recap|short version|rundown|"
        r"cliffs?notes)|(?:write|provide|give|make|produce) (?:me )?(?:a |an )?(?:short |brief |"
        r"quick |concise |executive |one-sentence |one-paragraph |two-sentence |structured |"
        r"layered |combined )?(?:summary|abstract|recap)|tl;dr|tldr)",
    ),
    _rule(
        "summarization",
        0.92,
        r"\b(?:summari[sz]\w*|summary|tl;dr|tldr|key (?:points|takeaways|ideas)|main (?:points|"
        r"ideas|takeaways)|the gist|in a nutshell|short version|bottom line|cliffs?notes|"
        r"synopsis of (?:this|the (?:following|article|text|story)))\b",
    ),
    _rule(
        "summarization",
        0.95,
        r"\b(?:resume (?:esta|este|el|la|en|lo)|resúm\w+|resumir|resumen|resuma|"
        r"zusammen(?:fassen|fassung)|fass\w*\b[^.?!]{0,80}\bzusammen|r[ée]sum(?:e|ez) (?:ce|cet|"
        r"cette|le|la|les|en)|r[ée]sum[ée] (?:de|du)|riassum\w*|riassunto|sintetizza|samenvatt\w*|"
        r"vat\b[^.?!]{0,60}\bsamen|кратко (?:изложи|перескажи)|перескажи|резюм\w*|"
        r"подведи итог\w*|краткое (?:содержание|изложение))\b|总结|概括|摘要|归纳|要約|まとめて",
    ),
    # translation
    _rule(
        "translation",
        0.97,
        _langs(
            r"\btranslat\w*\b[\s\S]{0,300}?\b(?:into|to|in)\s+(?:(?:simplified|traditional|"
            r"brazilian|european|mexican|formal|informal|plain|modern|polite|casual)\s+)?<L>\b"
        ),
    ),
    _rule("translation", 0.95, _START + r"(?:translate|localize)\b"),
    _rule(
        "translation",
        0.93,
        _langs(
            r"\b(?:how (?:do|would|can|should) (?:you|i|we) say|what(?:'s| is) [\"“'][^\"”']{1,60}"
            r"[\"”'] in <L>|the <L> (?:word|term|phrase|expression) for|<L> for [\"“']|"
            r"(?:in|into) <L>,? (?:please|pls)|<L> please|put (?:this|it) (?:in|into) <L>|"
            r"i need (?:this|it) in <L>|render (?:this|it) in <L>|say [\"“'][^\"”']{1,60}"
            r"[\"”'] in <L>|what does [\"“'][^\"”']{1,60}[\"”'] mean in <L>)\b"
        ),
    ),
    _rule(
        "translation",
        0.96,
        r"\b(?:tradu[cz]\w*|tradu[ií]\w*|traduis\w*|traduire|traduza|traduzir|traduci|tradurre|"
        r"übersetz\w*|vertaal\w*|перевед\w*|перевести|перевод\w*)\b|翻译|翻譯|翻訳|译成|譯成|"
        r"訳して|に訳",
    ),
    # creative writing
    _rule(
        "creative_writing",
        0.95,
        _START + r"(?:write|compose|draft|create|craft|pen|come up with|make up|give me|"
        r"generate|invent|rewrite)\b[^.?!\n]{0,60}?\b(?:poems?|poetry|haikus?|sonnet|limericks?|"
        r"ode|ballad|villanelle|verses?|rhymes?|stor(?:y|ies)|fable|fairy ?tale|tale|novel|"
        r"novella|chapter|flash[- ]fiction|fan[- ]?fiction|fanfic|song|lyrics|lullaby|rap|jingle|"
        r"screenplay|script for|play about|scene|monologue|dialogue|bedtime|slogan|tagline|toast|"
        r"eulogy|speech|vows|love letter|cover letter|letter|e-?mail|blog post|blog|essay|op-ed|"
        r"tweet|caption|(?:linkedin|instagram|social media|facebook) post|product description|"
        r"ad copy|advertisement|commercial|diary entry|journal entry|obituary|greeting card|"
        r"birthday message|message for|thank-you note|thank you note|note to|names? for|"
        r"backstory|villain|protagonist|(?:fictional|fantasy|imaginary) world|(?:rpg|fantasy|"
        r"story) setting|synopsis|outline for a (?:novel|story|screenplay|book)|pitch|joke|"
        r"holiday|campfire)\b",
        unless=r"(?<![\w+#])(?:python|javascript|typescript|java|sql|bash|c\+\+|function|"
        r"script that|code|html|css|regex)(?![\w+#])",
    ),
    _rule(
        "creative_writing",
        0.95,
        r"\b(?:escribe|escriba|schreib\w*|verfasse|dichte|écri[st]\w*|rédige\w*|scrivi|componi|"
        r"escreva|componha|schrijf|напиши|сочини|придумай)\b[^.?!\n]{0,50}?(?:poema|poes[ií]a|"
        r"cuento|historia|relato|canci[óo]n|f[áa]bula|gedicht|geschichte|märchen|lied|erzählung|"
        r"poème|histoire|conte|chanson|nouvelle|fable|favola|racconto|storia|canzone|conto|"
        r"hist[óo]ria|can[çc][ãa]o|verhaal|sprookje|стих\w*|рассказ\w*|сказк\w*|песн\w*|"
        r"истори\w*|поэм\w*)",
    ),
    _rule(
        "creative_writing",
        0.95,
        r"(?:写|创作|编)(?:一首|一篇|一个|一段|个)?[^。？！\n]{0,12}?(?:诗|故事|小说|歌词|童话|散文|"
        r"剧本)|(?:詩|俳句|物語|小説|短歌|童話|歌詞)を[^。]{0,10}(?:書|作)",
    ),
    # extraction
    _rule(
        "extraction",
        0.97,
        _START + r"(?:extract|pull out|pull|grab|get|find|list|identify|pick out|return|parse|"
        r"give me|what(?:'s| is| are)|which|scan)\b[^.?!\n]{0,50}?\b(?:e-?mails?(?: addresses)?|"
        r"email addresses|phone numbers?|dates?|names?|urls?|links|hashtags|mentions|entities|"
        r"named entities|organi[sz]ations|locations|places|cities|countries|addresses|amounts|"
        r"figures|prices|skus?|codes|isbns?|tracking numbers?|key-value pairs|fields|ingredients|"
        r"quantities|measurements|action items|keywords|deadlines|medications?|doses|dosages|"
        r"citations|authors|numbers|people quoted|time expressions)\b",
        requires=_SOURCE,
    ),
    _rule("extraction", 0.95, _START + r"extract\b|\bextract (?:all|every|each|the|any|key)\b"),
    _rule(
        "extraction",
        0.88,
        r"\b(?:(?:as|in|into|return(?:ing)?|output|valid) (?:a |an )?(?:json|csv|yaml|table)|"
        r"json (?:object|array|document|with (?:keys|fields)))\b",
        requires=_SOURCE,
    ),
    _rule("extraction", 0.93, r"\bparse (?:this|the following|these)\b[^.?!\n]{0,40}\binto\b"),
    _rule(
        "extraction",
        0.95,
        r"\b(?:extrae\w*|extraer|extrahier\w*|extrais|extraire|extrayez|estrai\w*|estrarre|"
        r"extraia|extrair|entnimm|haal\b[^.?!]{0,40}\buit|извлеки|извлечь|выпиши)\b|提取|抽取|"
        r"抽出|抜き出",
    ),
    # classification
    _rule("classification", 0.97, r"\b(?:classify|categori[sz]e)\b"),
    _rule("classification", 0.95, _START + r"(?:label|tag)\b"),
    _rule(
        "classification",
        0.93,
        r"\b(?:(?:label|tag|bucket|rate)\b[^.?!\n]{0,40}?\b(?:as|with (?:a|its|the|one)|into)|"
        r"sort (?:these|the following|each)\b[^.?!\n]{0,40}\binto|into the right "
        r"(?:bucket|category|group))\b",
    ),
    _rule(
        "classification",
        0.95,
        r"\b(?:sentiment|(?:positive|negative)(?:,| or| and)+ (?:negative|positive|neutral|mixed)|"
        r"spam or|or not spam|intent of|urgent or (?:not|routine)|fact or opinion|formal or "
        r"(?:informal|casual)|fake or genuine|clickbait|phishing attempt|relevant or not|"
        r"domestic or wild|which (?:category|class|department|genre|topic|bucket|team|section|"
        r"language) (?:does|do|is|should|would|fits)|(?:assign|give)\b[^.?!\n]{0,40}\b(?:topic|"
        r"category|categories|label|labels|class|priority|genre|star rating|department)|"
        r"(?:answer|reply|respond) with (?:just |only )?(?:one of|the label|the category|"
        r"the language name)|is (?:this|the following|it) (?:email|message|text|review|comment|"
        r"tweet|post|sms|sentence|headline)\b[^?]{0,30}\b(?:spam|toxic|positive|negative|"
        r"sarcastic|offensive|phishing|urgent|clickbait|fake|formal|informal))\b",
    ),
    _rule(
        "classification",
        0.95,
        r"\b(?:clasifica\w*|clasifique|klassifizier\w*|kategorisier\w*|classifica|classifique|"
        r"classe[rz]? (?:ce|cet|cette|ces|les|le|la|chaque)|deel\b[^.?!]{0,40}\bin als|"
        r"классифицир\w*|тональност\w*|категори\w*|sentimiento|bewerte die stimmung)\b|分类|分類|"
        r"归类|判断[^。？]{0,20}(?:情感|正面|负面|好评|差评)|(?:好评|正面)还是(?:差评|负面)|"
        r"ポジティブかネガティブ|に分類",
    ),
    # chat
    _rule(
        "chat",
        0.92,
        r"\b(?:how are you|how's (?:it going|your (?:day|week|weekend|monday))|how was your "
        r"(?:day|weekend)|what(?:'s| is) your name|who are you|who am i (?:talking|speaking) to|"
        r"are you (?:a robot|a bot|human|real|an ai|sentient|conscious|alive)|do you (?:have|like|"
        r"love|enjoy|ever|dream|get tired|think it's weird)|what do you (?:like|enjoy|do for fun)|"
        r"tell me about yourself|your favou?rite|let's (?:chat|talk|play)|can we (?:just )?"
        r"(?:talk|chat)|i(?:'m| am) (?:bored|lonely|so happy|so sad|feeling (?:a bit |so |really )?"
        r"(?:lonely|sad|down|bored|low|happy|great))|i feel (?:sad|lonely|down|bored|happy)|"
        r"keep me company|cheer me up|tell me a joke|make me laugh|did you miss me|"
        r"what are you up to|what would you do if you were|i just (?:finished|got|adopted|moved)|"
        r"i miss (?:my|him|her)|what should i (?:cook|eat|watch|read|name|wear)|should i (?:text|"
        r"tell|call|date|forgive|break up)|your (?:opinion|take|view)|what do you think|"
        r"me siento|estoy aburrid[oa]|cu[ée]ntame algo|podemos hablar|je m'ennuie|je me sens|"
        r"tu peux me faire rire|ich kann nicht schlafen|erzähl mir|mir ist langweilig|"
        r"ich fühle mich|mi tiri su|sono triste|estou com saudade|me conta|ik ben zenuwachtig|"
        r"ik verveel me|мне скучно|мне грустно|давай поговорим|поболтаем)\b|心情不太好|陪我聊|"
        r"聊聊天|寂しい|話そう",
    ),
    _rule(
        "chat",
        0.88,
        r"\b(?:pretend (?:you(?:'re| are)|to be|yourself)|act as (?:my|a|an)|role-?play|"
        r"imagine you(?:'re| are)|stay in character|take on the role|embrace the role|"
        r"play the role|speak like|talk like|from now on,? (?:you|speak|talk|answer))\b",
    ),
    # question answering
    _rule(
        "question_answering",
        0.87,
        r"^(?:what|who|whom|whose|when|where|which|why|how)\b[^\n]{2,250}\?\s*$",
        unless=r"\b(?:i|me|my|i'm|we|our|us|you|your)\b",
        max_chars=300,
    ),
    _rule(
        "question_answering",
        0.87,
        r"^(?:¿\s*)?(?:qu[ée]|qui[ée]n(?:es)?|cu[áa]l(?:es)?|cu[áa]ndo|d[óo]nde|por qu[ée]|c[óo]mo|"
        r"was|wer|wann|wo|warum|wieso|weshalb|wie|welche[rsmn]?|qu'est-ce|qui|quand|où|pourquoi|"
        r"comment|quel(?:le)?s?|che|cosa|chi|quando|dove|perch[ée]|come|qual[ei]?|quem|onde|porque|"
        r"wat|wanneer|waar|waarom|hoe|welke|что|кто|когда|где|почему|зачем|как|какой|какая|какие|"
        r"сколько)\b[^\n]{2,250}[?？]\s*$",
        unless=r"\b(?:ich|mir|mich|du|dir|tu|vous|yo|tú|io|ti|eu|você|ik|jij|я|ты|вы|мне|меня)\b",
        max_chars=300,
    ),
    _rule(
        "question_answering",
        0.84,
        r"(?:什么|谁|哪|为什么|为何|怎么|多少|多长|多高|多大|何|誰|どこ|いつ|なぜ|どう|どの)"
        r"[^。\n]{0,40}[?？]\s*$",
        max_chars=150,
    ),
    _rule(
        "question_answering",
        0.9,
        r"\b(?:according to (?:this|these|it)|(?:according to|based on) (?:the|this) (?:text|"
        r"passage|article|announcement|paragraph|story|report)|in the passage below)\b|"
        r"(?:^|\n)\s*question:",
    ),
    _rule(
        "question_answering",
        0.84,
        _START + r"(?:explain|describe|define|tell me (?:about|why|how|what)|what is meant by)\b",
    ),
)


def rule_verdict(view: PromptView) -> Verdict | None:
    """The confident rule's task type, or None when no rule fires or two task types compete."""
    if is_small_talk(view.lowered):
        return Verdict("chat", 0.97, "rules")
    scores: dict[str, float] = {}
    for rule in RULES:
        if rule.confidence > scores.get(rule.task_type, 0.0) and rule.fires(view):
            scores[rule.task_type] = rule.confidence
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    task_type, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < RULE_THRESHOLD or best - runner_up < RULE_MARGIN:
        return None
    return Verdict(task_type, best, "rules")


def is_small_talk(text: str) -> bool:
    """Greetings, thanks and "how are you" with nothing else of substance."""
    if len(text) > 80:
        return False
    rest = _SMALLTALK.sub(" ", text)
    return len(_LEFTOVER.findall(rest)) <= 2


# --- Complexity --------------------------------------------------------------------------------
#
# A point score, read as low (0), medium (1-3) or high (4+); thresholds fitted to the complexity
# labels of the training file:
# - length in estimated tokens, since long pasted context makes any task heavier: +1 at 12,
#   +1 more at 40, +1 more at 200;
# - steps and constraints (list items, "must", "without", "include", "explain", "then" ...):
#   +1 at 2, +1 more at 4;
# - domain signals (proofs, system design, optimization, concurrency, security, migrations,
#   rigorous analysis, long-form fiction): +2 for the first, +1 for a second;
# - a prompt under 12 tokens with no domain signal is low whatever else it says.

_STEP_RE = _re(r"(?:^|\n|\s)(?:\d{1,2}[.)]|[a-e]\)|[-*•])\s+\S")
_CONSTRAINT_RE = _re(
    r"\b(?:must|should|without|at least|at most|no more than|under \d+|exactly|ensure|make sure|"
    r"handle|support|keep|preserve|include|explain|justify|compare|then|also|as well as|each|"
    r"every|while|respects?|limit|return|with (?:a|an|proper|optional)|and (?:a|an) \w+)\b"
)
_HARD_RE = _re(
    r"\b(?:prove|proof|derive|rigorous\w*|formal(?:ly)?|architecture|design (?:a|an|the)\b|"
    r"distributed|scal(?:able|ability)|concurren\w+|thread-safe|lock-free|atomics?|optimi[sz]\w*|"
    r"zero-downtime|migrat\w+|trade-?offs?|benchmark|edge cases|security|in depth|comprehensive|"
    r"end-to-end|multi-tenant|legal|medical|induction|eigen\w+|differential|interpretations?|"
    r"critically|analy[sz]e|strategy|taxonomy|schema|memory ordering|leaks?|graceful\w*|"
    r"chapter|screenplay|three-act|\d{3,},?\d*[- ]word)\b"
)


def estimate_complexity(text: str, *, tokens: int) -> str:
    """Return "low", "medium" or "high" from length, steps/constraints and domain signals."""
    if tokens < 12 and _HARD_RE.search(text) is None:
        return "low"
    score = sum(tokens >= bound for bound in (12, 40, 200))
    asks = len(_STEP_RE.findall(text)) + len(_CONSTRAINT_RE.findall(text))
    score += (asks >= 2) + (asks >= 4)
    hard = {match.lower() for match in _HARD_RE.findall(text)}
    score += 2 * bool(hard) + (len(hard) >= 2)
    if score >= 4:
        return "high"
    return "medium" if score >= 1 else "low"


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
    votes: Counter[str] = Counter()
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


# --- Images and tokens -------------------------------------------------------------------------

_IMAGE_RULE = _rule(
    "needs_images",
    1.0,
    r"\b(?:(?:in|on|from|of|at|within|into)\s+(?:this|these|that|my|the|attached|uploaded|"
    r"above|below|following)\s+(?:attached\s+|uploaded\s+)?(?:image|images|picture|pictures|pic|"
    r"photo|photos|photograph|screenshot|screenshots|screen ?shot|scan|x-ray|meme)|"
    r"(?:in|on|from|of)\s+(?:this|these|that|my|attached|uploaded|above|below|following)\s+"
    r"(?:diagram|chart|graph|figure|drawing|sketch|whiteboard|slide)|"
    r"(?:attached|uploaded|enclosed|included)\s+(?:image|picture|photo|screenshot|diagram|chart|"
    r"graph|figure|scan)|(?:image|picture|photo|screenshot|diagram|chart|scan)\s+(?:attached|"
    r"above|below|i (?:sent|uploaded|attached|shared))|(?:look at|describe|analy[sz]e|caption|"
    r"transcribe|ocr)\s+(?:this|the|my)\s+(?:image|picture|photo|screenshot|diagram|chart|graph|"
    r"scan|receipt|handwriting)|what(?:'s| is) in (?:this|the) (?:image|picture|photo)|"
    r"what do you see|(?:en|de) (?:esta|la) (?:imagen|foto|captura)|imagen adjunta|"
    r"(?:auf|in) (?:diesem|dem) (?:bild|foto|screenshot)|im (?:angehängten |beigefügten )?"
    r"(?:bild|foto|screenshot)|dans (?:cette|l') ?(?:image|photo|capture)|(?:image|photo) "
    r"(?:ci-jointe|jointe)|in questa (?:immagine|foto)|nesta (?:imagem|foto)|"
    r"op deze (?:afbeelding|foto)|на (?:этой|этом) (?:фото|картинке|скриншоте|изображении))\b|"
    r"这张(?:图片|图|照片)|图片中|截图|この(?:画像|写真)|画像の",
)
# Lead bytes of 3-4 byte and of 2-byte UTF-8 sequences: one per character of that width.
_WIDE_LEADS = bytes(range(0xE0, 0xF8))
_DOUBLE_LEADS = bytes(range(0xC0, 0xE0))


def mentions_image(text: str) -> bool:
    return _IMAGE_RULE.fires(PromptView.of(text))


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


# --- Learned model -----------------------------------------------------------------------------

_WORD_RE = re.compile(WORD_PATTERN)


def word_ngrams(text: str) -> list[str]:
    """Same n-grams as TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True)."""
    tokens = _WORD_RE.findall(text.lower())
    return tokens + [f"{left} {right}" for left, right in zip(tokens, tokens[1:], strict=False)]


class CharGramIndex:
    """Counts a prompt's char_wb n-grams against the vocabulary in numpy, exactly.

    Each character of the vocabulary gets a digit 1..A (0 for any other character) and an n-gram
    becomes the integer n * B**4 + its digits in base B = A + 1, so matching thousands of n-grams
    is a handful of array operations instead of thousands of Python string slices.

    Words are joined by two spaces, as scikit-learn pads each word with one space on either side;
    an n-gram straddling two words then contains "  ", which no vocabulary entry does, and the
    counts of the others match scikit-learn's (a word shorter than n - 2 yields no n-gram either
    way).
    """

    def __init__(self, vocabulary: Sequence[str]) -> None:
        if not vocabulary:
            raise ValueError("empty character vocabulary")
        self.alphabet = np.array(sorted({ord(char) for term in vocabulary for char in term}))
        self.base = len(self.alphabet) + 1
        if (CHAR_NGRAMS[1] + 1) * self.base**4 >= 2**63:
            raise ValueError("character vocabulary too large for 64-bit n-gram codes")
        codes = np.array([self._codes(self._digits(term), len(term))[0] for term in vocabulary])
        order = np.argsort(codes)
        self.codes = codes[order]
        self.columns = order

    def count(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary columns present in `text` and how often each occurs."""
        digits = self._digits(" " + "  ".join(text.lower().split()) + " ")
        low, high = CHAR_NGRAMS
        codes = np.concatenate([self._codes(digits, n) for n in range(low, high + 1)])
        # Deduplicate first: searching sorted, distinct keys is several times faster.
        codes, counts = np.unique(codes, return_counts=True)
        slots = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        found = self.codes[slots] == codes
        return self.columns[slots[found]], counts[found]

    def _digits(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        slots = np.minimum(np.searchsorted(self.alphabet, points), len(self.alphabet) - 1)
        return np.where(self.alphabet[slots] == points, slots + 1, 0).astype(np.int64)

    def _codes(self, digits: np.ndarray, n: int) -> np.ndarray:
        """Codes of every length-n window that holds only vocabulary characters."""
        windows = len(digits) - n + 1
        if windows <= 0:
            return np.zeros(0, dtype=np.int64)
        codes = np.zeros(windows, dtype=np.int64)
        known = np.ones(windows, dtype=bool)
        for offset in range(n):
            window = digits[offset : offset + windows]
            codes = codes * self.base + window
            known &= window > 0
        return (codes + n * self.base**4)[known]


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    word_vocabulary: dict[str, int]
    char_index: CharGramIndex
    word_idf: np.ndarray
    char_idf: np.ndarray
    weights: np.ndarray  # (n_features, n_classes): word block first, then char block
    intercept: np.ndarray
    training_sha256: str

    @classmethod
    def from_artifact(cls, artifact: Mapping[str, Any]) -> LinearModel:
        if artifact.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"classifier artifact format {artifact.get('format_version')!r}")
        word, char = artifact["word"], artifact["char"]
        settings = (word["ngram_range"], char["ngram_range"], artifact["model_clip"])
        expected = (list(WORD_NGRAMS), list(CHAR_NGRAMS), list(MODEL_CLIP))
        if settings != expected or not (word["sublinear_tf"] and char["sublinear_tf"]):
            raise ValueError("classifier artifact was trained with other feature settings")
        coef = _decode_array(artifact["coef"])
        return cls(
            classes=tuple(artifact["classes"]),
            word_vocabulary={term: i for i, term in enumerate(word["vocabulary"])},
            char_index=CharGramIndex(char["vocabulary"]),
            word_idf=_decode_array(word["idf"]),
            char_idf=_decode_array(char["idf"]),
            weights=np.ascontiguousarray(coef.T),
            intercept=np.asarray(artifact["intercept"], dtype=np.float64),
            training_sha256=artifact["training_sha256"],
        )

    def decision_function(self, text: str) -> np.ndarray:
        """Scores per class, equal to the scikit-learn pipeline's decision_function."""
        lookup = map(self.word_vocabulary.get, word_ngrams(text))
        found = Counter(col for col in lookup if col is not None)
        word_cols = np.fromiter(found.keys(), dtype=np.intp, count=len(found))
        word_counts = np.fromiter(found.values(), dtype=np.float64, count=len(found))
        char_cols, char_counts = self.char_index.count(text)
        cols = np.concatenate([word_cols, char_cols + len(self.word_vocabulary)])
        values = np.concatenate(
            [
                _tfidf(word_counts, self.word_idf[word_cols]),
                _tfidf(char_counts, self.char_idf[char_cols]),
            ]
        )
        return values @ self.weights[cols] + self.intercept

    def predict(self, text: str) -> tuple[str, float]:
        scores = self.decision_function(text)
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        best = int(np.argmax(scores))
        return self.classes[best], float(probabilities[best])


def _tfidf(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """One block of TfidfVectorizer(sublinear_tf=True, norm="l2") for a single document."""
    values = (np.log(counts) + 1.0) * idf
    norm = np.sqrt(values @ values)
    return values / norm if norm else values


@functools.cache
def load_model(path: Path = MODEL_PATH) -> LinearModel:
    """The shipped model, read once per process (JSON, no pickle, no scikit-learn)."""
    return LinearModel.from_artifact(json.loads(path.read_text(encoding="utf-8")))


def model_verdict(text: str) -> Verdict:
    task_type, confidence = load_model().predict(text)
    return Verdict(task_type, confidence, "model")


def model_text(text: str) -> str:
    """What the model sees of a prompt, in training and at inference alike."""
    return clip(text, *MODEL_CLIP)


# --- Training and the artifact -----------------------------------------------------------------


def load_rows(path: Path) -> list[dict[str, str]]:
    """Labelled JSONL rows ({"text", "task_type", "complexity"}), validated."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for number, row in enumerate(rows, start=1):
        if row.get("task_type") not in TASK_TYPES or row.get("complexity") not in COMPLEXITIES:
            raise ValueError(f"{path.name}:{number}: bad task_type or complexity")
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise ValueError(f"{path.name}:{number}: empty text")
    return rows


def rows_sha256(rows: Iterable[Mapping[str, str]]) -> str:
    """SHA-256 of rows in the canonical JSONL form the training file is kept in."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update((json.dumps(dict(row), ensure_ascii=False) + "\n").encode())
    return digest.hexdigest()


def fit_pipeline(rows: Sequence[Mapping[str, str]]) -> Any:
    """Fit the scikit-learn pipeline the artifact is exported from (deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from threadpoolctl import threadpool_limits

    features = FeatureUnion(
        [
            ("word", _vectorizer("word", WORD_NGRAMS, WORD_MAX_FEATURES)),
            ("char", _vectorizer("char_wb", CHAR_NGRAMS, CHAR_MAX_FEATURES)),
        ]
    )
    model = LogisticRegression(C=REGULARIZATION_C, max_iter=5000, random_state=0)
    pipeline = Pipeline([("features", features), ("model", model)])
    # One BLAS thread: summation order, and so the last bits of the weights, stay reproducible.
    with threadpool_limits(limits=1):
        pipeline.fit([model_text(row["text"]) for row in rows], [row["task_type"] for row in rows])
    return pipeline


def _vectorizer(analyzer: str, ngrams: tuple[int, int], max_features: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        max_features=max_features,
        sublinear_tf=True,
        lowercase=True,
        token_pattern=WORD_PATTERN,
        dtype=np.float64,
    )


def export_pipeline(pipeline: Any, *, training_sha256: str, training_rows: int) -> dict[str, Any]:
    """Everything inference needs, as plain JSON (float64 arrays base64-encoded, exact)."""
    union = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    blocks = {}
    for name, vectorizer in union.transformer_list:
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        blocks[name] = {
            "analyzer": vectorizer.analyzer,
            "ngram_range": list(vectorizer.ngram_range),
            "sublinear_tf": vectorizer.sublinear_tf,
            "vocabulary": vocabulary,
            "idf": _encode_array(vectorizer.idf_),
        }
    return {
        "format_version": FORMAT_VERSION,
        "training_sha256": training_sha256,
        "training_rows": training_rows,
        "model_clip": list(MODEL_CLIP),
        "classes": [str(label) for label in model.classes_],
        "intercept": [float(value) for value in model.intercept_],
        "coef": _encode_array(model.coef_),
        "word": blocks["word"],
        "char": blocks["char"],
    }


def train(
    rows: Sequence[Mapping[str, str]], *, training_sha256: str | None = None
) -> dict[str, Any]:
    """Train on labelled rows and return the JSON-ready artifact; same rows, same artifact.

    `training_sha256` defaults to the hash of the rows in canonical JSONL, which is the training
    file's own SHA-256 as long as the file is kept in that form; the command passes the file's.
    """
    digest = training_sha256 or rows_sha256(rows)
    return export_pipeline(fit_pipeline(rows), training_sha256=digest, training_rows=len(rows))


def dump_artifact(artifact: Mapping[str, Any]) -> str:
    return json.dumps(artifact, ensure_ascii=False, indent=1) + "\n"


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f8")
    return {
        "dtype": "<f8",
        "shape": list(data.shape),
        "data": base64.b64encode(data.tobytes()).decode(),
    }


def _decode_array(blob: Mapping[str, Any]) -> np.ndarray:
    raw = base64.b64decode(blob["data"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"]).astype(np.float64)
