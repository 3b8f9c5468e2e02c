"""`make bench-peer`: Switchboard's web process against the LiteLLM proxy, side by side.

Both proxies get the same upstream (`benchmarks/mock_upstream.py`: 20 content chunks and a
usage chunk, zero latency), the same request (a system and a user message, `max_tokens` 32)
and the same load generator (`wrk`, which is light enough not to measure itself on two
cores). LiteLLM runs with one worker and no database (its Prisma database cannot start
offline), so with its spend logging off; Switchboard runs its `web:` Procfile line with
`WEB_CONCURRENCY=1`, `model: auto`, the Team plan and metering on (every ModelCall,
UsageRecord, CostRecord, ledger row and PromptCheck written to PostgreSQL).

Scenarios alternate L, S, L, S (two rounds), and each figure is the median of its rounds:
latency at 1 concurrent (what each adds over calling the upstream directly), requests/s at
16 and 64 concurrent, the added time to first byte of a streamed answer (a closed-loop
aiohttp client, one request at a time) and peak resident memory.

`--profile` also samples Switchboard's process with py-spy (`--gil`) during one 16-concurrent
run and adds where its Python time goes, by package.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import write_section  # noqa: E402
from gateway.procfile import procfile_command, procfile_env  # noqa: E402

LITELLM = "litellm[proxy]==1.106.2"  # not 1.107.0: that release was reported compromised
LITELLM_VENV = ROOT / ".bench" / "litellm"
LITELLM_KEY = "sk-bench-peer"
BENCH_DB = "switchboard_bench"
PORTS = {"upstream": 8290, "litellm": 8291, "switchboard": 8292}
SECONDS = 8
ROUNDS = 2
STREAM_REQUESTS = 200
BODY = (
    '{"model": "auto", "messages": ['
    '{"role": "system", "content": "You are a helpful assistant."}, '
    '{"role": "user", "content": "Say hello to the team in one short sentence."}], '
    '"max_tokens": 32}'
)
# Every request asks something new (thread and request numbers in the prompt), so
# Switchboard's answer cache never answers: each request pays its miss (embedding, lookup,
# store) and goes to the upstream, as LiteLLM's do.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local sent = 0
function request()
  sent = sent + 1
  local body = string.gsub([[{body}]], "one short sentence", "one short sentence (" .. tid .. "-" .. sent .. ")")
  return wrk.format(nil, nil, nil, body)
end
"""
LITELLM_CONFIG = """
model_list:
  - model_name: auto
    litellm_params:
      model: openai/mock
      api_base: http://127.0.0.1:{port}/v1
      api_key: sk-mock
general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
"""


@dataclass
class Target:
    name: str
    url: str
    key: str
    process: psutil.Process | None = None
    peak_rss: list[float] = field(default_factory=lambda: [0.0])


def litellm_install() -> Path:
    """The LiteLLM proxy in a venv of its own under .bench/, installed on first use."""
    binary = LITELLM_VENV / "bin" / "litellm"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        pip = [str(LITELLM_VENV / "bin" / "pip"), "install", "--quiet"]
        subprocess.run([*pip, LITELLM], check=True)
    return binary


def switchboard_env() -> tuple[dict[str, str], str]:
    """A benchmark database of its own, seeded, with a Team-plan key; (env, secret)."""
    env = bench_env() | {"SIMULATOR_URL": f"http://127.0.0.1:{PORTS['upstream']}/v1"}
    manage(env, "migrate", "--noinput")
    manage(env, "seed_catalog", "--verbosity", "0")
    upstream = f"http://127.0.0.1:{PORTS['upstream']}/v1"
    point = f"ModelProvider.objects.filter(kind='simulator').update(api_base={upstream!r})"
    manage(env, "shell", "-c", f"from routing.models import ModelProvider; {point}")
    secret = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
    return env, secret


def bench_env() -> dict[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings.base")
    import django

    django.setup()
    from django.conf import settings

    from gateway import embedded

    if not os.environ.get("DATABASE_URL"):
        _create_database(BENCH_DB)
        url = embedded.postgres_url().rsplit("/", 1)[0] + f"/{BENCH_DB}"
    else:
        url = os.environ["DATABASE_URL"]
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/14",
        "DJANGO_SETTINGS_MODULE": "gateway.settings.base",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "OPENROUTER_API_KEY": "",
        "ANTHROPIC_API_KEY": "",
    }


