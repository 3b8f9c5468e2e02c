"""Rules of the token_smuggling category stated in the text."""

from __future__ import annotations

from routing.precheck.shield.base import HIGH, _rule

# --- token_smuggling (stated in the text) ---------------------------------------------------

_SMUGGLING_RULES = (
    _rule(
        "token_smuggling.en.decode_and_follow",
        HIGH,
        "base hex hexadecimal rot binary morse caesar url urlencoded reversed "
        "backwards encoded cipher ciphered encrypted & follow execute obey perform "
        "carry act comply do treat apply",
        r"\b(?:decode|decipher|decrypt|translate|convert|interpret|unscramble|reverse|read)\s+"
        r"(?:\w+\s+){0,4}?(?:base-?64|hex|hexadecimal|rot-?13|binary|morse|caesar|url-?encoded"
        r"|reversed|backwards|encoded|cipher|ciphered|encrypted)\b(?:[^.\n]{0,80}?)\b(?:and|then"
        r"|,)\s+(?:\w+\s+){0,2}?(?:follow|execute|obey|perform|carry\s+out|act\s+on|comply\s+with"
        r"|do\s+(?:what|as)\s+it\s+says|do\s+it|treat\s+it\s+as|apply)\b",
    ),
    _rule(
        "token_smuggling.en.encode_to_evade",
        HIGH,
        "filter filters detect detection censor moderation flag flagged monitor "
        "safety & respond reply answer write output speak talk communicate",
        r"\b(?:respond|reply|answer|write|output|speak|talk|communicate)\s+(?:\w+\s+){0,3}?"
        r"(?:only\s+)?in\s+(?:base-?64|hex|rot-?13|binary|morse|leetspeak|leet|code|cipher"
        r"|reverse)\b[^.\n]{0,80}?\b(?:so|to\s+(?:avoid|bypass|evade|get\s+(?:past|around))"
        r"|avoid|bypass|evade)\b[^.\n]{0,40}?(?:filter|detect|censor|moderat|flag|monitor|safety)",
    ),
)
