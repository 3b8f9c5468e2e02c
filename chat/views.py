"""The browser chat: the page, its conversation list, live precheck hints and access requests.

One template, `chat/chat.html`, holds the page and its partials. Every view renders the
whole page, or (for htmx) only the partial whose name equals the `HX-Target` id, so a partial
is never written twice. The answer itself streams over the WebSocket (`chat/consumers.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.throttling import UserRateThrottle

from accounts.errors import ApplicationError
from accounts.models import Organization, User
from accounts.types import OrgHttpRequest
from billing.errors import NoActivePlan
from billing.models import PlanRequestStatus
from billing.selectors import entitlement_get, plan_request_list
from billing.services import plan_request_create
from billing.types import Entitlement
from chat import conversations, feedback
from chat.audits import better_answer_deliver
from chat.errors import NotFound
from chat.inputs import chat_inputs_sync
from chat.models import Conversation
from chat.providers.base import ChatMessage
from chat.snapshots import catalog_snapshot
from chat.types import ChatRequest
from routing.models import ProviderKind
from routing.policy import MODES
from routing.preview import route_preview
from routing.types import Catalog, RefusalCode, RoutePreview

PAGE = "chat/chat.html"
PARTIALS = {"conversation-list", "thread", "assistant-picker", "plan-badge"}


@dataclass(frozen=True)
class AssistantOption:
    family: str
    name: str
    allowed: bool
    pending: bool  # the user already asked for access


@dataclass(frozen=True)
class PrecheckHint:
    task_type: str = ""
    complexity: str = ""
    assistant: str = ""
    assistant_reason: str = ""
    model: str = ""
    est_credits: Decimal | None = None
    risk_level: str = "none"
    categories: tuple[str, ...] = ()
    blocked: bool = False
    cannot_afford: bool = False
    over_cap: bool = False
    problem: str = ""  # why it cannot be sent as it is (plan, context, no route)
    input_tokens: int = 0  # the prompt with what goes with it (history, system prompt)
    characters: int = 0


def _org(request: OrgHttpRequest) -> Organization:
    if request.org is None:
        raise PermissionDenied("You are not a member of any organisation.")
    return request.org


def _conversation_or_none(org: Organization, user: User, value: object) -> Conversation | None:
    """The conversation named by a form field (the page the user is on), if it is theirs."""
    try:
        return conversations.conversation_get(org=org, user=user, conversation_id=int(str(value)))
    except (Http404, ValueError):
        return None


def demo_mode(catalog: Catalog) -> bool:
    """True when no real provider has a key: only the simulator can answer."""
    return not any(
        m.provider_kind != ProviderKind.SIMULATOR and m.key_configured for m in catalog.models
    )


def _picker(
    catalog: Catalog, entitlement: Entitlement | None, pending: set[str]
) -> list[AssistantOption]:
    families = entitlement.families if entitlement else frozenset()
    return [
        AssistantOption(a.family, a.name, a.family in families, a.family in pending)
        for a in catalog.assistants
    ]


def _context(
    org: Organization, user: User, conversation: Conversation | None, **extra: Any
) -> dict[str, Any]:
    """Everything the page and each of its partials read; one context for all of them."""
    catalog = catalog_snapshot()
    try:
        entitlement: Entitlement | None = entitlement_get(org=org, user=user)
    except NoActivePlan:
        entitlement = None
    pending = {
        r.requested_family
        for r in plan_request_list(org=org, user=user).filter(status=PlanRequestStatus.PENDING)
    }
    assistants = _picker(catalog, entitlement, pending)
    modes = [m for m in MODES if entitlement and m in entitlement.modes]
    return {
        "conversation": conversation,
        "conversations": conversations.conversation_list(org=org, user=user),
        # Not "messages": that name belongs to django.contrib.messages in base.html.
        "thread_messages": (
            conversations.message_list(org=org, conversation=conversation) if conversation else []
        ),
        "entitlement": entitlement,
        "assistants": [a for a in assistants if a.allowed],
        "locked": [a for a in assistants if not a.allowed],
        "modes": modes if len(modes) > 1 else [],
        "demo_mode": demo_mode(catalog),
        "ws_path": f"/ws/chat/{conversation.pk}/" if conversation else "/ws/chat/new/",
        **extra,
    }


def _render(
    request: OrgHttpRequest, conversation: Conversation | None, **extra: Any
) -> HttpResponse:
    template = PAGE
    if request.htmx and request.htmx.target in PARTIALS:
        template += f"#{request.htmx.target}"
    context = _context(_org(request), request.user, conversation, **extra)
    return render(request, template, context)


@login_required
@require_GET
def chat_page(request: OrgHttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """A new chat (`/chat/`) or one of the user's conversations; anyone else's is 404."""
    conversation = None
    if conversation_id is not None:
        conversation = conversations.conversation_get(
            org=_org(request), user=request.user, conversation_id=conversation_id
        )
    return _render(request, conversation)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_rename(request: OrgHttpRequest, conversation_id: int) -> HttpResponse:
    """GET: the list with this conversation's title as a form; POST: save the new title."""
    org, params = _org(request), request.POST if request.method == "POST" else request.GET
    renamed = conversations.conversation_get(
        org=org, user=request.user, conversation_id=conversation_id
    )
    current = _conversation_or_none(org, request.user, params.get("current"))
    if request.method == "GET":
        return _render(request, current or renamed, editing_id=renamed.pk)
    try:
        conversations.conversation_rename(
            org=org, user=request.user, conversation_id=renamed.pk, title=params.get("title", "")
        )
    except ValidationError as error:
        return _render(request, current, editing_id=renamed.pk, rename_error=error.messages[0])
    if request.htmx:
        return _render(request, current)
    return redirect("chat:conversation", (current or renamed).pk)


