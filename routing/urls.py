from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("cache/", views.org_cache_page, name="org-cache"),
]