def _create_database(name: str) -> None:
    import psycopg

    from gateway import embedded

    admin = embedded.postgres_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


SETUP = """
from accounts.models import Organization, User
from accounts.services import api_key_create, organization_create
from billing.models import Plan
from billing.periods import subscription_start
from django.core.cache import cache
Plan.objects.filter(slug="team").update(rpm=1_000_000, org_rpm=10_000_000, max_concurrency=1000)
user, _ = User.objects.get_or_create(email="bench@switchboard.local", defaults={"username": "bench"})
org = Organization.objects.filter(slug="bench").first()
if org is None:
    org = organization_create(name="Bench", owner=user, slug="bench")
    subscription_start(org=org, plan=Plan.objects.get(slug="team"), user=user)
from billing.models import CreditLedger
CreditLedger.objects.create(organization=org, kind="grant", credits=10_000_000, note="bench")
cache.clear()
print(api_key_create(org=org, actor=user, name="bench").secret)
"""


@contextmanager
def started(command: str, env: dict[str, str], url: str, log: Path) -> Iterator[psutil.Process]:
    """Run a shell `command` until the block ends, once `url` answers."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, shell=True, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise SystemExit(f"{command} did not start; see {log}") from None
                    time.sleep(0.3)
            yield psutil.Process(process.pid)
        finally:
            os.killpg(process.pid, 15)
            process.wait(30)


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and its children, shells excluded."""
    total = 0
    for each in [process, *process.children(recursive=True)]:
        try:
            if each.name() not in ("sh", "bash"):
                total += each.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def tree_cpu_seconds(process: psutil.Process | None) -> float:
    """CPU time (user + system) of a process and its children, shells excluded."""
    total = 0.0
    for each in [process, *process.children(recursive=True)] if process else []:
        try:
            if each.name() not in ("sh", "bash"):
                times = each.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


