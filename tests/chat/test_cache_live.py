"""The semantic cache end to end: the gateway under daphne, the simulator upstream, real
PostgreSQL (pgvector) and Valkey. A second ask is answered from the cache, billed once as a
`cached` call, never across organisations, and never by a deactivated model."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.utils import timezone

from accounts.models import Organization
from billing.models import CreditLedger, LedgerKind
from chat.cache import cache_stores_drain
from routing.models import AIModel, PromptCheck, SemanticCacheEntry
from routing.services import aimodel_set_active
from tests.accounts.factories import UserFactory
from tests.chat.conftest import Live
from tests.conftest import Tenant, make_tenant
from usage.finops import Period, finops_totals
from usage.models import CallStatus, CostRecord, ModelCall, UsageRecord

QUESTION = "How do I reverse a string in Python?"
PARAPHRASE = "How can I reverse a string in Python?"


@pytest.fixture
def cached(live: Live) -> Live:
    """The live stack with a tenant whose cache is on."""
    live.tenant = make_tenant("Cachecorp", plan="team", cache=True)
    return live


def entries_at_least(org: Organization, count: int) -> None:
    """Wait for the store a miss scheduled after its answer went out (off the request)."""
    deadline = time.monotonic() + 10
    while SemanticCacheEntry.objects.for_org(org).count() < count:
        assert time.monotonic() < deadline, f"fewer than {count} entries stored"
        time.sleep(0.02)


def ask(live: Live, prompt: str, *, tenant: Tenant | None = None, **headers: str) -> httpx.Response:
    """One /v1 call; after a miss, waits until its answer is stored (it is, off the request)."""
    org = (tenant or live.tenant).org
    before = SemanticCacheEntry.objects.for_org(org).count()
    response = _post(live, prompt, tenant=tenant, **headers)
    if response.headers["X-Switchboard-Cache"] in {"miss", "guarded"}:
        entries_at_least(org, before + 1)
    return response


def _post(live: Live, prompt: str, *, tenant: Tenant | None, **headers: str) -> httpx.Response:
    secret = (tenant or live.tenant).secret
    body = {"model": "auto", "messages": [{"role": "user", "content": prompt}]}
    response = httpx.post(
        f"{live.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {secret}", **headers},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return response


def answer(response: httpx.Response) -> str:
    return str(response.json()["choices"][0]["message"]["content"])


def provider_calls(live: Live) -> int:
    return sum(int(live.stats(m).get("requests", 0)) for m in ("sim/economy", "sim/standard"))


def test_a_repeated_question_is_an_exact_hit_billed_once_at_the_plans_share(cached: Live) -> None:
    first = ask(cached, QUESTION)
    served_by_provider = provider_calls(cached)

    second = ask(cached, "  how do I reverse a string in python ")

    assert first.headers["X-Switchboard-Cache"] == "miss"
    assert second.headers["X-Switchboard-Cache"] == "hit_exact"
    assert answer(second) == answer(first)
    assert provider_calls(cached) == served_by_provider  # no provider call for the hit
    org = cached.tenant.org
    fresh, hit = ModelCall.objects.for_org(org).order_by("id")
    assert (fresh.status, hit.status) == (CallStatus.SUCCEEDED, CallStatus.CACHED)
    assert (hit.input_tokens, hit.output_tokens) == (fresh.input_tokens, fresh.output_tokens)
    assert UsageRecord.objects.for_org(org).filter(model_call=hit).count() == 1
    assert CostRecord.objects.for_org(org).filter(model_call=hit).count() == 1
    [debit] = CreditLedger.objects.for_org(org).filter(model_call=hit, kind=LedgerKind.USAGE)
    assert hit.cost.raw_cost == Decimal(0)
    assert hit.cost.display_cost == (fresh.cost.display_cost * Decimal("0.1")).quantize(
        Decimal("1E-10")
    )
    assert debit.credits == -hit.cost.display_cost
    assert hit.cost.benchmark_cost == fresh.cost.benchmark_cost  # what FinOps counts as saved
    assert second.json()["usage"]["credits"] == str(
        hit.cost.display_cost.quantize(Decimal("0.0001"))
    )
    check = PromptCheck.objects.for_org(org).order_by("-id").first()
    assert check is not None and check.cache_outcome == "hit_exact"
    today = timezone.now().date()
    figures = finops_totals(org=org, period=Period(today, today))
    assert (figures.requests, figures.cache_hits) == (2, 1)
    hit_saving = hit.cost.benchmark_cost * hit.cost.multiplier - hit.cost.display_cost
    fresh_saving = fresh.cost.benchmark_cost * fresh.cost.multiplier - fresh.cost.display_cost
    assert figures.savings_credits == hit_saving + fresh_saving  # the hit's saving counts


def test_a_paraphrase_is_a_semantic_hit(cached: Live) -> None:
    first = ask(cached, QUESTION)

    second = ask(cached, PARAPHRASE)

    assert second.headers["X-Switchboard-Cache"] == "hit_semantic"
    assert answer(second) == answer(first)
    [entry] = SemanticCacheEntry.objects.for_org(cached.tenant.org)
    assert entry.hits == 1


def test_a_swapped_number_above_the_threshold_is_guarded_and_asked_fresh(cached: Live) -> None:
    ask(cached, "Convert 5 km to miles")  # 0.955 cosine to the next one with wordllama

    second = ask(cached, "Convert 8 km to miles")

    assert second.headers["X-Switchboard-Cache"] == "guarded"
    check = PromptCheck.objects.for_org(cached.tenant.org).order_by("-id").first()
    assert check is not None and (check.cache_outcome, check.cache_guard) == ("guarded", "numbers")
    assert SemanticCacheEntry.objects.for_org(cached.tenant.org).count() == 2


def test_another_organisation_never_receives_the_cached_answer(cached: Live) -> None:
    ask(cached, QUESTION)
    other = make_tenant("Othercorp", plan="team", cache=True)

    exact = ask(cached, QUESTION, tenant=other)
    semantic = ask(cached, "What is the way to reverse a string in Python?", tenant=other)

    # Its own miss first (a provider call), then a hit on its own entry, never on Cachecorp's.
    assert exact.headers["X-Switchboard-Cache"] == "miss"
    assert semantic.headers["X-Switchboard-Cache"] in {"hit_semantic", "miss"}
    [theirs] = SemanticCacheEntry.objects.for_org(cached.tenant.org)
    assert theirs.hits == 0
    assert not ModelCall.objects.for_org(cached.tenant.org).filter(status=CallStatus.CACHED)
    assert ModelCall.objects.for_org(other.org).filter(status=CallStatus.SUCCEEDED).count() >= 1


def test_no_cache_asks_the_provider_again(cached: Live) -> None:
    ask(cached, QUESTION)
    before = provider_calls(cached)

    fresh = ask(cached, QUESTION, **{"Cache-Control": "no-cache"})

    assert fresh.headers["X-Switchboard-Cache"] == "skipped"
    assert provider_calls(cached) == before + 1


def test_an_opted_out_organisation_neither_stores_nor_serves(live: Live) -> None:
    ask(live, QUESTION)  # the default tenant of the live tests has its cache off

    second = ask(live, QUESTION)

    assert second.headers["X-Switchboard-Cache"] == "skipped"
    assert not SemanticCacheEntry.objects.for_org(live.tenant.org).exists()


def test_a_deactivated_models_entries_are_not_served(cached: Live) -> None:
    first = ask(cached, QUESTION)
    model = AIModel.objects.get(slug=first.json()["model"])
    staff = UserFactory(is_staff=True)

    aimodel_set_active(model=model, active=False, actor=staff)

    assert not SemanticCacheEntry.objects.filter(model=model).exists()
    again = ask(cached, QUESTION)
    assert again.headers["X-Switchboard-Cache"] == "miss"
    assert again.json()["model"] != model.slug


def sse_data(response: httpx.Response) -> list[dict[str, Any] | str]:
    out: list[dict[str, Any] | str] = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def shape(chunks: list[dict[str, Any] | str]) -> list[Any]:
    """Each chunk's keys and its choice's delta keys and finish reason: the SSE shape."""
    return [
        c
        if isinstance(c, str)
        else (
            sorted(c),
            c["object"],
            [(sorted(ch["delta"]), ch["finish_reason"]) for ch in c.get("choices", [])],
        )
        for c in chunks
    ]


def test_a_cached_streamed_answer_arrives_in_the_same_sse_shape(cached: Live) -> None:
    def stream() -> tuple[str, list[dict[str, Any] | str]]:
        body = {
            "model": "auto",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": QUESTION}],
        }
        with httpx.stream(
            "POST",
            f"{cached.url}/v1/chat/completions",
            json=body,
            headers=cached.headers(),
            timeout=20,
        ) as response:
            return response.headers["X-Switchboard-Cache"], sse_data(response)

    fresh_result, fresh = stream()
    entries_at_least(cached.tenant.org, 1)
    hit_result, hit = stream()

    assert (fresh_result, hit_result) == ("miss", "hit_exact")
    text = ["".join(ch["delta"].get("content", "") for ch in c["choices"]) for c in fresh[:-1]]
    hit_text = ["".join(ch["delta"].get("content", "") for ch in c["choices"]) for c in hit[:-1]]
    assert "".join(hit_text) == "".join(text)
    assert len(hit) > 3  # streamed in pieces, not one chunk
    fresh_shape, hit_shape = shape(fresh), shape(hit)
    # Same opening chunk, same content chunks, same closing finish, usage and [DONE].
    assert hit_shape[0] == fresh_shape[0]
    assert set(map(str, hit_shape[1:-3])) == set(map(str, fresh_shape[1:-3]))
    assert hit_shape[-3:] == fresh_shape[-3:]


def test_the_chat_api_marks_a_cached_answer_and_asks_fresh_on_request(cached: Live) -> None:
    def chat(**extra: Any) -> dict[str, Any]:
        body = {"message": QUESTION, "stream": False, **extra}
        response = httpx.post(
            f"{cached.url}/api/ai/chat", json=body, headers=cached.headers(), timeout=20
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    first = chat()
    entries_at_least(cached.tenant.org, 1)
    second, fresh = chat(), chat(cache=False)

    assert (first["done"]["cached"], second["done"]["cached"], fresh["done"]["cached"]) == (
        False,
        True,
        False,
    )
    assert second["answer"] == first["answer"]
    other = make_tenant("Apicorp", plan="team", cache=True)
    response = httpx.post(
        f"{cached.url}/api/ai/chat",
        json={"message": QUESTION, "stream": False},
        headers={"Authorization": f"Bearer {other.secret}"},
        timeout=20,
    )
    assert response.json()["done"]["cached"] is False


def test_the_chat_page_socket_shows_a_cached_answer_and_asks_fresh(cached: Live) -> None:
    from tests.chat.test_consumer import run, session_cookie, socket, until

    owner, member = session_cookie(cached.tenant.owner), session_cookie(cached.tenant.member)
    other = make_tenant("Pagecorp", plan="team", cache=True)
    outsider = session_cookie(other.owner)
    done: list[tuple[str, bool, str]] = []

    async def ask_page(cookie: Any, **extra: Any) -> None:
        communicator = socket("/ws/chat/new/", cookie)
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"type": "send", "message": QUESTION, **extra})
        events = await until(communicator, "done", "error")
        await communicator.disconnect()
        text = "".join(data["text"] for name, data in events if name == "delta")
        assert events[-1][0] == "done", events[-1]
        done.append((text, events[-1][1]["cached"], events[-1][1]["model"]))

    async def scenario() -> None:
        await ask_page(owner)
        await cache_stores_drain()  # the first answer is stored after it was delivered
        await ask_page(member)  # a colleague in the same organisation: served from the cache
        await ask_page(member, fresh=True)
        await ask_page(outsider)  # another organisation: never

    run(scenario)

    assert [cached_flag for _, cached_flag, _ in done] == [False, True, False, False]
    assert done[1][0] == done[0][0]
    hit = ModelCall.objects.for_org(cached.tenant.org).get(status=CallStatus.CACHED)
    assert hit.user_id == cached.tenant.member.pk
    assert not ModelCall.objects.for_org(other.org).filter(status=CallStatus.CACHED).exists()
