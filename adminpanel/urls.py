from django.urls import path

from adminpanel import views

app_name = "staff"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("health/", views.provider_health_page, name="health"),
    path("breakers/<slug:provider>/reset", views.breaker_reset_page, name="breaker-reset"),
    path("models/", views.model_list_page, name="models"),
    path("models/<int:model_id>/active", views.model_set_active_page, name="model-set-active"),
    path("plan-requests/", views.plan_request_queue_page, name="plan-requests"),
    path(
        "plan-requests/<int:request_pk>/decide",
        views.plan_request_decide_page,
        name="plan-request-decide",
    ),
    path("expensive/", views.expensive_users_page, name="expensive"),
    path("calls/", views.call_list_page, name="calls"),
    path("calls/<slug:org_slug>/<str:request_id>/", views.request_trace_page, name="trace"),
    path(
        "calls/<slug:org_slug>/<str:request_id>/messages/<int:message_id>/reveal",
        views.message_reveal_page,
        name="message-reveal",
    ),
    path("audit/", views.audit_log_page, name="audit"),
    path("quality/", views.quality_matrix_page, name="quality"),
]