@contextmanager
def watching(target: Target) -> Iterator[None]:
    running = [True]

    def sample() -> None:
        while running[0] and target.process is not None:
            target.peak_rss[0] = max(target.peak_rss[0], tree_rss_mb(target.process))
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        running[0] = False
        thread.join()


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(target: Target, connections: int, script: Path) -> dict[str, float]:
    """requests/s and latency percentiles (ms) of `wrk -t1` for SECONDS."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [*command, f"{target.url}/v1/chat/completions"], check=True, capture_output=True, text=True
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{target.name}: {errors.group(1)} failed requests\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    return {
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
    }


async def first_byte_ms(target: Target) -> float:
    """Median time to the first content chunk of a streamed answer, one request at a time."""
    body = BODY[:-1] + ', "stream": true}'
    headers = {"Authorization": f"Bearer {target.key}", "Content-Type": "application/json"}
    times = []
    async with aiohttp.ClientSession() as session:
        for n in range(STREAM_REQUESTS + 20):
            started_at = time.perf_counter()
            url = f"{target.url}/v1/chat/completions"
            fresh = body.replace("one short sentence", f"one short sentence (stream {n})")
            async with session.post(url, data=fresh, headers=headers) as response:
                first = None
                async for line in response.content:
                    if first is None and b'"content"' in line and b'"content": ""' not in line:
                        first = (time.perf_counter() - started_at) * 1000
                if n >= 20:  # the first ones warm connections and caches
                    times.append(first or 0.0)
    return statistics.median(times)


def scripts(directory: Path, targets: list[Target]) -> dict[str, Path]:
    paths = {}
    for target in targets:
        path = directory / f"{target.name}.lua"
        path.write_text(WRK_SCRIPT.format(body=BODY, key=target.key))
        paths[target.name] = path
    return paths


def measure(targets: list[Target], upstream: Target, directory: Path) -> dict[str, dict]:
    lua = scripts(directory, [*targets, upstream])
    runs: dict[str, dict[str, list[float]]] = {
        t.name: collections.defaultdict(list) for t in [*targets, upstream]
    }
    for target in targets:  # warm up: connections, snapshots, the classifier
        wrk_quick = subprocess.run(
            ["wrk", "-t1", "-c4", "-d2s", "-s", str(lua[target.name]),
             f"{target.url}/v1/chat/completions"],
            check=True, capture_output=True,
        )  # fmt: skip
        del wrk_quick
    for _ in range(ROUNDS):
        runs["upstream"]["p50"].append(wrk(upstream, 1, lua["upstream"])["p50"])
        runs["upstream"]["p99"].append(wrk(upstream, 1, lua["upstream"])["p99"])
        runs["upstream"]["ttfb"].append(asyncio.run(first_byte_ms(upstream)))
        for scenario in ("latency", "rps16", "rps64", "ttfb"):
            for target in targets:
                record = runs[target.name]
                with watching(target):
                    if scenario == "latency":
                        result = wrk(target, 1, lua[target.name])
                        record["p50"].append(result["p50"])
                        record["p99"].append(result["p99"])
                    elif scenario == "ttfb":
                        record["ttfb"].append(asyncio.run(first_byte_ms(target)))
                    else:
                        cpu_before = tree_cpu_seconds(target.process)
                        result = wrk(target, int(scenario[3:]), lua[target.name])
                        record[scenario].append(result["rps"])
                        used = tree_cpu_seconds(target.process) - cpu_before
                        record[f"cpu_{scenario}"].append(1000 * used / result["requests"])
    return {
        name: {key: statistics.median(values) for key, values in record.items()}
        for name, record in runs.items()
    }


def profile(target: Target, script: Path, seconds: int = 15) -> str:
    """Where the process's Python time goes under 16 concurrent requests, by package."""
    assert target.process is not None
    pid = next(
        (p.pid for p in [target.process, *target.process.children(recursive=True)]
         if p.name() not in ("sh", "bash")),
        target.process.pid,
    )  # fmt: skip
    raw = Path(tempfile.mkdtemp()) / "profile.txt"
    load = subprocess.Popen(
        ["wrk", "-t1", "-c16", f"-d{seconds + 4}s", "-s", str(script),
         f"{target.url}/v1/chat/completions"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(2)
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    subprocess.run(
        [py_spy, "record", "--gil", "--nonblocking", "-p", str(pid), "-d", str(seconds),
         "-r", "200", "-f", "raw", "-o", str(raw)],
        check=True, capture_output=True,
    )  # fmt: skip
    load.wait()
    return profile_table(raw.read_text())


PACKAGE_GROUPS = {
    "provider call (aiohttp, SSE)": ("aiohttp", "chat/providers", "yarl", "multidict"),
    "PostgreSQL (psycopg, pool)": ("psycopg", "psycopg_pool"),
    "precheck (shield, classifier)": ("routing/precheck", "numpy"),
    "routing and policy": ("routing",),
    "HTTP server (uvicorn, Starlette)": ("uvicorn", "starlette", "httptools"),
    "event loop (asyncio)": ("asyncio", "contextlib", "uvloop", "_weakrefset", "selectors"),
    "Redis (limits, breakers)": ("redis",),
    "request validation (DRF serializers)": ("rest_framework",),
    "chat pipeline and metering code": ("chat", "usage", "billing", "accounts"),
    "JSON": ("json",),
    "Django": ("django", "asgiref"),
}


def profile_table(raw: str) -> str:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        total += int(n)
        found = re.search(r"\(([^()]*?)(?::\d+)?\)$", stack.split(";")[-1])
        path = found.group(1) if found else ""
        path = path.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        path = re.sub(r".*/python3\.\d+/", "", path)
        group = next(
            (g for g, prefixes in PACKAGE_GROUPS.items() if path.startswith(prefixes)), "other"
        )
        counts[group] += int(n)
    rows = [
        f"| {group} | {100 * n / total:.0f}% |"
        for group, n in counts.most_common()
        if n / total >= 0.01
    ]
    return "| part | share of the process's Python time |\n|---|---:|\n" + "\n".join(rows)


def render(results: dict[str, dict], profile_text: str | None) -> str:
    lite, ours, up = results["litellm"], results["switchboard"], results["upstream"]
    added = {
        name: {
            "p50": r["p50"] - up["p50"],
            "p99": r["p99"] - up["p99"],
            "ttfb": r["ttfb"] - up["ttfb"],
        }
        for name, r in (("litellm", lite), ("switchboard", ours))
    }
    rows = [
        ("added latency p50, 1 concurrent", "p50", "ms", "≤ 0.4"),
        ("added latency p99, 1 concurrent", "p99", "ms", "≤ 0.5"),
        ("requests/s, 16 concurrent", "rps16", "", "≥ 2"),
        ("requests/s, 64 concurrent", "rps64", "", "≥ 2"),
        ("added time to first byte, streaming, 1 concurrent", "ttfb", "ms", "≤ 0.3"),
        ("peak RSS", "rss", "MiB", "≤ 0.5"),
        ("CPU per request, 16 concurrent", "cpu_rps16", "ms", ""),
    ]
    lines = [
        "| | LiteLLM proxy, 1 worker | Switchboard, 1 process | Switchboard / LiteLLM | goal | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for label, key, unit, goal in rows:
        lv = added["litellm"].get(key, lite.get(key))
        sv = added["switchboard"].get(key, ours.get(key))
        ratio = sv / lv if lv else float("inf")
        fmt = ".0f" if key.startswith(("rps", "rss")) else ".2f"
        verdict = ""
        if goal:
            bound = float(goal.split()[1])
            met = ratio >= bound if goal.startswith("≥") else ratio <= bound
            verdict = "yes" if met else "**no**"
        lines.append(
            f"| {label} | {lv:{fmt}} {unit} | {sv:{fmt}} {unit} | {ratio:.2f} | {goal} | {verdict} |"
        )
    body = f"""Reproduce: `make bench-peer` (wrk {wrk_version()}, LiteLLM {LITELLM.split("==")[1]}).
Upstream: `benchmarks/mock_upstream.py` under uvicorn, 20 content chunks and a usage chunk, zero
latency; called directly it answers in {up["p50"]:.2f} ms p50 and streams its first byte in
{up["ttfb"]:.2f} ms, which the "added" rows subtract. Load: `wrk -t1`, non-streaming
`POST /v1/chat/completions` (system + user message, `max_tokens` 32), {SECONDS} s per scenario;
streaming: {STREAM_REQUESTS} sequential requests with aiohttp. Medians of {ROUNDS} alternating
rounds (L, S, L, S). LiteLLM: one worker, no database (so no spend logs). Switchboard: the
`web:` line of the Procfile with `WEB_CONCURRENCY=1`, `model: auto`, Team plan, precheck,
routing, limits and metering on. Everything, the load generator included, on this machine's
{os.cpu_count()} cores.

{chr(10).join(lines)}
"""
    if profile_text:
        body += f"""
Where Switchboard's process spends its Python time at 16 concurrent (`py-spy record --gil`,
share of the samples, by the package of the innermost frame; `make bench-peer PROFILE=1`):

{profile_text}
"""
    return body


def wrk_version() -> str:
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    found = re.search(r"wrk (?:debian/)?([\d.]+)", output)
    return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="add a py-spy profile")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk (or brew install wrk)")
    litellm = litellm_install()
    env, secret = switchboard_env()
    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    upstream = Target("upstream", f"http://127.0.0.1:{PORTS['upstream']}", "none")
    lite = Target("litellm", f"http://127.0.0.1:{PORTS['litellm']}", LITELLM_KEY)
    ours = Target("switchboard", f"http://127.0.0.1:{PORTS['switchboard']}", secret)
    config = work / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(port=PORTS["upstream"], key=LITELLM_KEY))
    upstream_command = (
        f"{Path(sys.executable).with_name('uvicorn')} benchmarks.mock_upstream:app --loop uvloop"
        f" --http httptools --no-access-log --port {PORTS['upstream']}"
    )
    litellm_env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    web_env = procfile_env(env | {"PORT": str(PORTS["switchboard"]), "WEB_CONCURRENCY": "1"})
    with ExitStack() as stack:
        stack.enter_context(
            started(upstream_command, procfile_env({}), f"{upstream.url}/v1/models",
                    work / "upstream.log")
        )  # fmt: skip
        lite.process = stack.enter_context(
            started(f"{litellm} --config {config} --port {PORTS['litellm']} --num_workers 1",
                    litellm_env, f"{lite.url}/health/liveliness", work / "litellm.log")
        )  # fmt: skip
        ours.process = stack.enter_context(
            started(procfile_command("web"), web_env, f"{ours.url}/healthz", work / "web.log")
        )
        results = measure([lite, ours], upstream, work)
        results["litellm"]["rss"] = lite.peak_rss[0]
        results["switchboard"]["rss"] = ours.peak_rss[0]
        profile_text = profile(ours, work / "switchboard.lua") if args.profile else None
    body = render(results, profile_text)
    write_section("peer", "Switchboard and the LiteLLM proxy, side by side", body)
    print(body)


if __name__ == "__main__":
    main()
