from django.urls import path

from usage import views

app_name = "usage"

urlpatterns = [
    path("", views.usage_page, name="page"),
    path("plan-requests/", views.plan_request_create_page, name="plan-request-create"),
]
