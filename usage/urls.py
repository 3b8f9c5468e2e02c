from django.urls import path

from usage import finops_views, views

app_name = "usage"

urlpatterns = [
    path("", views.usage_page, name="page"),
    path("plan-requests/", views.plan_request_create_page, name="plan-request-create"),
]

# Mounted at /app/finops/ under the `finops` namespace (gateway/urls.py).
finops_patterns = [
    path("", finops_views.finops_page, name="page"),
    path("export/<slug:table>.csv", finops_views.finops_export, name="export"),
    path("reports/", finops_views.finops_reports, name="reports"),
    path(
        "reports/<int:report_id>/download/",
        finops_views.finops_report_download,
        name="report-download",
    ),
]
