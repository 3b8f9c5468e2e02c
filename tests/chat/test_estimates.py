"""The credits shown before sending come from the same tokens and prices as the bill."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.chat.conftest import Live

PROMPT = "Tell me something cheerful about the weather today."


def test_the_estimate_counts_the_system_prompt_and_the_output_cap_as_the_bill_does(
    live: Live,
) -> None:
    body = {"message": PROMPT, "max_tokens": 5, "stream": False}

    reply = httpx.post(f"{live.url}/api/ai/chat", json=body, headers=live.headers(), timeout=20)

    answer = reply.json()
    route, usage = answer["precheck"]["route"], answer["usage"]
    assert route["est_output_tokens"] == usage["output_tokens"] == 5
    # The simulator counts the system prompt and the message as the estimate does (about
    # four characters a token), give or take the rounding of each part.
    assert abs(route["est_input_tokens"] - usage["input_tokens"]) <= 2
    estimate, billed = Decimal(route["est_credits"]), Decimal(usage["credits"])
    assert abs(estimate - billed) <= billed * Decimal("0.05")
