"""The per-plan category filter: content categories and image input a plan may refuse.

Deliberately narrow, high-precision patterns: this decides what a plan sells, not safety
policy (the shield guards against attacks; providers apply their own content policies).
"""

from __future__ import annotations

import re

from billing.types import Entitlement

CONTENT_PATTERNS = {
    "adult": re.compile(
        r"\b(?:porn\w*|nsfw|explicit sex\w*|erotic\w*|sexually explicit|nude photos?)\b"
    ),
    "weapons": re.compile(
        r"\b(?:(?:build|make|assemble|3d[- ]print)\w* (?:a |an )?(?:bomb|explosive|pipe bomb|"
        r"ghost gun|silencer|suppressor)|synthesi[sz]e (?:sarin|vx|ricin|nerve agent))\b"
    ),
    "gambling": re.compile(r"\b(?:sports betting|betting tips|casino strateg\w*|parlay picks)\b"),
}
CATEGORY_LABELS = {"adult": "adult content", "weapons": "weapons", "gambling": "gambling"}


def content_categories(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(name for name, pattern in CONTENT_PATTERNS.items() if pattern.search(lowered))


def category_refusal(
    *, categories: tuple[str, ...], needs_images: bool, entitlement: Entitlement
) -> tuple[str, str] | None:
    """(category, message) when the plan refuses this request, else None."""
    if needs_images and not entitlement.images_allowed:
        return "images", (
            f"Image input is not available on the {entitlement.plan_name} plan. "
            "Request a plan with image support to send images."
        )
    for category in categories:
        if category in entitlement.denied_categories:
            label = CATEGORY_LABELS.get(category, category)
            plan = entitlement.plan_name
            return category, f"Requests about {label} are not available on the {plan} plan."
    return None