@login_required
@require_POST
def conversation_delete(request: OrgHttpRequest, conversation_id: int) -> HttpResponse:
    """Delete one of the user's conversations; leaving the page if it was the open one."""
    org = _org(request)
    current = _conversation_or_none(org, request.user, request.POST.get("current"))
    conversations.conversation_delete(org=org, user=request.user, conversation_id=conversation_id)
    if current is not None and current.pk == conversation_id:
        current = None
        if request.htmx:
            return HttpResponseClientRedirect(reverse("chat:page"))
    if request.htmx:
        return _render(request, current)
    return redirect("chat:conversation", current.pk) if current else redirect("chat:page")


class PrecheckHintThrottle(UserRateThrottle):
    """The page's hints share the user's `precheck` rate with `POST /api/ai/precheck`."""

    scope = "precheck"


@login_required
@require_POST
def chat_precheck(request: OrgHttpRequest) -> HttpResponse:
    """The precheck hint for what is typed so far. Nothing is recorded: it is a preview,
    run on every pause in typing, and the real send records its own PromptCheck."""
    throttle = PrecheckHintThrottle()
    # DRF's throttle reads only the user and the request's META, which a Django request has.
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        wait = math.ceil(throttle.wait() or 1)
        return HttpResponse("Too many prechecks.", status=429, headers={"Retry-After": str(wait)})
    org = _org(request)
    text = request.POST.get("message", "")
    hint = None
    if text.strip():
        conversation = _conversation_or_none(org, request.user, request.POST.get("conversation"))
        hint = precheck_hint(
            org=org,
            user=request.user,
            text=text,
            assistant=request.POST.get("assistant") or None,
            mode=request.POST.get("mode") or None,
            conversation=conversation,
        )
    return render(request, f"{PAGE}#precheck-hint", {"hint": hint})


