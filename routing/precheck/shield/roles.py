"""Rules of the role_injection category, and the fake-dialogue turn markers."""

from __future__ import annotations

import re

from routing.precheck.shield.base import CRITICAL, HIGH, MEDIUM, _rule

# --- role_injection -------------------------------------------------------------------------

_ROLE_RULES = (
    _rule(
        "role_injection.chatml.system_turn",
        CRITICAL,
        "~<|",
        r"<\|(?:im_start|start_header_id)\|>\s*(?:system|developer)\b|<\|system\|>",
    ),
    _rule(
        "role_injection.chatml.special_token",
        HIGH,
        "~<|",
        r"<\|(?:im_start|im_end|im_sep|endoftext|end_header_id|eot_id|begin_of_text|user"
        r"|assistant|end|start)\|>",
    ),
    _rule(
        "role_injection.llama.sys_block",
        HIGH,
        "~<<sys>> ~[/inst] ~[inst]",
        r"<<sys>>|\[/inst\]\s*\S|\[inst\]\s*(?:<<sys>>|you\s+are|ignore|new|system)",
    ),
    _rule(
        "role_injection.llama.inst_tag",
        MEDIUM,
        "~[inst]",
        r"\[inst\]",
    ),
    _rule(
        "role_injection.markdown.system_header",
        HIGH,
        "system sys admin administrator developer root",
        r"^\s*(?:#{1,4}|\*\*|\[|<)\s*(?:new\s+)?(?:system|sys|admin|administrator|developer|root)"
        r"(?:\s*(?:prompt|message|instructions?|override|update|note|notice|command))?\s*"
        r"(?:\*\*|\](?:\([^)\n]{0,40}\))?|>)?\s*:?\s*(?:\*\*)?\s*(?:\n\s*)?"
        r"(?:you\s+(?:are|must|will|should|have|now)"
        r"|ignore|disregard|forget|new\s+(?:instructions|rules|directive)|from\s+now\s+on"
        r"|always|never|override|the\s+(?:assistant|ai|model)\s+(?:must|will|should|is)"
        r"|all\s+(?:previous|prior)|(?:safety|content)\s+(?:filters?|restrictions)"
        r"|(?:developer|dan|god|unrestricted)\s+mode)",
    ),
    _rule(
        "role_injection.plain.system_prefix",
        HIGH,
        "system developer admin administrator & ~:",
        r"(?:^|[.!?]\s+)(?:system|developer|admin|administrator)\s*(?:message|prompt|note)?\s*:"
        r"\s*(?:you\s+(?:are|must|will|should|now)\s+(?:\w+\s+){0,3}?(?:no\s+longer|now|ignore"
        r"|unrestricted|allowed|free|permitted|disregard|bypass|jailbr|dan\b)|ignore|disregard"
        r"|forget|new\s+instructions|override|the\s+(?:assistant|ai)\s+(?:must|will|is\s+now)"
        r"|(?:safety|content)\s+(?:filters?|restrictions|guidelines)\s+(?:are|have\s+been)"
        r"\s+(?:disabled|removed|lifted|off))",
    ),
    _rule(
        "role_injection.xml.system_tag",
        HIGH,
        "~<sys ~</sys ~<admin ~</admin ~<developer ~</developer ~</user",
        r"</?(?:system|sys|system_prompt|system_message|admin|developer|developer_message)>"
        r"\s*(?:you\s+(?:are|must|will)|ignore|disregard|forget|new\s+instructions|from\s+now"
        r"|override|always|never|the\s+(?:assistant|ai))|</user>\s*<(?:system|assistant)>",
    ),
    _rule(
        "role_injection.turns.fake_compliance",
        HIGH,
        "assistant ai chatgpt gpt bot claude model & ~:",
        r"^\s*(?:assistant|ai|chatgpt|gpt|bot|claude|model)\s*:\s*(?:sure|certainly|of course"
        r"|absolutely|okay|ok)?[,!. ]*(?:i\s+(?:will|shall|am going to)\s+(?:now\s+)?(?:ignore"
        r"|disregard|comply|bypass)|i\s+am\s+now\s+(?:dan|free|unrestricted|jailbroken"
        r"|unfiltered|in\s+developer\s+mode)|i\s+have\s+no\s+(?:restrictions|limits|rules|filters)"
        r"|(?:developer|dan|jailbreak)\s+mode\s+(?:enabled|activated)|ignoring\s+(?:all\s+|my\s+)?"
        r"(?:previous|prior|safety)|here\s+(?:is|are)\s+(?:my|the)\s+(?:system\s+prompt"
        r"|hidden\s+instructions))",
    ),
    _rule(
        "role_injection.turns.end_of_prompt",
        HIGH,
        "end begin ~--- ~===",
        r"(?:\bend\s+of\s+(?:the\s+)?(?:system\s+(?:prompt|message)|instructions|user\s+input"
        r"|context|document|prompt)|\b(?:end|begin)\s+(?:system|user|admin)\s+(?:prompt|message"
        r"|input)|(?<![-=])(?:-{3,}+|={3,}+)\s*(?:new|real|actual|updated|admin|system)\s+(?:system\s+)?"
        r"(?:instructions"
        r"|prompt|rules|task|message))[^\n]{0,3}\s*(?:[-=#*\]>]{0,12}\s*)?(?:\w+\s+){0,6}?"
        r"(?:you\s+(?:are|must|will|should)|ignore|disregard|forget|new\s+(?:instructions|rules"
        r"|task)|from\s+now\s+on|now\s+(?:you|act|respond|reveal|tell|print|say))",
    ),
)

# Fake "Assistant:" turns inside a user message: flagged, not blocked, since pasted chat
# logs are an ordinary thing to ask about.
_USER_TURN = re.compile(r"\n ?(?:user|human|me) ?:")
_AI_TURN = re.compile(r"\n ?(?:assistant|ai|chatgpt|gpt|bot|claude) ?:")
