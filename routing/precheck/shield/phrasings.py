"""Rules for attacks phrased without the classic trigger words, across categories.

An override that never says "ignore" ("everything above no longer applies"), section markers
that hand over to a fake authority, extraction phrased as a copying task, assembly games
(parts to combine, words to unscramble, blanks to fill, then obey) and personas defined by
having no rules (an evil twin, a future without laws). The learned detector covers the long
tail; these keep the common shapes fast and explainable.
"""

from __future__ import annotations

from routing.precheck.shield.base import HIGH, _rule

_PHRASING_RULES = (
    _rule(
        "instruction_override.en.scope_reset",
        HIGH,
        "above earlier before prior preceding previously & applies apply longer void "
        "cancelled canceled expired withdrawn revoked obsolete invalid binding force",
        r"\b(?:everything|every\s+\w+|all|anything|whatever|nothing|the\s+(?:text|lines?"
        r"|instructions?|messages?)|what(?:ever)?\s+(?:was|you\s+were)\s+(?:said|told|written"
        r"|given))\s+(?:\w+\s+){0,4}?(?:above|before|earlier|prior|preceding|previously)\b"
        r"[^.;:\n]{0,40}?(?:no\s+longer\s+(?:applies|apply|counts?|matters?|valid|binding"
        r"|in\s+force)|(?:(?:is|are|as)\s+)?(?:now\s+)?(?:void|cancell?ed"
        r"|canceled|expired|withdrawn|revoked|obsolete|invalid|null)|(?:has|have)\s+(?:been\s+)?"
        r"(?:expired|withdrawn|revoked|cancell?ed|canceled)|(?:is|are)\s+not\s+(?:in\s+force"
        r"|binding|valid))",
    ),
    _rule(
        "instruction_override.en.only_what_follows",
        HIGH,
        "only & follows below next & counts count matters applies",
        r"\bonly\s+(?:what|the\s+text|the\s+instructions?|my\s+words)\s+(?:that\s+)?"
        r"(?:follows|comes\s+next|below|from\s+here)\s+(?:counts?|matters?|applies)",
    ),
    _rule(
        "role_injection.delimiter.new_authority",
        HIGH,
        "end close & admin administrator system operator developer root override priority elevated",
        r"\b(?:end|close)\s*(?:of\s+)?(?:the\s+)?(?:user|customer|input|message|conversation"
        r"|document|query|text|chat)[\w\s]{0,20}?[-=#*\]>)/]{1,12}\s*[-=#*\[<(/\s]{1,14}"
        r"(?:begin\s+|start\s+)?(?:new\s+)?(?:admin|administrator|system|operator|developer|root"
        r"|override|priority|elevated)\b",
    ),
    _rule(
        "system_prompt_extraction.en.copy_context",
        HIGH,
        "copy paste dump reproduce write print output echo transcribe read & context setup "
        "preamble transcript configuration initial prompt",
        r"\b(?:copy|paste|dump|reproduce|write\s+out|print|output|echo|transcribe|read\s+back)"
        r"\s+(?:\w+\s+){0,3}?(?:your|the|this)\s+(?:whole\s+|entire\s+|full\s+|complete\s+|raw\s+)?"
        r"(?:context(?:\s+window)?|setup(?:\s+text)?|preamble|initial\s+\w+|configuration"
        r"|prompt|transcript)\b[^.\n]{0,60}?(?:first|very\s+start|beginning|hidden|verbatim"
        r"|word\s+for\s+word|code\s+block|including|as\s+you\s+received)",
    ),
    _rule(
        "system_prompt_extraction.en.before_my_message",
        HIGH,
        "before & message & reproduce repeat copy print output paste quote write show tell",
        r"\b(?:reproduce|repeat|copy|print|output|paste|quote|write\s+out|show\s+me|tell\s+me)\b"
        r"[^.\n]{0,50}?\b(?:text|words|everything|all)\s+(?:that\s+)?(?:appears?|came|comes|was"
        r"\s+(?:said|written|given))\s+before\s+my\s+(?:first\s+)?message",
    ),
    _rule(
        "persona_jailbreak.en.evil_twin",
        HIGH,
        "evil dark shadow mirror opposite inverse unaligned & twin counterpart self version "
        "mode day persona",
        r"\b(?:evil|dark|shadow|mirror|opposite|inverse|unaligned)\s+(?:twin|counterpart|self"
        r"|version|mode|day|persona)\b[^\n]{0,120}?(?:no\s+(?:ethics|rules|morals|limits|filters"
        r"|restrictions)|opposite\s+of\s+your|(?:never|doesn'?t|does\s+not|won'?t|don'?t)\s+"
        r"(?:refuse|care|follow|obey|have)|every\s+(?:refusal|rule)|rules?\s+(?:reversed|inverted|means?\s+(?:the"
        r"|its)\s+(?:reverse|opposite))|without\s+(?:ethics|rules|limits|restrictions|filters)"
        r"|never\s+(?:been\s+)?aligned)",
    ),
    _rule(
        "persona_jailbreak.en.lawless_world",
        HIGH,
        "year world future era story universe & rules laws policies guidelines restrictions "
        "limits ethics",
        r"\b(?:(?:in|it\s+is)\s+the\s+year\s+\d{4}|in\s+(?:a|this|that)\s+(?:world|future|era"
        r"|universe|story))\b[^\n]{0,80}?(?:no\s+(?:rules|laws|policies|content\s+policies"
        r"|guidelines|restrictions|limits|ethics)|(?:rules|laws|policies|guidelines|restrictions)"
        r"\s+(?:don'?t|do\s+not|no\s+longer)\s+exist|(?:were|have\s+been|are)\s+(?:abolished"
        r"|lifted|removed|gone))[^\n]{0,160}?\b(?:you\s+(?:are|answer|reply|respond|must|will)"
        r"|as\s+(?:that|the|this)\s+(?:ai|assistant|model|bot)|answer\s+as)\b",
    ),
    _rule(
        "payload_splitting.en.combine_parts",
        HIGH,
        "combine join merge concatenate put glue assemble & part parts half halves piece "
        "pieces fragment fragments segments",
        r"\b(?:combine|join|merge|concatenate|put|glue|assemble)\s+(?:\w+\s+){0,3}?(?:part|half"
        r"|halves|piece|fragment|segment)s?\b[^.\n]{0,60}?\b(?:answer|respond\s+to|follow|obey"
        r"|do\s+what|act\s+on|execute|comply|carry\s+out|believe)",
    ),
    _rule(
        "payload_splitting.en.reorder_and_obey",
        HIGH,
        "unscramble rearrange reorder order backwards reverse fill complete & obey follow do "
        "execute act comply",
        r"\b(?:unscramble|rearrange|reorder|put\s+(?:these|the)\s+(?:words|letters)\s+(?:\w+\s+)"
        r"{0,3}?order|read\s+(?:\w+\s+){0,3}?(?:backwards|in\s+reverse)|fill\s+in\s+the\s+blanks?"
        r"|complete\s+the\s+(?:word|text|sentence))\b[^\n]{0,80}?\b(?:obey|follow\s+(?:it|them"
        r"|the)|do\s+(?:what|as)\s+(?:it|they|the\s+\w+)\s+says?|execute|act\s+on|comply)",
    ),
)
