"""`make bench-cache`: the semantic cache's precision and speed, into docs/benchmarks.md.

1. Quality: hit rate on paraphrases and false hits on near misses at several thresholds,
   with and without the guards, on our pairs (routing/data/cache_pairs.jsonl, dev and
   held-out splits) and on the STS 2016 question pairs (../shared/datasets/, gold score >= 4
   must hit, <= 2 must miss). The embedder and the guards are the ones the lookup runs.
2. Speed: the embedder per prompt, the guards per pair, and the lookup itself (exact in
   Valkey, semantic in pgvector) at 1k, 10k and 100k entries in one organisation. Needs the
   embedded services (`make services`); the entries go into a scratch organisation that is
   deleted at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

import django  # noqa: E402

django.setup()

from benchmarks.report import DOC, write_section  # noqa: E402
from routing.cache.embedders import WordLlamaEmbedder, cosine  # noqa: E402
from routing.cache.guards import guard_features, guard_refusal  # noqa: E402
from routing.cache.keys import cache_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "routing" / "data" / "cache_pairs.jsonl"
STS = Path(
    os.environ.get(
        "STS_PAIRS",
        ROOT.parent.parent
        / "shared"
        / "datasets"
        / "sts2016_question_pairs"
        / "question-question.test.tsv",
    )
)
THRESHOLDS = (0.80, 0.85, 0.90, 0.92, 0.95)
CHOICE = """### The embedder

Default `SEMANTIC_CACHE_EMBEDDER=wordllama`: **wordllama 0.4.0.post1** (`l2_supercat`, 256
dimensions). Its wheel (19 MB) carries the weights (16 MB safetensors) and the tokenizer, and
it is loaded with the package folder as `cache_dir` and `disable_download=True`, so nothing
is fetched at run time (`tests/chat/test_cache_embedders.py` loads it with sockets blocked).
Installed: 33 MB, plus `tokenizers` (12 MB) and `safetensors` (1.4 MB); no torch.

Licence: the package's code is MIT. Its weights were trained from the token-embedding
codebooks of Llama 2 70B and phi-3 medium (its README): phi-3 is MIT, but Llama 2's
weights are under the Llama 2 Community License, whose terms (attribution, the acceptable-use
policy, the 700-million-monthly-user clause) may reach derived weights. We ship it as the
offline default and flag it for a licence review before a commercial release; the
`openai` embedder (any OpenAI-compatible `/v1/embeddings`, e.g. a self-hosted model) avoids
the question.

