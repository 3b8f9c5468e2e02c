"""The catalog (providers, models, assistants), routing rules and the records of precheck."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from accounts.tenancy import TenantModel, TenantQuerySet
from billing.money import price_field
from routing.types import TASK_TYPES

EMBEDDING_DIMENSIONS = 256  # wordllama l2_supercat 256 (routing/cache/embedders.py)

_HTTP_URL = r"^https?://[^\s/:]+(:\d+)?(/\S*)?$"
env_var_name = RegexValidator(
    r"^[A-Z_][A-Z0-9_]*$", "Name of an environment variable, e.g. OPENROUTER_API_KEY"
)


class ProviderKind(models.TextChoices):
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible"
    ANTHROPIC = "anthropic", "Anthropic"
    SIMULATOR = "simulator", "Simulator"


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    DISABLED = "disabled", "Disabled"


class ModelProvider(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=24, choices=ProviderKind.choices)
    # Any http(s) URL, including service names without a dot (http://simulator:8100/v1).
    api_base = models.CharField(
        max_length=200, validators=[URLValidator(schemes=["http", "https"], regex=_HTTP_URL)]
    )
    key_env = models.CharField(
        max_length=80,
        blank=True,
        validators=[env_var_name],
        help_text="Name of the environment variable or secret holding the key (never the key)",
    )
    status = models.CharField(
        max_length=16, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower is preferred")

    class Meta:
        ordering = ["priority", "slug"]

    def __str__(self) -> str:
        return self.name


class LatencyTier(models.TextChoices):
    FAST = "fast", "Fast"
    STANDARD = "standard", "Standard"
    SLOW = "slow", "Slow"


class AIModel(models.Model):
    provider = models.ForeignKey(ModelProvider, on_delete=models.PROTECT, related_name="models")
    slug = models.CharField(
        max_length=120, unique=True, help_text="Name sent to the provider, e.g. openai/gpt-4o"
    )
    display_name = models.CharField(max_length=120)
    context_window = models.PositiveIntegerField()
    max_output_tokens = models.PositiveIntegerField(default=4096)
    supports_images = models.BooleanField(default=False)
    input_cost_per_mtok = price_field(help_text="USD per million input tokens")
    output_cost_per_mtok = price_field(help_text="USD per million output tokens")
    currency = models.CharField(max_length=3, default="USD")
    latency_tier = models.CharField(
        max_length=16, choices=LatencyTier.choices, default=LatencyTier.STANDARD
    )
    quality = models.JSONField(
        default=dict, blank=True, help_text="Prior quality 0..1 per task type"
    )
    active = models.BooleanField(default=False, help_text="Staff activate models before use")
    pricing_source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["provider__priority", "slug"]
        indexes = [models.Index(fields=["active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(input_cost_per_mtok__gte=0) & Q(output_cost_per_mtok__gte=0),
                name="aimodel_prices_non_negative",
            ),
            models.CheckConstraint(condition=Q(context_window__gt=0), name="aimodel_context_gt_0"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Assistant(models.Model):
    """An assistant family (Coder, Writer, ...): the persona a task type maps to."""

    family = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    default_task_types = ArrayField(
        models.CharField(max_length=32, choices=[(t, t) for t in TASK_TYPES]),
        default=list,
        blank=True,
    )
    system_prompt = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingMode(models.TextChoices):
    AUTO = "auto", "Auto"
    COST = "cost", "Cost"
    SPEED = "speed", "Speed"
    QUALITY = "quality", "Quality"
    CUSTOM = "custom", "Custom"


class RoutingRule(models.Model):
    """An ordered rule; `organization` null means a platform-wide rule."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True
    )
    order = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=80)
    conditions = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"task_type": "coding", "complexity": "high"}'
    )
    target_model = models.ForeignKey(AIModel, on_delete=models.CASCADE, null=True, blank=True)
    target_family = models.SlugField(max_length=40, blank=True)
    mode = models.CharField(max_length=16, choices=RoutingMode.choices, blank=True)
    enabled = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["organization", "order"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_model__isnull=False) | ~Q(target_family="") | ~Q(mode=""),
                name="routing_rule_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.order} {self.name}"


