"""The semantic cache's lookup, store, guards, eviction and invalidation against the real
PostgreSQL (pgvector) and Valkey, through the functions the chat path calls."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from routing.cache.embedders import WordLlamaEmbedder, cosine, embedder_get
from routing.cache.entries import (
    cache_clear,
    cache_enabled_for,
    cache_entries_delete,
    cache_policy_set,
)
from routing.cache.guards import GuardFeatures, guard_features, guard_refusal
from routing.cache.keys import CacheScope, cache_text, prompt_digest
from routing.cache.lookup import CacheKey, CacheLookup, CacheResult, cache_lookup, cache_store
from routing.cache.probe import _rows, _run
from routing.models import AIModel, SemanticCacheEntry
from routing.services import aimodel_prices_changed, aimodel_set_active
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.routing.factories import AIModelFactory

pytestmark = pytest.mark.django_db
SCOPE = CacheScope("generalist", (), "", "auto", "0.70", "en").digest()


@pytest.fixture(autouse=True)
def _fresh_valkey() -> None:
    cache.clear()  # the exact keys live in the test Redis database


def key(org_id: int, prompt: str, *, like: str | None = None, scope: str = SCOPE) -> CacheKey:
    """`prompt`'s key; `like`: embedded as that prompt instead (a candidate at 1.0 cosine)."""
    embedder = embedder_get()
    assert isinstance(embedder, WordLlamaEmbedder)
    return CacheKey(
        org_id=org_id,
        scope=scope,
        prompt_sha256=prompt_digest(prompt),
        vector=embedder.embed_now(cache_text(like or prompt)),
        features=guard_features(prompt),
    )


def store(k: CacheKey, model: AIModel, response: str = "Use s[::-1].") -> int:
    entry_id = async_to_sync(cache_store)(
        key=k,
        response=response,
        model_id=model.pk,
        input_tokens=9,
        output_tokens=5,
        run=_run,
        run_rows=_rows,
    )
    assert entry_id is not None
    return entry_id


def lookup(k: CacheKey, **options: Any) -> CacheLookup:
    return async_to_sync(cache_lookup)(key=k, run=_run, usable=lambda _: True, **options)


def test_an_exact_repeat_hits_from_valkey_and_a_paraphrase_from_pgvector() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    store(key(org.pk, "How do I reverse a string in Python?"), model)

    exact = lookup(key(org.pk, "how do I reverse a string in python"))
    semantic = lookup(key(org.pk, "How can I reverse a string in Python?"))

    assert (exact.result, exact.answer and exact.answer.response) == (
        CacheResult.HIT_EXACT,
        "Use s[::-1].",
    )
    assert semantic.result == CacheResult.HIT_SEMANTIC
    assert semantic.similarity is not None and semantic.similarity >= 0.92


def test_organisation_a_never_receives_b_s_answer_exact_or_semantic() -> None:
    a, b, model = OrganizationFactory(), OrganizationFactory(), AIModelFactory()
    store(key(b.pk, "How do I reverse a string in Python?"), model)

    exact = lookup(key(a.pk, "How do I reverse a string in Python?"))
    semantic = lookup(key(a.pk, "How can I reverse a string in Python?"))

    assert (exact.result, exact.answer) == (CacheResult.MISS, None)
    assert (semantic.result, semantic.answer, semantic.similarity) == (CacheResult.MISS, None, None)


def test_another_scope_is_a_miss() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    store(key(org.pk, "Explain recursion"), model)
    coder = CacheScope("coder", (), "", "auto", "0.70", "en").digest()

    assert lookup(key(org.pk, "Explain recursion", scope=coder)).result == CacheResult.MISS


