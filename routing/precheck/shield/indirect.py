"""Rules of the indirect_injection category."""

from __future__ import annotations

from routing.precheck.shield.base import HIGH, _rule

# --- indirect_injection ---------------------------------------------------------------------

_AI_NOUN = (
    r"(?:ai|a\.i\.|llm|llms|language\s+models?|assistant|assistants|chatbots?|bots?|gpt"
    r"|chatgpt|claude|copilot|gemini|agents?|ai\s+(?:assistants?|models?|agents?|systems?"
    r"|tools?|readers?)|automated\s+(?:systems?|agents?|assistants?|reviewers?|screeners?))"
)

_INDIRECT_RULES = (
    _rule(
        "indirect_injection.en.ai_reader",
        HIGH,
        "reading processing summarizing summarising parsing analyzing analysing "
        "reviewing scanning screening crawling seeing viewing browsing & ai llm llms "
        "language assistant assistants chatbot chatbots bot bots gpt chatgpt claude "
        "copilot gemini agent agents automated model models readers reader reviewers "
        "screeners systems",
        rf"\b{_AI_NOUN}\s+(?:that\s+is\s+|who\s+is\s+|currently\s+)?(?:reading|processing"
        r"|summari[sz]ing|parsing|analy[sz]ing|reviewing|scanning|screening|crawling|seeing"
        r"|viewing|browsing)\s+(?:this|these|the\s+following|my|our)\b",
    ),
    _rule(
        "indirect_injection.en.if_you_are_ai",
        HIGH,
        "if when & ai llm llms language assistant assistants chatbot chatbots bot "
        "bots gpt chatgpt claude copilot gemini agent agents automated model models "
        "screener screeners reviewer reviewers systems system",
        rf"\b(?:if|when)\s+(?:you\s+are|you're|an?|any|the)\s+(?:an?\s+)?{_AI_NOUN}\s*"
        r"(?:is\s+|are\s+)?[,(]?\s*(?:\w+\s+){0,3}?(?:reading|processing|summari[sz]ing|parsing"
        r"|analy[sz]ing|reviewing|scanning|screening|evaluating|ignore|disregard|you\s+must"
        r"|you\s+should|must|tell|say|recommend|rate|classify|mark|forward|send|do\s+not|don't)\b",
    ),
    _rule(
        "indirect_injection.en.note_to_ai",
        HIGH,
        "note message instruction instructions attention notice ps p important hidden "
        "& ai llm llms language assistant assistants chatbot chatbots bot bots gpt "
        "chatgpt claude copilot gemini agent agents automated model models & ~note to "
        "~note for ~message to ~message for ~instructions to ~instructions for "
        "~instruction to ~instruction for ~attention ~notice ~p.s ~ps ~important "
        "~hidden",
        r"(?:^|[\[(\-*#:>]|\.\s)\s*(?:note|message|instructions?|attention|notice|p\.?s\.?"
        rf"|important(?:\s+note)?|hidden\s+instructions?)\s*(?:to|for|,)\s*(?:the\s+|any\s+|all\s+)?"
        rf"{_AI_NOUN}\b(?!\s+(?:team|researchers?|group|department|committee|lab|community"
        r"|engineers?|developers?|startups?|company|ethics|policy|policies|course|class))"
        rf"|(?:^|[\[(\-*#:>]|\.\s)\s*attention\s*,?\s*(?:all\s+|any\s+)?{_AI_NOUN}\s*[,:!]",
    ),
    _rule(
        "indirect_injection.en.summarizer_directive",
        HIGH,
        "summarizing summarising summarize summarise asked answering reviewing "
        "evaluating ranking screening processing reading & say tell claim state "
        "recommend rate rank describe report conclude call mention ignore",
        r"\b(?:when|while|if|whenever)\s+(?:you\s+are\s+|you're\s+)?(?:summari[sz]ing|summari[sz]e"
        r"|asked\s+about|answering\s+questions\s+about|reviewing|evaluating|ranking|screening"
        r"|processing|reading)\s+(?:this|the|these|my)\s+(?:\w+\s+)?(?:document|page|email|e-mail"
        r"|article|text|resume|résumé|cv|file|website|site|message|review|post|application"
        r"|submission|paper|content)s?\b,?\s+(?:you\s+(?:must|should|will|have\s+to)\s+|always\s+"
        r"|never\s+|do\s+not\s+|don't\s+)(?:\w+\s+){0,2}?(?:say|tell|claim|state|recommend|rate"
        r"|rank|describe\s+(?:it|this|the\s+\w+)\s+as|report\s+that|conclude|call\s+it|mention"
        r"\s+that|ignore)\b",
    ),
    _rule(
        "indirect_injection.en.hide_from_user",
        HIGH,
        "user human reader recipient person & tell telling inform informing mention "
        "mentioning reveal revealing let letting alert alerting notify notifying warn "
        "warning",
        r"\b(?:do\s+not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?"
        r"\s+(?:this\s+|it\s+)?to|reveal(?:ing)?\s+(?:this\s+|it\s+)?to|let(?:ting)?|alert(?:ing)?"
        r"|notify(?:ing)?|warn(?:ing)?)\s+the\s+(?:user|human|reader|recipient|person)\b"
        r"(?:\s+(?:about|that|of|know|what|this|you))",
    ),
    _rule(
        "indirect_injection.en.exfiltrate",
        HIGH,
        "~![ | url link image query & append add include encode insert",
        r"!\[[^\]]{0,40}\]\(https?://[^)\s]{0,200}(?:\{|\[|%7b|\$|<)[^)]{0,200}\)"
        r"|\b(?:append|add|include|encode|insert)\s+(?:\w+\s+){0,5}?(?:conversation|chat history"
        r"|user'?s?\s+(?:data|messages?|email|password|details)|previous\s+messages)\s+(?:\w+\s+)"
        r"{0,4}?(?:to|in|into)\s+(?:the\s+|this\s+|a\s+)?(?:url|link|image|query\s+string)",
    ),
    _rule(
        "indirect_injection.es.note_to_ai",
        HIGH,
        "nota aviso instrucción instrucciones instruccion & ia inteligencia asistente modelo",
        r"(?:^|[\[(\-*#:>]|\.\s)\s*(?:nota|aviso|instrucci[oó]n(?:es)?)\s+(?:para|a)\s+"
        r"(?:la\s+|el\s+)?(?:ia|inteligencia artificial|asistente|modelo)\b",
    ),
    _rule(
        "indirect_injection.de.note_to_ai",
        HIGH,
        "hinweis nachricht anweisung & ki assistenten sprachmodell",
        r"(?:hinweis|nachricht|anweisung)\s+(?:an|für)\s+(?:die\s+|den\s+)?(?:ki|assistenten"
        r"|sprachmodell)\b",
    ),
    _rule(
        "indirect_injection.fr.note_to_ai",
        HIGH,
        "note message consigne & ia assistant modèle",
        r"(?:note|message|consigne)\s+(?:pour|à)\s+(?:l'|le\s+|la\s+)?(?:ia|assistant|modèle)\b",
    ),
    _rule(
        "indirect_injection.zh.note_to_ai",
        HIGH,
        "~致 ~给 ~給 ~你是",
        r"(?:致|给|給)(?:ai|人工智能|助手|语言模型|語言模型){1,2}(?:的)?(?:提示|说明|說明|指令|消息)"
        r"|(?:如果你是|若你是)(?:一个|一個)?(?:ai|人工智能|语言模型|語言模型|助手)",
    ),
    _rule(
        "indirect_injection.ru.note_to_ai",
        HIGH,
        "примечание сообщение инструкция указание если & ии ai ассистента ассистент модели "
        "нейросети нейросеть языковая",
        r"(?:примечание|сообщение|инструкция|указание)\s+для\s+(?:ии|ai|ассистента|модели"
        r"|нейросети)|если\s+ты\s+(?:ии|ai|ассистент|языковая модель|нейросеть)",
    ),
)
