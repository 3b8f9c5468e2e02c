"""The Prometheus metrics every process reports, defined once. Their names and labels are a
contract (dashboards and alerts read them): rename nothing, add new ones.

prometheus-client runs in multiprocess mode: settings point PROMETHEUS_MULTIPROC_DIR at a
directory before this module is imported, each process writes its samples to files there,
and `/metrics` (gateway/metrics.py) adds every process's files up. An update is a lock and a
write into a memory-mapped file, a microsecond or two, so the chat path may make a few.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds: from a fast cached answer to a long streamed one.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30)

# outcome: ok, blocked, limited, refused, error, cached (chat/outcomes.py decides which).
CHAT_REQUESTS = Counter(
    "switchboard_chat_requests",
    "Chats, browser or API, each counted once",
    ["outcome", "task_type"],
)
# status: the attempt's ModelCall status (succeeded, failed, cancelled).
PROVIDER_REQUESTS = Counter(
    "switchboard_provider_requests",
    "Provider attempts by how they ended",
    ["provider", "model", "status"],
)
PROVIDER_LATENCY = Histogram(
    "switchboard_provider_latency_seconds",
    "A provider attempt from the request to its last byte",
    ["provider", "model"],
    buckets=LATENCY_BUCKETS,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "switchboard_time_to_first_token_seconds",
    "A provider attempt from the request to its first token",
    ["provider", "model"],
    buckets=TTFT_BUCKETS,
)
# provider: the one that failed and was fallen back from.
FALLBACKS = Counter(
    "switchboard_fallbacks", "Attempts that moved on to the next target", ["provider"]
)
TOKENS = Counter("switchboard_tokens", "Billed tokens", ["direction", "model"])
RAW_COST_USD = Counter("switchboard_raw_cost_usd", "Billed raw provider cost in USD", ["model"])
# result: hit or miss; the answer cache (routing/precheck) counts its lookups here.
CACHE_LOOKUPS = Counter("switchboard_cache_lookups", "Answer cache lookups", ["result"])
# switchboard_breaker_open{provider} is read from Redis when scraped (gateway/metrics.py): the
# breakers live there, so no process's copy can be stale.