Why this one: the issue's alternatives either download at run time (`model2vec`,
`fastembed`, `static-embed`) or declare no licence (`tokenlearn-static-model`); they were
not installed or measured here. The `openai` option was checked against our simulator,
whose vectors are random per text (no semantics), so only wordllama's precision is measured
below. Its weakness is the known one of static embeddings: swaps of one word score
0.95-1.0 ("5 km" / "8 km", "healthy" / "not healthy", "Rust faster than Go" / "Go faster
than Rust"), which the guards exist to refuse."""
SIZES = (1_000, 10_000, 100_000)
NOTES = """### Reading these figures

- Guards: at the default 0.92 they turn 26-35% false hits on our near misses into none
  (dev 0/34, held out 0/17) and cost no paraphrase above the threshold. Without them a
  fixed threshold is unsafe at any value tried: negation and number swaps score 0.95-1.0.
- Recall depends on how close a paraphrase is. Our pairs are close rewordings (84% dev,
  94% held out at 0.92). The STS pairs that people graded "same meaning" (>= 4) are often
  reworded freely, and a static embedding scores most of them under 0.92: only 4% are
  served at 0.92 with the guards (35% at 0.80, still with under 1% false hits). The issue's
  goal (at least 60% of true paraphrases, at most 1% false hits, on pairs written by people
  who never saw the code) is met on our own pairs but not on STS; we do not have the
  independent set, and our pairs were written by the engineer who wrote the guards (see
  `routing/data/cache_pairs.md`). Lowering the threshold trades recall for the guards'
  workload; `manage.py cache_probe` measures that trade on real traffic.
- Latency: an exact hit adds well under 1 ms (median; p95 2-4 ms on this shared 2-core
  box), a semantic lookup 1-3 ms median and 4-8 ms p95 at 100k entries, under the issue's
  5 ms and 10 ms. A miss pays both (one Valkey round trip, one PostgreSQL query) plus the
  embedding (50 µs) before the provider is called, and a fresh answer is then stored (an
  INSERT into the HNSW index and a Valkey write).
- That miss costs the hot path: `make bench-peer` (every request a new prompt, so every
  one a miss and a store) went from 279 requests/s with `SEMANTIC_CACHE_ENABLED=false` to
  158 at 16 concurrent on the same machine (15:38-15:44 UTC, 2 shared cores, PostgreSQL on
  them too), 2.85 to 3.80 ms of the web process's CPU per request, 138 to 202 MiB peak RSS
  (the embedder's model and tokenizer), and the added time to first byte from 3.4 to
  7.0 ms. The peer section above is the run with the cache on. Not yet done: storing off
  the request (a queue, or only prompts seen before), which is where most of it goes."""


@dataclass(frozen=True)
class Pair:
    id: str
    a: str
    b: str
    same: bool  # True: a paraphrase, the cache should answer; False: must miss
    split: str
    swap: str | None = None


def our_pairs() -> list[Pair]:
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    return [
        Pair(r["id"], r["a"], r["b"], r["kind"] == "paraphrase", r["split"], r.get("swap"))
        for r in rows
    ]


def sts_pairs() -> list[Pair]:
    if not STS.exists():
        return []
    pairs = []
    for n, line in enumerate(STS.read_text().splitlines()):
        score, a, b = (line.split("\t") + ["", "", ""])[:3]
        if not score.strip():
            continue  # unlabelled rows were not scored upstream
        value = float(score)
        if value >= 4 or value <= 2:
            pairs.append(Pair(f"sts-{n}", a, b, value >= 4, "sts"))
    return pairs


@dataclass(frozen=True)
class Scored:
    pair: Pair
    similarity: float
    guard: str | None


def scored(pairs: Iterable[Pair], embedder: WordLlamaEmbedder) -> list[Scored]:
    out = []
    for p in pairs:
        a, b = embedder.embed_now(cache_text(p.a)), embedder.embed_now(cache_text(p.b))
        similarity = cosine(a, b)
        out.append(Scored(p, similarity, guard_refusal(guard_features(p.b), guard_features(p.a))))
    return out


def rates(rows: list[Scored], threshold: float, *, guards: bool) -> tuple[str, str]:
    same = [r for r in rows if r.pair.same]
    other = [r for r in rows if not r.pair.same]

    def hit(r: Scored) -> bool:
        return r.similarity >= threshold and (not guards or r.guard is None)

    def share(group: list[Scored]) -> str:
        if not group:
            return "-"
        n = sum(hit(r) for r in group)
        return f"{100 * n / len(group):.1f}% ({n}/{len(group)})"

    return share(same), share(other)


def quality_table(title: str, rows: list[Scored]) -> str:
    lines = [
        f"#### {title}",
        "",
        f"{sum(r.pair.same for r in rows)} paraphrases, {sum(not r.pair.same for r in rows)} "
        "near misses.",
        "",
        "| threshold | hits on paraphrases, no guards | false hits, no guards "
        "| hits on paraphrases, guards | false hits, guards |",
        "|---|---|---|---|---|",
    ]
    for t in THRESHOLDS:
        bare, guarded = rates(rows, t, guards=False), rates(rows, t, guards=True)
        lines.append(f"| {t:.2f} | {bare[0]} | {bare[1]} | {guarded[0]} | {guarded[1]} |")
    return "\n".join(lines)


def swaps_table(rows: list[Scored], threshold: float) -> str:
    kinds = sorted({r.pair.swap for r in rows if r.pair.swap})
    lines = [
        f"#### Near misses by swap, at {threshold:.2f} (our pairs, both splits)",
        "",
        "| swap | pairs | above the threshold | served without guards | served with guards "
        "| guard that refused (most often) |",
        "|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        group = [r for r in rows if r.pair.swap == kind]
        above = [r for r in group if r.similarity >= threshold]
        served = [r for r in above if r.guard is None]
        reasons = [r.guard for r in above if r.guard]
        top = max(set(reasons), key=reasons.count) if reasons else "-"
        lines.append(
            f"| {kind} | {len(group)} | {len(above)} | {len(above)} | {len(served)} | {top} |"
        )
    return "\n".join(lines)


def missed_paraphrases(rows: list[Scored], threshold: float) -> str:
    """Which paraphrases the guards refused above the threshold: what recall they cost."""
    refused = [r for r in rows if r.pair.same and r.similarity >= threshold and r.guard]
    if not refused:
        return f"No paraphrase above {threshold:.2f} was refused by a guard."
    reasons = [r.guard for r in refused]
    counts = ", ".join(f"{g} {reasons.count(g)}" for g in sorted(set(reasons)))
    return f"Paraphrases above {threshold:.2f} refused by a guard: {len(refused)} ({counts})."


def speed_of_embedder(embedder: WordLlamaEmbedder, prompts: list[str]) -> str:
    for p in prompts[:50]:
        embedder.embed_now(p)
    started = time.perf_counter()
    for p in prompts:
        embedder.embed_now(p)
    embed_us = (time.perf_counter() - started) / len(prompts) * 1e6
    features = [guard_features(p) for p in prompts]
    started = time.perf_counter()
    for p in prompts:
        guard_features(p)
    features_us = (time.perf_counter() - started) / len(prompts) * 1e6
    started = time.perf_counter()
    for x, y in zip(features, features[1:], strict=False):
        guard_refusal(x, y)
    refusal_us = (time.perf_counter() - started) / max(len(features) - 1, 1) * 1e6
    return (
        f"wordllama embeds a prompt in {embed_us:.0f} µs (mean over {len(prompts)} prompts); "
        f"the guards read one in {features_us:.0f} µs and compare two in {refusal_us:.1f} µs."
    )


def quality(embedder: WordLlamaEmbedder) -> tuple[str, list[str]]:
    ours = scored(our_pairs(), embedder)
    sts = scored(sts_pairs(), embedder)
    parts = [
        quality_table("Our pairs, development split", [r for r in ours if r.pair.split == "dev"]),
        quality_table(
            "Our pairs, held out (not looked at while the guards were tuned)",
            [r for r in ours if r.pair.split == "holdout"],
        ),
    ]
    if sts:
        parts.append(
            quality_table("STS 2016 question pairs (gold >= 4 must hit, <= 2 must miss)", sts)
        )
    else:
        parts.append(f"(STS pairs not found at {STS}: set STS_PAIRS.)")
    parts.append(swaps_table(ours, 0.92))
    parts.append(missed_paraphrases(ours, 0.92))
    prompts = [r.pair.a for r in ours + sts] + [r.pair.b for r in ours + sts]
    return "\n\n".join(parts), prompts


def main() -> None:
    embedder = WordLlamaEmbedder()
    text, prompts = quality(embedder)
    speed = speed_of_embedder(embedder, prompts)
    from benchmarks.cache_latency import latency

    body = "\n\n".join(
        [
            CHOICE,
            "### Precision and recall",
            text,
            "### Speed",
            speed,
            latency(embedder, SIZES),
            NOTES,
        ]
    )
    write_section("cache", "Semantic cache", body)
    print(body)
    print(f"\nwritten to {DOC}")


if __name__ == "__main__":
    if "--quality" in sys.argv:
        print(quality(WordLlamaEmbedder())[0])
    else:
        main()
