from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.services import audit_log_record
from billing.emails import email_on_commit, owner_emails
from billing.errors import NoActivePlan, PlanRequestDuplicate, PlanRequestInvalid
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    CreditLedger,
    LedgerKind,
    Plan,
    PlanRequest,
    PlanRequestStatus,
    Subscription,
    UserEntitlement,
)
from billing.periods import subscription_start
from billing.selectors import entitlement_get, subscription_get_live
from billing.stripe_api import payments_configured


def plan_request_decide(
    *,
    request: PlanRequest,
    approve: bool,
    actor: User,
    note: str = "",
    now: datetime | None = None,
) -> PlanRequest:
    """Approve or reject a pending plan request once, audited as `plan_request.<decision>`.

    The row is locked and must still be pending, so two staff deciding at the same time
    cannot both win; the loser gets a ValidationError. An approval takes effect at once:
    a family is added to the requester's entitlement, a plan replaces the org's plan, and
    every other pending request the approval satisfies is approved with it (audited too).
    A paid plan with payments configured waits for an owner's checkout instead. The requester
    is e-mailed the decision.
    """
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff can decide plan requests.")
    status = PlanRequestStatus.APPROVED if approve else PlanRequestStatus.REJECTED
    with transaction.atomic():
        locked = (
            PlanRequest.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=request.pk)
        )
        if locked.status != PlanRequestStatus.PENDING:
            raise ValidationError(f"This request was already {locked.status}.")
        locked.status = status
        locked.decided_by = actor
        locked.decided_at = now or timezone.now()
        locked.note = note
        checkout_pending = approve and _plan_request_apply(locked)
        if checkout_pending and not locked.note:
            locked.note = "Approved: an owner can now subscribe on the billing page."
        locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
        _plan_request_audit(locked, actor)
        _plan_request_email(locked, checkout_pending=checkout_pending)
        if approve and not checkout_pending:
            _plan_request_settle_satisfied(locked, actor)
    return locked


def _plan_request_email(request: PlanRequest, *, checkout_pending: bool = False) -> None:
    """Tell the requester the decision; for a paid plan, send the owners the way to pay."""
    org = request.organization
    asked_for = (
        f"the {request.requested_plan.name} plan"
        if request.requested_plan
        else f"the {request.requested_family} assistant"
    )
    email_on_commit(
        to=[request.user.email],
        subject=f"Your request for {asked_for} was {request.status}",
        template="plan_request_decided",
        request=request,
        org=org,
        asked_for=asked_for,
        approved=request.status == PlanRequestStatus.APPROVED,
        checkout_pending=checkout_pending,
    )
    if checkout_pending:
        email_on_commit(
            to=owner_emails(org),
            subject=f"Subscribe {org.name} to the {request.requested_plan} plan",
            template="checkout_link",
            org=org,
            plan=request.requested_plan,
            requester=request.user.email,
        )


def _plan_request_audit(request: PlanRequest, actor: User) -> None:
    approved = request.status == PlanRequestStatus.APPROVED
    audit_log_record(
        actor=actor,
        org=request.organization,
        action=f"plan_request.{'approve' if approved else 'reject'}",
        target=str(request),
        before={"status": PlanRequestStatus.PENDING.value},
        after={"status": request.status, "note": request.note},
    )


def _plan_request_settle_satisfied(approved: PlanRequest, actor: User) -> None:
    """Approve the organisation's other pending requests that `approved` now satisfies: the
    same plan, or a family the newly approved plan includes (for a family: the same user's
    request for it)."""
    pending = (
        PlanRequest.objects.for_org(approved.organization)
        .select_for_update()
        .filter(status=PlanRequestStatus.PENDING)
        .exclude(pk=approved.pk)
    )
    plan = approved.requested_plan
    if plan is not None:
        satisfied = pending.filter(
            Q(requested_plan=plan) | Q(requested_family__in=plan.allowed_families)
        )
        why = f"Included in the {plan.name} plan (request #{approved.pk} approved)."
    else:
        satisfied = pending.filter(user=approved.user, requested_family=approved.requested_family)
        why = f"Granted with request #{approved.pk}."
    for request in satisfied:
        request.status = PlanRequestStatus.APPROVED
        request.decided_by = actor
        request.decided_at = approved.decided_at
        request.note = why
        request.save(update_fields=["status", "decided_by", "decided_at", "note"])
        _plan_request_audit(request, actor)
        _plan_request_email(request)


