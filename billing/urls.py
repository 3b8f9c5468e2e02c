from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.billing_page, name="page"),
    path("caps/", views.budget_cap_save, name="cap-save"),
    path("checkout/", views.checkout_start, name="checkout"),
    path("portal/", views.portal_open, name="portal"),
]
