"""The console's forms: filters (a bad value is a 400 naming the field) and the reasons
and notes its actions ask for."""

from __future__ import annotations

from typing import Any

from django import forms

from adminpanel.selectors import WINDOWS
from usage.models import CallStatus


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, strip=True)


class ModelActiveForm(ReasonForm):
    active = forms.TypedChoiceField(choices=[("1", "activate"), ("0", "deactivate")], coerce=int)


class PlanDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(max_length=2000, required=False, strip=True)


class SpendForm(forms.Form):
    window = forms.ChoiceField(choices=[(w, w) for w in WINDOWS], required=False)
    order = forms.ChoiceField(choices=[("raw", "raw cost"), ("credits", "credits")], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["window"] = data.get("window") or "day"
        data["order"] = data.get("order") or "raw"
        return data


class CallFilterForm(forms.Form):
    org = forms.SlugField(required=False, label="Organisation (slug)")
    user = forms.EmailField(required=False, label="User (email)")
    model = forms.CharField(max_length=120, required=False, label="Model (slug)")
    status = forms.ChoiceField(choices=[("", "any"), *CallStatus.choices], required=False)
    request_id = forms.CharField(max_length=64, required=False, label="Request id")
    api_key = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    since = forms.DateTimeField(required=False, help_text="UTC, e.g. 2026-12-03 14:00")
    until = forms.DateTimeField(required=False)


class AuditFilterForm(forms.Form):
    action = forms.CharField(max_length=64, required=False, help_text="a prefix, e.g. model.")
    actor = forms.EmailField(required=False, label="Actor (email)")
    org = forms.SlugField(required=False, label="Organisation (slug)")
    since = forms.DateTimeField(required=False, help_text="UTC")


def first_error(form: forms.Form) -> str:
    """The first error, naming its field: "since: Enter a valid date/time."."""
    for name, errors in form.errors.items():
        return f"{name}: {errors[0]}" if name != "__all__" else str(errors[0])
    return ""