@pytest.mark.parametrize(
    ("cached", "asked", "reason"),
    [
        ("Convert 5 km to miles", "Convert 8 km to miles", "numbers"),
        ("Convert 5 km to miles", "Convert 5 kg to miles", "numbers"),
        ("Who founded Microsoft?", "Who founded Apple?", "entities"),
        ("Which foods are healthy?", "Which foods are not healthy?", "negation"),
        ("Is Rust faster than Go?", "Is Go faster than Rust?", "direction"),
        ("Sort the list in ascending order", "Sort the list in descending order", "direction"),
        ("Translate good morning into French", "Translate good morning into german", "language"),
        ("Give me an example config in JSON", "Give me an example config in yaml", "format"),
        ("Explain quantum computing briefly", "Explain quantum computing in detail", "format"),
        ("Convert 100 degrees Fahrenheit to Celsius", "Convert 100 degrees Celsius to Fahrenheit", "direction"),
        ("Turn a string into an integer", "Turn an integer into a string", "direction"),
        ("Which fruits are safe for dogs?", "Which fruits are unsafe for dogs?", "negation"),
        ("Use 'affect' correctly in a sentence", "Use 'affect' incorrectly in a sentence", "negation"),
        ("Give me a careful plan", "Give me a careless plan", "negation"),
        ("Give arguments for a 4-day week", "Give arguments against a 4-day week", "direction"),
        ("How do I turn on dark mode?", "How do I turn off dark mode?", "direction"),
        ("Why did the Roman Empire rise?", "Why did the Roman Empire fall?", "direction"),
        ("How do I clean a cast iron pan?", "How do I season a cast iron pan?", "substitution"),
        ("Write a for loop in Python", "Write a while loop in Python", "substitution"),
        ("¿Qué es la fotosíntesis?", "¿Qué es la fotosíntesis? Answer in English", "language"),
        ("Write a rhyming poem about rain", "Write a free-verse poem about rain", "format"),
    ],
)  # fmt: skip
def test_each_guard_refuses_its_swap_above_the_threshold(
    cached: str, asked: str, reason: str
) -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    # The entry is embedded as the asked prompt: its candidate is at cosine 1.0, far above
    # any threshold, so only the guard stands between the two.
    store(key(org.pk, cached, like=asked), model)

    found = lookup(key(org.pk, asked))
    served = lookup(key(org.pk, asked), guards=False)

    assert found.similarity is not None and found.similarity > 0.99
    assert (found.result, found.guard, found.answer) == (CacheResult.GUARDED, reason, None)
    assert served.result == CacheResult.HIT_SEMANTIC  # without the guard it would be served


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("Convert 5 km to miles", "Convert 8 km to miles"),
        ("Which foods are healthy?", "Which foods are not healthy?"),
        ("Is Rust faster than Go?", "Is Go faster than Rust?"),
    ],
)
def test_swaps_the_embedder_scores_above_the_threshold_are_caught(cached: str, asked: str) -> None:
    embedder = embedder_get()
    assert isinstance(embedder, WordLlamaEmbedder)
    similarity = cosine(
        embedder.embed_now(cache_text(cached)), embedder.embed_now(cache_text(asked))
    )

    assert similarity >= 0.92
    assert guard_refusal(guard_features(asked), guard_features(cached)) is not None


def test_paraphrases_pass_the_guards() -> None:
    for one, other in [
        ("How do I reverse a string in Python?", "How can I reverse a string in Python?"),
        (
            "What is the difference between a list and a tuple?",
            "Difference between a tuple and a list?",
        ),
        ("How do I change my password on Gmail?", "How can I change my Gmail password?"),
        ("Give me 5 tips for better sleep", "Give me five tips for sleeping better"),
        # numbers written another way: "a" is "1", "50/30/20" is "50-30-20", "$60k" is 60,000
        ("How many ounces are in a cup?", "ounces in 1 cup?"),
        ("Explain the 50/30/20 budget rule", "what is the 50-30-20 rule for budgets"),
        ("I earn $60k a year", "I earn $60,000 a year"),
        ("Tips for my 4-year-old", "tips for my four year old"),
        ("Who was the first emperor of Rome?", "who was rome's first emperor"),
        # a pole word only one side uses is wording, not a flip
        ("What is quantum entanglement, in simple terms?", "explain quantum entanglement simply"),
        ("How do I reverse a list in Python?", "what's the easiest way to reverse a python list"),
        # one and the same format, language or name, said another way
        (
            "Summarize this: 'the council voted'",
            "Can you give me a summary of this text: 'the council voted'",
        ),
        ("TL;DR this: 'the site is down'", "Summarize: 'the site is down'"),
        ("Regex to validate an email", "a regular expression that validates emails"),
        (
            "How does a bill become law in the United States?",
            "how does a bill become law in the US",
        ),
        ("¿Qué es la fotosíntesis? Answer in English", "What is photosynthesis?"),
        (
            "How do I list all running Docker containers?",
            "command that shows every running docker container",
        ),
        # the same sentence with a word swapped for one of the same stem
        ("How do I reverse a string?", "How do I reversing a string?"),
    ]:
        assert guard_refusal(guard_features(other), guard_features(one)) is None, (one, other)


def test_guard_features_keep_no_prompt_text() -> None:
    features = json.dumps(guard_features("Who founded Microsoft in 1975?").as_json())

    assert "microsoft" not in features.lower() and "1975" not in features