def _plan_request_apply(request: PlanRequest) -> bool:
    """Grant what was asked. A paid plan, with payments configured, is not switched on here:
    the owners subscribe through checkout (True: that is still to come)."""
    plan = request.requested_plan
    if plan is not None and plan.stripe_price_id and payments_configured():
        return True
    if request.requested_family:
        entitlement, _ = UserEntitlement.objects.get_or_create(
            organization=request.organization, user=request.user
        )
        if request.requested_family not in entitlement.extra_families:
            entitlement.extra_families = [*entitlement.extra_families, request.requested_family]
            entitlement.save(update_fields=["extra_families"])
    if request.requested_plan:
        subscription_change_plan(
            org=request.organization, plan=request.requested_plan, user=request.user
        )
    return False


def subscription_change_plan(*, org: Organization, plan: Plan, user: User | None = None) -> None:
    """Move the live subscription to `plan` now; an upgrade tops up this period's credits
    by the difference in monthly credits (a downgrade takes nothing back)."""
    subscription = (
        Subscription.objects.for_org(org)
        .select_for_update()
        .filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .select_related("plan")
        .first()
    )
    if subscription is None:
        subscription_start(org=org, plan=plan, user=user)
        return
    if subscription.plan_id == plan.pk:
        return
    top_up = plan.monthly_credits - subscription.plan.monthly_credits
    subscription.plan = plan
    subscription.save(update_fields=["plan"])
    if top_up > 0:
        CreditLedger.objects.create(
            organization=org,
            user=user,
            kind=LedgerKind.GRANT,
            credits=top_up,
            note=f"Upgrade to {plan.name}",
        )


def plan_request_create(
    *,
    org: Organization,
    user: User,
    plan: Plan | None = None,
    family: str = "",
    reason: str = "",
) -> PlanRequest:
    """File a pending request by a member of `org` for a plan or an assistant family.

    At most one pending request per user and thing asked for: the requester's membership
    row is locked while checking, so two submissions at once cannot both get through.
    """
    family = family.strip()
    if plan is None and not family:
        raise PlanRequestInvalid("Ask for a plan or an assistant family.", {"param": "plan"})
    if plan is not None and family:
        raise PlanRequestInvalid("Ask for a plan or a family, not both.", {"param": "family"})
    with transaction.atomic():
        membership = Membership.objects.for_org(org).select_for_update().filter(user=user).first()
        if membership is None:
            raise PermissionDenied("Only members of this organisation can request plans.")
        if plan is not None:
            _plan_request_check_plan(org=org, plan=plan)
        else:
            _plan_request_check_family(org=org, user=user, family=family)
        existing = (
            PlanRequest.objects.for_org(org)
            .filter(user=user, status=PlanRequestStatus.PENDING)
            .filter(requested_plan=plan, requested_family=family)
            .first()
        )
        if existing is not None:
            raise PlanRequestDuplicate(
                "You already have a pending request for this.",
                {"param": "plan" if plan else "family", "existing_id": existing.pk},
            )
        return PlanRequest.objects.create(
            organization=org,
            user=user,
            requested_plan=plan,
            requested_family=family,
            reason=reason.strip(),
        )


def _plan_request_check_plan(*, org: Organization, plan: Plan) -> None:
    subscription = subscription_get_live(org=org)
    if subscription is not None and subscription.plan_id == plan.pk:
        raise PlanRequestInvalid(
            f"{org.name} is already on the {plan.name} plan.", {"param": "plan"}
        )


def _plan_request_check_family(*, org: Organization, user: User, family: str) -> None:
    # Billing knows families only as the strings plans sell, so those are the known ones.
    if not Plan.objects.filter(allowed_families__contains=[family]).exists():
        raise PlanRequestInvalid(f"No assistant family '{family}'.", {"param": "family"})
    try:
        families = entitlement_get(org=org, user=user).families
    except NoActivePlan:
        families = frozenset()
    if family in families:
        raise PlanRequestInvalid(f"You can already use '{family}'.", {"param": "family"})
