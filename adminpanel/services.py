"""The console's one write of its own: revealing a message, which is audited. Every other
action on the pages goes through the owning app's service (routing, billing, accounts)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from accounts.models import Organization, User
from accounts.services import audit_log_record
from usage.models import ModelCall

REVEAL_PERMISSION = "adminpanel.reveal_message"


def message_reveal(
    *, actor: User, org: Organization, request_id: str, message_id: int, reason: str
) -> str:
    """The text of one message of a request's conversation, for a staff member holding
    `adminpanel.reveal_message`; audited as `message.reveal` (with the reason) before the
    text is returned, so no reveal goes unrecorded."""
    if not (actor.is_staff and actor.has_perm(REVEAL_PERMISSION)):
        raise PermissionDenied("Revealing a message needs the reveal_message permission.")
    if not reason.strip():
        raise ValueError("reason: say why you need to read this message.")
    call = (
        ModelCall.objects.for_org(org)
        .filter(request_id=request_id, conversation__isnull=False)
        .select_related("conversation")
        .first()
    )
    if call is None or call.conversation is None:
        raise Http404("No conversation for this request.")
    message = call.conversation.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404("No such message in this request's conversation.")
    with transaction.atomic():
        audit_log_record(
            actor=actor,
            org=org,
            action="message.reveal",
            target=f"Message {message.pk} of request {request_id}",
            after={"role": message.role, "reason": reason.strip()[:200]},
        )
    return message.content