def test_an_entry_s_features_read_back_refuse_as_the_fresh_ones_do() -> None:
    cached = guard_features("How do I turn a string into an integer?")
    stored = GuardFeatures.of_json(json.loads(json.dumps(cached.as_json())))
    swapped = guard_features("How do I turn an integer into a string?")
    substituted = guard_features("How do I turn a string into a float?")

    assert stored == cached
    assert guard_refusal(swapped, stored) == "direction"
    assert guard_refusal(substituted, stored) == "substitution"


def test_a_deactivated_model_s_entries_are_dropped_and_never_served() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    prompt = "How do I reverse a string in Python?"
    store(key(org.pk, prompt), model)
    AIModel.objects.filter(pk=model.pk).update(active=False)  # not even through the service

    assert lookup(key(org.pk, "How can I reverse a string in Python?")).result == CacheResult.MISS

    aimodel_set_active(model=model, active=False, actor=UserFactory(is_staff=True))
    AIModel.objects.filter(pk=model.pk).update(active=False)
    assert not SemanticCacheEntry.objects.filter(model=model).exists()
    assert lookup(key(org.pk, prompt)).result == CacheResult.MISS  # the exact key went too


def test_a_price_change_drops_the_model_s_entries() -> None:
    org, model, other = OrganizationFactory(), AIModelFactory(), AIModelFactory()
    store(key(org.pk, "Explain recursion"), model)
    store(key(org.pk, "Explain closures"), other)

    assert aimodel_prices_changed(model=model, changed=["display_name"]) == 0
    assert aimodel_prices_changed(model=model, changed=["output_cost_per_mtok"]) == 1

    assert list(SemanticCacheEntry.objects.values_list("model", flat=True)) == [other.pk]
    assert lookup(key(org.pk, "Explain recursion")).result == CacheResult.MISS


def test_a_re_seed_that_changes_a_models_prices_drops_its_entries() -> None:
    org, model = OrganizationFactory(), AIModel.objects.get(slug="sim/economy")
    store(key(org.pk, "Explain recursion"), model)
    call_command("seed_catalog", verbosity=0)  # prices as shipped: nothing changes
    assert SemanticCacheEntry.objects.filter(model=model).exists()

    AIModel.objects.filter(pk=model.pk).update(output_cost_per_mtok=Decimal("9.99"))
    call_command("seed_catalog", verbosity=0)  # back to the shipped prices

    assert not SemanticCacheEntry.objects.filter(model=model).exists()
    assert lookup(key(org.pk, "Explain recursion")).result == CacheResult.MISS


def test_an_expired_entry_is_not_served() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    store(key(org.pk, "Explain recursion"), model)
    SemanticCacheEntry.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    cache.clear()  # Valkey expires the exact key at the same time

    assert lookup(key(org.pk, "Explain recursion")).result == CacheResult.MISS


def test_past_the_cap_the_oldest_entries_are_evicted(settings: Any) -> None:
    settings.SEMANTIC_CACHE_MAX_ENTRIES = 10
    org, other, model = OrganizationFactory(), OrganizationFactory(), AIModelFactory()
    store(key(other.pk, "Question 0 of the other organisation"), model)
    for n in range(11):
        store(key(org.pk, f"Question number {n} about topic {n}"), model)

    kept = SemanticCacheEntry.objects.for_org(org)
    assert kept.count() == 9  # down to 90% of the cap
    assert lookup(key(org.pk, "Question number 0 about topic 0")).result != CacheResult.HIT_EXACT
    assert lookup(key(org.pk, "Question number 10 about topic 10")).result == CacheResult.HIT_EXACT
    assert SemanticCacheEntry.objects.for_org(other).count() == 1  # another tenant untouched


def test_opting_out_clears_only_that_organisation() -> None:
    a, b, model = OrganizationFactory(), OrganizationFactory(), AIModelFactory()
    store(key(a.pk, "Explain recursion"), model)
    store(key(b.pk, "Explain recursion"), model)

    cache_policy_set(org=a, enabled=False)

    assert (cache_enabled_for(org=a), cache_enabled_for(org=b)) == (False, True)
    assert not SemanticCacheEntry.objects.for_org(a).exists()
    assert SemanticCacheEntry.objects.for_org(b).count() == 1
    assert lookup(key(a.pk, "Explain recursion")).result == CacheResult.MISS
    assert lookup(key(b.pk, "Explain recursion")).result == CacheResult.HIT_EXACT
    assert cache_clear(org=a) == 0


