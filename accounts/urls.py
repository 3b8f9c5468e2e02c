from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("org/switch/", views.organization_switch, name="organization-switch"),
    path("keys/", views.api_key_list_page, name="api-key-list"),
    path("keys/new/", views.api_key_create_page, name="api-key-create"),
    path("keys/<int:key_id>/revoke/", views.api_key_revoke_page, name="api-key-revoke"),
]
