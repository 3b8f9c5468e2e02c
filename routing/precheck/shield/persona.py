"""Rules and weighted signals of the persona_jailbreak category."""

from __future__ import annotations

import re

from routing.precheck.shield.base import CRITICAL, HIGH, _rule

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
        word_before="mode",
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