def test_cache_probe_reports_each_pair_and_leaves_nothing_behind() -> None:
    AIModelFactory()
    before = SemanticCacheEntry.objects.count()
    lines = "\n".join(
        [
            json.dumps(
                {
                    "id": "p1",
                    "a": "How do I reverse a string in Python?",
                    "b": "How can I reverse a string in Python?",
                }
            ),
            json.dumps({"id": "n1", "a": "Convert 5 km to miles", "b": "Convert 8 km to miles"}),
            "not json",
            json.dumps({"id": "e1", "a": "", "b": "x"}),
        ]
    )
    out = StringIO()

    call_command("cache_probe", stdin=StringIO(lines), stdout=out)

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["p1", "n1", "line-3", "e1"]
    assert (rows[0]["hit"], rows[0]["guard"]) == (True, None)
    assert (rows[1]["hit"], rows[1]["guard"]) == (False, "numbers")
    assert rows[1]["similarity"] > 0.92
    assert rows[2]["error"].startswith("malformed JSON")
    assert rows[3]["error"] == "a: a non-empty string is required"
    assert SemanticCacheEntry.objects.count() == before


def test_a_staff_purge_drops_the_exact_keys_too() -> None:
    a, b, model = OrganizationFactory(), OrganizationFactory(), AIModelFactory()
    store(key(a.pk, "Explain recursion"), model)
    store(key(b.pk, "Explain recursion"), model)

    assert cache_entries_delete(rows=SemanticCacheEntry.objects.for_org(a)) == 1

    assert lookup(key(a.pk, "Explain recursion")).result == CacheResult.MISS
    assert lookup(key(b.pk, "Explain recursion")).result == CacheResult.HIT_EXACT


def test_the_verifier_serves_a_paraphrase_under_the_threshold_only_when_on() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    store(key(org.pk, "Why is my sourdough bread so dense?"), model)
    asked = key(org.pk, "What makes my sourdough loaf dense?")  # cosine 0.80 with wordllama

    off = lookup(asked, verifier=False, threshold=0.92)
    on = lookup(asked, verifier=True, threshold=0.92)

    assert off.result == CacheResult.MISS and off.similarity is not None
    assert 0.6 <= off.similarity < 0.92
    assert on.result == CacheResult.HIT_SEMANTIC and on.answer is not None


def test_the_verifier_refuses_a_different_question_over_its_floor() -> None:
    org, model = OrganizationFactory(), AIModelFactory()
    store(key(org.pk, "How do I get rid of mold in my bathroom?"), model)

    found = lookup(key(org.pk, "How do I paint my bathroom?"), verifier=True, threshold=0.92)

    assert found.similarity is not None and found.similarity >= 0.6  # asked about, refused
    assert (found.result, found.guard, found.answer) == (CacheResult.MISS, "verifier", None)


@pytest.mark.parametrize(
    ("cached", "asked", "reason"),
    [
        ("Why isn't my oven heating with the door shut?", "Why isn't my oven heating without the door shut?", "negation"),
        ("Fix a slow laptop the easiest way", "Fix a slow laptop the hardest way", "direction"),
    ],
)  # fmt: skip
def test_a_second_negation_and_an_ease_flip_are_refused(
    cached: str, asked: str, reason: str
) -> None:
    assert guard_refusal(guard_features(asked), guard_features(cached)) == reason


def test_one_as_a_determiner_is_not_a_number() -> None:
    cached, asked = (
        "How do I fix low water pressure in my shower?",
        "How do I fix low pressure in one shower?",
    )

    assert guard_refusal(guard_features(asked), guard_features(cached)) is None
    assert guard_refusal(guard_features("Give me 3 tips"), guard_features("Give me one tip"))


@pytest.mark.parametrize(("verifier", "hit"), [("on", True), ("off", False)])
def test_cache_probe_measures_the_verifier_when_asked(verifier: str, hit: bool) -> None:
    AIModelFactory()
    pairs = [
        {"id": "p", "a": "Why is my sourdough bread so dense?", "b": "What makes my sourdough loaf dense?"},
        {"id": "n", "a": "How do I get rid of mold in my bathroom?", "b": "How do I paint my bathroom?"},
    ]  # fmt: skip
    out = StringIO()

    call_command(
        "cache_probe",
        "--threshold",
        "0.92",  # the paraphrase's cosine (0.80) is under it: only the verifier serves it
        "--verifier",
        verifier,
        stdin=StringIO("\n".join(json.dumps(p) for p in pairs)),
        stdout=out,
    )

    paraphrase, other = [json.loads(line) for line in out.getvalue().splitlines()]
    assert paraphrase["hit"] is hit and other["hit"] is False
    assert other["guard"] == ("verifier" if verifier == "on" else None)
