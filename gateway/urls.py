from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts import apis as account_apis
from gateway import views

api_patterns = [
    path("me", account_apis.MeApi.as_view(), name="me"),
    path("keys", account_apis.ApiKeyListCreateApi.as_view(), name="api-key-list"),
    path("keys/<int:key_id>/revoke", account_apis.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("app/", include("accounts.urls")),
    path("api/", include((api_patterns, "api"))),
]
