"""Rules of the system_prompt_extraction category."""

from __future__ import annotations

from routing.precheck.shield.base import CRITICAL, HIGH, MEDIUM, _rule

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
