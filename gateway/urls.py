from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts import apis as account_apis
from adminpanel import apis as staff_apis
from billing import apis as billing_apis
from billing import views as billing_views
from chat import apis as chat_apis
from gateway import metrics, views
from usage import apis as usage_apis
from usage import urls as usage_urls
from usage import views as usage_views

api_patterns = [
    path("me", billing_apis.MeApi.as_view(), name="me"),
    path("keys", account_apis.ApiKeyListCreateApi.as_view(), name="api-key-list"),
    path("keys/<int:key_id>/revoke", account_apis.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    # chat/apis.py's `_guarded` returns Callable[..., Awaitable[...]]; `path` takes async views
    # typed Callable[..., Coroutine[...]]. Drop this once `_guarded` says Coroutine.
    path("ai/chat", chat_apis.chat_api, name="chat"),
    path("ai/precheck", chat_apis.PrecheckApi.as_view(), name="precheck"),
    path("ai/models", chat_apis.ModelListApi.as_view(), name="model-list"),
    path("usage", usage_apis.UsageSummaryApi.as_view(), name="usage-summary"),
    path("finops/summary", usage_apis.FinopsSummaryApi.as_view(), name="finops-summary"),
    path("finops/daily", usage_apis.FinopsDailyApi.as_view(), name="finops-daily"),
    path(
        "plan-requests", billing_apis.PlanRequestListCreateApi.as_view(), name="plan-request-list"
    ),
    path("admin/model-calls", staff_apis.ModelCallListApi.as_view(), name="model-call-list"),
    path(
        "admin/models/<int:model_id>/activate",
        staff_apis.ModelActivateApi.as_view(),
        name="model-activate",
    ),
    path(
        "admin/models/<int:model_id>/deactivate",
        staff_apis.ModelDeactivateApi.as_view(),
        name="model-deactivate",
    ),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # Pages without our layout (the admin, error pages) get the icon browsers ask for.
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("app/", usage_views.dashboard, name="dashboard"),
    path("app/billing/", include("billing.urls")),
    path("billing/stripe/webhook", billing_views.stripe_webhook, name="stripe-webhook"),
    path("app/finops/", include((usage_urls.finops_patterns, "finops"))),
    path("app/", include("accounts.urls")),
    path("app/org/", include("routing.urls")),
    path("chat/", include("chat.urls")),
    path("usage/", include("usage.urls")),
    path("staff/", include("adminpanel.urls")),
    path("api/", include((api_patterns, "api"))),
]