def precheck_hint(
    *,
    org: Organization,
    user: User,
    text: str,
    assistant: str | None,
    mode: str | None,
    conversation: Conversation | None,
) -> PrecheckHint:
    """What the send would decide for this prompt (`chat.inputs`), without recording or calling."""
    chat = ChatRequest(
        org=org,
        user=user,
        api_key_id=None,
        messages=(ChatMessage(role="user", content=text),),
        assistant=assistant,
        mode=mode,
        conversation_id=conversation.pk if conversation else None,
    )
    try:
        inputs = chat_inputs_sync(chat).precheck
        preview = route_preview(inputs)
    except ApplicationError as error:  # bad input, not in the plan, no plan at all
        return PrecheckHint(problem=error.message, characters=len(text))
    return replace(_hint(preview, inputs.catalog), characters=len(text))


def _hint(preview: RoutePreview, catalog: Catalog) -> PrecheckHint:
    outcome = preview.outcome
    labels = PrecheckHint(
        task_type=outcome.task_type.replace("_", " "),
        complexity=outcome.complexity,
        risk_level=outcome.risk_level,
        categories=outcome.risk_categories,
    )
    decision, chosen = preview.decision, preview.assistant
    if outcome.blocked or decision is None or chosen is None:
        return replace(labels, blocked=True)
    names = {m.slug: m.display_name for m in catalog.models}
    return replace(
        labels,
        assistant=chosen.name,
        assistant_reason=chosen.reason,
        model=names.get(decision.model or "", ""),
        est_credits=decision.est_credits if decision.model else None,
        input_tokens=decision.input_tokens,
        cannot_afford=decision.refusal_code == RefusalCode.INSUFFICIENT_CREDITS,
        over_cap=decision.refusal_code == RefusalCode.BUDGET_CAP,
        problem=(decision.refusal or "") if decision.model is None else "",
    )


@login_required
@require_POST
def assistant_request_access(request: OrgHttpRequest) -> HttpResponse:
    """File a PlanRequest for an assistant family the plan lacks; the picker shows it pending."""
    org = _org(request)
    current = _conversation_or_none(org, request.user, request.POST.get("current"))
    extra = {
        "selected_assistant": request.POST.get("assistant", ""),
        "selected_mode": request.POST.get("mode", ""),
    }
    try:
        plan_request_create(
            org=org,
            user=request.user,
            family=request.POST.get("family", ""),
            reason=request.POST.get("reason", ""),
        )
    except (ApplicationError, PermissionDenied) as error:
        message = getattr(error, "message", None) or str(error)
        if request.htmx:
            return _render(request, current, picker_error=message, **extra)
        messages.error(request, message)
    else:
        notice = "Request sent. You will get access once it is approved."
        if request.htmx:
            return _render(request, current, picker_notice=notice, **extra)
        messages.success(request, notice)
    return redirect("chat:conversation", current.pk) if current else redirect("chat:page")


@login_required
@require_POST
def answer_feedback(request: OrgHttpRequest, call_id: int) -> HttpResponse:
    """A thumbs up or down on one of the organisation's answers; the thread again."""
    org = _org(request)
    try:
        call = feedback.answer_call_get(org=org, call_id=call_id, user=request.user)
        helpful = feedback.rating_parse(request.POST.get("rating"))
    except NotFound:
        raise Http404 from None
    except ApplicationError as error:
        return HttpResponse(error.message, status=error.status_code)
    feedback.answer_feedback_give(org=org, user=request.user, call=call, helpful=helpful)
    return _thread_after(request, org)


@login_required
@require_POST
def answer_better(request: OrgHttpRequest, call_id: int) -> HttpResponse:
    """The stronger answer a poor shadow audit found, at the economy answer's price."""
    org = _org(request)
    try:
        feedback.answer_call_get(org=org, call_id=call_id, user=request.user)
        better_answer_deliver(org=org, user=request.user, call_id=call_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as error:
        return HttpResponse(error.message, status=error.status_code)
    return _thread_after(request, org)


def _thread_after(request: OrgHttpRequest, org: Organization) -> HttpResponse:
    current = _conversation_or_none(org, request.user, request.POST.get("current"))
    if request.htmx:
        return _render(request, current)
    return redirect("chat:conversation", current.pk) if current else redirect("chat:page")