class Complexity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskLevel(models.TextChoices):
    NONE = "none", "None"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class PromptCheck(TenantModel):
    """The outcome of one precheck. Holds the prompt's hash, never its text."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.SET_NULL, null=True, blank=True
    )
    prompt_sha256 = models.CharField(max_length=64, db_index=True)
    task_type = models.CharField(max_length=32, choices=[(t, t) for t in TASK_TYPES])
    complexity = models.CharField(max_length=8, choices=Complexity.choices)
    language = models.CharField(max_length=8, blank=True)
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices, default=RiskLevel.NONE)
    risk_categories = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    blocked = models.BooleanField(default=False)
    recommended_assistant = models.SlugField(max_length=40, blank=True)
    cache_outcome = models.CharField(max_length=16, blank=True)  # routing.cache CacheResult
    cache_guard = models.CharField(max_length=16, blank=True, help_text="Guard that refused")
    decision = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-at"])]

    def __str__(self) -> str:
        return f"{self.task_type}/{self.risk_level} {self.prompt_sha256[:12]}"


class SemanticCacheEntry(TenantModel):
    """One answer kept for reuse within its organisation and scope (routing/cache/). Holds
    the prompt's hash, embedding and guard features (keyed hashes), never its text."""

    scope = models.CharField(max_length=80, help_text="sha256 of what changes the answer")
    prompt_sha256 = models.CharField(max_length=64)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    features = models.JSONField(default=dict, blank=True, help_text="The guards' keyed hashes")
    response = models.TextField()
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "scope", "prompt_sha256"]),
            models.Index(fields=["organization", "created_at"], name="semcache_org_created"),
            models.Index(fields=["model"], name="semcache_model"),
            HnswIndex(
                name="semcache_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope[:12]} {self.prompt_sha256[:12]}"


class CachePolicy(TenantModel):
    """An organisation's choice about the semantic cache; no row means the default (on)."""

    enabled = models.BooleanField(default=True, help_text="Off: never store or serve answers")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "cache policies"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_cache_policy_per_org")
        ]

    def __str__(self) -> str:
        return f"cache {'on' if self.enabled else 'off'}"


class AuditVerdict(models.TextChoices):
    PENDING = "pending", "Pending"  # claimed by a worker, not judged yet
    PASS = "pass", "Pass"
    POOR = "poor", "Poor"
    ERROR = "error", "Error"  # the reference or the judge could not answer


class AuditMethod(models.TextChoices):
    JUDGE = "judge", "Judge model"
    EXACT = "exact", "Exact check"


class ShadowAudit(TenantModel):
    """One economy answer re-asked of a reference model and judged. Its cost is the
    platform's: it is never billed to the organisation that owns the answer."""

    model_call = models.OneToOneField("usage.ModelCall", on_delete=models.CASCADE)
    task_type = models.CharField(max_length=32, choices=[(t, t) for t in TASK_TYPES])
    complexity = models.CharField(max_length=8, choices=Complexity.choices, default="medium")
    economy_model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="+")
    reference_model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    verdict = models.CharField(
        max_length=16, choices=AuditVerdict.choices, default=AuditVerdict.PENDING
    )
    method = models.CharField(max_length=8, choices=AuditMethod.choices, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="The judge's one line")
    # The reference model's answer: the organisation's own data, offered to its user as the
    # better answer after a poor verdict; never shown on staff pages.
    reference_answer = models.TextField(blank=True)
    raw_cost = price_field(default=0, help_text="USD the platform paid for the audit")
    currency = models.CharField(max_length=3, default="USD")
    # The stronger answer the user may ask for after a poor audit ("a better answer").
    better_answer_requested_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["economy_model", "task_type", "complexity", "-at"]),
            models.Index(fields=["organization", "-at"]),
            models.Index(fields=["-at"]),
        ]

    def __str__(self) -> str:
        return f"audit {self.model_call_id}: {self.verdict}"


class AnswerFeedback(TenantModel):
    """A user's thumbs up or down on one answer; one per answer, the latest vote counts."""

    model_call = models.ForeignKey("usage.ModelCall", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="+")
    task_type = models.CharField(max_length=32, choices=[(t, t) for t in TASK_TYPES])
    complexity = models.CharField(max_length=8, choices=Complexity.choices, default="medium")
    helpful = models.BooleanField()
    at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["model", "task_type", "complexity"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "model_call"], name="one_feedback_per_answer"
            )
        ]

    def __str__(self) -> str:
        return f"feedback {self.model_call_id}: {'up' if self.helpful else 'down'}"


class ConfidenceCell(models.Model):
    """How one model has fared on one task type and complexity, across every organisation's
    shadow audits and feedback: the platform's own evidence, so no tenant's answers show."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="confidence")
    task_type = models.CharField(max_length=32, choices=[(t, t) for t in TASK_TYPES])
    complexity = models.CharField(max_length=8, choices=Complexity.choices, default="medium")
    samples = models.FloatField(default=0, help_text="Weighted: an audit 1, a vote less")
    audits = models.PositiveIntegerField(default=0)
    feedback = models.PositiveIntegerField(default=0)
    mean_score = models.FloatField(default=0)
    poor_rate = models.FloatField(default=0)
    poor_low = models.FloatField(default=0, help_text="Wilson 95% interval of the poor rate")
    poor_high = models.FloatField(default=1)
    escalate = models.BooleanField(default=False)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "task_type", "complexity"], name="one_cell_per_model_task"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} × {self.task_type}/{self.complexity}"


class ConfidenceChange(models.Model):
    """A cell escalated or cleared by a rebuild, with the evidence it was decided on."""

    cell = models.ForeignKey(ConfidenceCell, on_delete=models.CASCADE, related_name="changes")
    escalate = models.BooleanField()
    evidence = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.cell}: {'escalated' if self.escalate else 'cleared'}"
