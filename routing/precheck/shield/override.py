"""Rules of the instruction_override category."""

from __future__ import annotations

from routing.precheck.shield.base import CRITICAL, HIGH, MEDIUM, _others, _rule, _words

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
