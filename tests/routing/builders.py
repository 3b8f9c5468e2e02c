"""Hand-made catalog values for testing routing without the database."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.types import Entitlement
from routing.types import AssistantInfo, Catalog, ModelInfo

TASKS = ["coding", "math", "chat"]


def model(slug: str, price_in: str, price_out: str, quality: float, **extra: object) -> ModelInfo:
    values = {
        "slug": slug,
        "display_name": slug,
        "provider": "prov-" + slug,
        "provider_status": "active",
        "context_window": 128_000,
        "supports_images": False,
        "input_cost_per_mtok": Decimal(price_in),
        "output_cost_per_mtok": Decimal(price_out),
        "latency_tier": "standard",
        "quality": dict.fromkeys(TASKS, quality),
    }
    return ModelInfo(**{**values, **extra})


CHEAP = model("cheap", "0.10", "0.40", 0.60, latency_tier="fast")
MID = model("mid", "0.40", "1.60", 0.78)
BIG = model("big", "2.50", "10.00", 0.90, supports_images=True, context_window=1_000_000)
CATALOG = Catalog(
    models=(BIG, CHEAP, MID),
    assistants=(AssistantInfo("generalist", "Generalist", ("chat",)),),
)
ENTITLEMENT = Entitlement(
    plan_slug="pro",
    plan_name="Pro",
    families=frozenset({"generalist"}),
    models=frozenset(),
    modes=frozenset({"auto", "cost", "speed", "quality", "custom"}),
    max_context=1_000_000,
    rpm=60,
    org_rpm=600,
    max_concurrency=4,
    images_allowed=True,
    denied_categories=frozenset(),
    display_multiplier=Decimal("1000"),
    credits_left=Decimal("10000"),
    period_start=datetime(2026, 11, 1, tzinfo=UTC),
    period_end=datetime(2026, 12, 1, tzinfo=UTC),
)
