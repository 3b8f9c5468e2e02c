"""The browser chat over a WebSocket: `/ws/chat/<conversation_id>/`, or `/ws/chat/new/`.

Thin, as the Channels section of STYLE.md asks: `connect` authenticates (session user, their
current organisation, their own conversation); after that the consumer only turns socket
messages into `chat.pipeline` calls and relays the pipeline's events, with the same
payloads as the `/api/ai/chat` SSE stream (`chat.events.event_payload`).

Client messages: `{"type": "send", "message": "...", "assistant"?: slug, "mode"?: mode,
"fresh"?: bool}` (fresh: never the cached answer) and `{"type": "stop"}`. Server messages:
`{"event": name, "data": {...}}` with the names
precheck, route, delta, usage, done, error, plus `conversation` (a new chat got its id) and
`stopped`. `delta`, `usage` and `stopped` carry `html`: the answer so far rendered by
`chat.markdown` (on deltas at most every 0.1 s, else null), which the page shows as it is.
A refusal or a bad message is an `error` event; the socket stays open.

The answer streams in its own task so a `stop` can arrive meanwhile. Cancelling that task
(Stop, or the socket closing) cancels the upstream call; the pipeline keeps the partial
answer and bills only what was produced, whatever the reason it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.urls import reverse

from accounts.errors import ApplicationError
from accounts.middleware import SESSION_KEY
from accounts.models import Organization, User
from accounts.request_context import request_id_bind, request_id_new
from accounts.selectors import membership_choose, membership_get, membership_list
from chat import conversations
from chat.events import event_payload
from chat.markdown import AnswerHtml
from chat.pipeline import chat_prepare, chat_stream
from chat.providers.base import ChatMessage
from chat.types import ChatRequest

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403  # not signed in, or not a member of any organisation
CLOSE_NOT_FOUND = 4404  # no such conversation for this user in their current organisation
MAX_MESSAGE_CHARS = 200_000
STOP_WAIT_SECONDS = 15  # how long a stop or disconnect waits for the partial to be billed
# Refusals a bigger plan would fix: the error event links to where plan requests are filed.
PLAN_FIXES = {"insufficient_credits", "no_active_plan", "not_in_plan"}


def _current_org(user: User, chosen_org_id: object) -> Organization | None:
    """The organisation the session chose, if the user still belongs to it, else their first
    (the same choice as `CurrentOrganizationMiddleware` makes for pages)."""
    current = membership_choose(list(membership_list(user=user)), chosen_org_id)
    return current.organization if current else None


def _owns(org: Organization, user: User, conversation_id: int) -> bool:
    try:
        conversations.conversation_get(org=org, user=user, conversation_id=conversation_id)
    except Http404:
        return False
    return True


def _is_member(org: Organization, user: User) -> bool:
    return membership_get(org=org, user=user) is not None


def refusal_payload(error: ApplicationError) -> dict[str, Any]:
    """An `error` event for a request refused before streaming: code, message and the
    details the page needs for a way on (categories, retry_after, plan_request_url)."""
    payload = {**error.extra, "code": error.code, "message": error.message, "partial": False}
    if error.code in PLAN_FIXES:
        payload["plan_request_url"] = reverse("usage:page") + "#plan-requests"
    return payload


class ChatConsumer(AsyncWebsocketConsumer):
    org: Organization
    user: User
    conversation_id: int | None
    task: asyncio.Task[None] | None = None
    # From a send until its answer's last event. The task lives a moment longer (it frees
    # the concurrency slot after the last event), so "busy" is this flag, not the task.
    answering = False
    answer: AnswerHtml  # the answer being written, as HTML rendered by the server

    async def connect(self) -> None:
        # Accept before refusing, so the browser receives the close code and can say why
        # (a refusal before accepting reaches it only as a failed handshake).
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await aclose_old_connections()
        session = self.scope.get("session") or {}
        org = await database_sync_to_async(_current_org)(user, session.get(SESSION_KEY))
        if org is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        conversation_id = self.scope["url_route"]["kwargs"].get("conversation_id")
        if conversation_id is not None and not await database_sync_to_async(_owns)(
            org, user, conversation_id
        ):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.org, self.user, self.conversation_id = org, user, conversation_id

    async def disconnect(self, code: int) -> None:
        await self._cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "org"):
            return  # refused in connect; the close is on its way
        try:
            data = json.loads(text_data) if text_data is not None else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self._error("bad_request", 'Send a JSON object such as {"type": "send"}.')
        elif data.get("type") == "send":
            await self._start(data)
        elif data.get("type") == "stop":
            await self._stop()
        else:
            await self._error("bad_request", 'Unknown message type: use "send" or "stop".')

    async def _start(self, data: dict[str, Any]) -> None:
        message, assistant, mode = data.get("message"), data.get("assistant"), data.get("mode")
        if self.answering:
            await self._error("busy", "An answer is still being written: stop it or wait.")
        elif not isinstance(message, str) or not message.strip():
            await self._error("bad_request", "message: write something to send.", param="message")
        elif len(message) > MAX_MESSAGE_CHARS:
            limit = f"{MAX_MESSAGE_CHARS:,}"
            await self._error("bad_request", f"message: at most {limit} characters.")
        elif not all(v is None or isinstance(v, str) for v in (assistant, mode)):
            await self._error("bad_request", "assistant and mode must be strings.")
        elif not isinstance(data.get("fresh", False), bool):
            await self._error("bad_request", "fresh: true or false.", param="fresh")
        else:
            chat = ChatRequest(
                org=self.org,
                user=self.user,
                api_key_id=None,
                messages=(ChatMessage(role="user", content=message),),
                request_id=request_id_new(),
                assistant=assistant or None,
                mode=mode or None,
                conversation_id=self.conversation_id,
                cache=not data.get("fresh", False),  # "Ask again fresh" after a cached answer
            )
            if self.task is not None:  # the last answer's clean-up: its slot must be free
                await asyncio.wait([self.task], timeout=STOP_WAIT_SECONDS)
            self.answering = True
            self.answer = AnswerHtml()
            self.task = asyncio.create_task(self._answer(chat))

    async def _answer(self, chat: ChatRequest) -> None:
        request_id_bind(chat.request_id)  # this task's log lines carry the chat's id
        try:
            await self._relay(chat)
        except Exception:  # a bug or an outage must not leave the page waiting forever
            logger.exception("chat over websocket failed", extra={"request_id": chat.request_id})
            self.answering = False
            await self._error("internal_error", "Something went wrong on our side. Try again.")
        finally:
            self.answering = False

    async def _relay(self, chat: ChatRequest) -> None:
        """Prepare (may refuse), then relay every pipeline event until the answer ends."""
        await aclose_old_connections()
        if not await database_sync_to_async(_is_member)(self.org, self.user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        try:
            prepared = await chat_prepare(chat)
        except ApplicationError as error:
            self.answering = False
            await self._event("error", refusal_payload(error))
            return
        except Http404:
            self.answering = False
            await self._error("not_found", "This conversation no longer exists.")
            return
        if self.conversation_id is None and prepared.conversation_id is not None:
            self.conversation_id = prepared.conversation_id
            url = reverse("chat:conversation", args=[self.conversation_id])
            await self._event("conversation", {"id": self.conversation_id, "url": url})
        # aclosing: if a stop lands while we wait on the socket (the stream paused at a
        # yield), the stream is closed now, so it bills and frees its slot now.
        async with contextlib.aclosing(chat_stream(prepared)) as events:
            async for event in events:
                name, payload = event_payload(event)
                if name == "delta":
                    payload["html"] = self.answer.add(payload["text"])
                elif name == "usage":
                    payload["html"] = self.answer.html()
                if name in ("done", "error"):
                    self.answering = False  # the client may send again as soon as it sees this
                await self._event(name, payload)

    async def _stop(self) -> None:
        if not self.answering:
            return  # it ended on its own just before the click: nothing to stop
        await self._cancel()
        message = "Stopped. The partial answer was kept; only what was written is billed."
        await self._event("stopped", {"message": message, "html": self.answer.html()})

    async def _cancel(self) -> None:
        """Cancel the answer and wait until the pipeline has billed what was produced."""
        if self.task is None or self.task.done():
            return
        self.task.cancel()
        await asyncio.wait([self.task], timeout=STOP_WAIT_SECONDS)

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self._event("error", {"code": code, "message": message, "partial": False, **extra})

    async def _event(self, name: str, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"event": name, "data": data}, cls=DjangoJSONEncoder))
