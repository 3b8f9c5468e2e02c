"""Routing factories: the global catalog (providers, models, assistants) and tenant records.

Catalog slugs start with `test-` so they never clash with the seeded catalog.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from routing.models import (
    EMBEDDING_DIMENSIONS,
    AIModel,
    AnswerFeedback,
    Assistant,
    CachePolicy,
    Complexity,
    ConfidenceCell,
    LatencyTier,
    ModelProvider,
    PromptCheck,
    ProviderKind,
    ProviderStatus,
    RiskLevel,
    RoutingMode,
    RoutingRule,
    SemanticCacheEntry,
    ShadowAudit,
)
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.billing.factories import ensure_membership


def unit_vector(n: int) -> list[float]:
    """A distinct unit embedding per `n` (cosine distance 1 between different axes)."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    vector[n % EMBEDDING_DIMENSIONS] = 1.0
    return vector


class ModelProviderFactory(DjangoModelFactory[ModelProvider]):
    class Meta:
        model = ModelProvider

    slug = factory.Sequence(lambda n: f"test-provider-{n}")
    name = factory.Sequence(lambda n: f"Test provider {n}")
    kind = ProviderKind.SIMULATOR
    api_base = "http://127.0.0.1:9/v1"
    key_env = factory.Sequence(lambda n: f"TEST_PROVIDER_{n}_API_KEY")
    status = ProviderStatus.ACTIVE
    priority = 100


class AIModelFactory(DjangoModelFactory[AIModel]):
    """Active by default, since most tests route to it; pass `active=False` for a new model."""

    class Meta:
        model = AIModel

    provider = factory.SubFactory(ModelProviderFactory)
    slug = factory.Sequence(lambda n: f"test/model-{n}")
    display_name = factory.Sequence(lambda n: f"Test model {n}")
    context_window = 128_000
    max_output_tokens = 4096
    input_cost_per_mtok = Decimal("0.15")
    output_cost_per_mtok = Decimal("0.60")
    latency_tier = LatencyTier.STANDARD
    quality = factory.LazyFunction(lambda: {"chat": 0.8, "coding": 0.7})
    active = True


class AssistantFactory(DjangoModelFactory[Assistant]):
    class Meta:
        model = Assistant

    family = factory.Sequence(lambda n: f"test-family-{n}")
    name = factory.Sequence(lambda n: f"Test assistant {n}")
    description = "An assistant for tests"
    default_task_types = factory.LazyFunction(lambda: ["chat"])
    system_prompt = "You are a helpful test assistant."
    enabled = True


class RoutingRuleFactory(DjangoModelFactory[RoutingRule]):
    """A platform-wide rule by default; pass `organization=` for a tenant's own rule."""

    class Meta:
        model = RoutingRule

    organization = None
    order = factory.Sequence(lambda n: 1000 + n)
    name = factory.Sequence(lambda n: f"test rule {n}")
    conditions = factory.LazyFunction(lambda: {"task_type": "coding"})
    target_model = factory.SubFactory(AIModelFactory)
    mode = RoutingMode.QUALITY
    enabled = True


class PromptCheckFactory(DjangoModelFactory[PromptCheck]):
    class Meta:
        model = PromptCheck
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    conversation = None
    prompt_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    task_type = "chat"
    complexity = Complexity.LOW
    language = "en"
    risk_level = RiskLevel.NONE
    risk_categories = factory.LazyFunction(list)
    recommended_assistant = "generalist"
    cache_outcome = "miss"
    member = factory.PostGeneration(ensure_membership)


class SemanticCacheEntryFactory(DjangoModelFactory[SemanticCacheEntry]):
    class Meta:
        model = SemanticCacheEntry

    organization = factory.SubFactory(OrganizationFactory)
    scope = "generalist:v1"
    prompt_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    embedding = factory.Sequence(unit_vector)
    response = "A cached answer."
    model = factory.SubFactory(AIModelFactory)
    input_tokens = 12
    output_tokens = 34
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class CachePolicyFactory(DjangoModelFactory[CachePolicy]):
    class Meta:
        model = CachePolicy

    organization = factory.SubFactory(OrganizationFactory)
    enabled = False


class ShadowAuditFactory(DjangoModelFactory[ShadowAudit]):
    """Audits `model_call`'s model against a reference model, in the call's organisation."""

    class Meta:
        model = ShadowAudit

    model_call = factory.SubFactory("tests.usage.factories.ModelCallFactory")
    organization = factory.LazyAttribute(lambda o: o.model_call.organization)
    task_type = "chat"
    economy_model = factory.LazyAttribute(lambda o: o.model_call.model)
    reference_model = factory.SubFactory(AIModelFactory)
    score = 0.9
    verdict = "pass"


class AnswerFeedbackFactory(DjangoModelFactory[AnswerFeedback]):
    """A vote on `model_call`'s answer, in the call's organisation."""

    class Meta:
        model = AnswerFeedback

    model_call = factory.SubFactory("tests.usage.factories.ModelCallFactory")
    organization = factory.LazyAttribute(lambda o: o.model_call.organization)
    user = factory.LazyAttribute(lambda o: o.model_call.user)
    model = factory.LazyAttribute(lambda o: o.model_call.model)
    task_type = "chat"
    complexity = "medium"
    helpful = True


class ConfidenceCellFactory(DjangoModelFactory[ConfidenceCell]):
    class Meta:
        model = ConfidenceCell

    model = factory.SubFactory(AIModelFactory)
    task_type = "chat"
    samples = 25
    mean_score = 0.85
    poor_rate = 0.04
    escalate = False
    rebuilt_at = factory.LazyFunction(timezone.now)
