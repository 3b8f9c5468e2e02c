"""`make bench-gateway`: what the gateway adds over calling the simulator directly.

Starts the simulator (zero latency) and one daphne process serving the gateway against a
database of its own (`switchboard_bench` on the same PostgreSQL), with precheck, routing,
limits and metering all on, then measures from this process with httpx:

- added latency per request (p50/p99), sequential, non-streaming;
- requests per second at 16 and 64 concurrent;
- streaming time-to-first-token overhead;
- the gateway process's peak resident memory.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import write_section  # noqa: E402

BENCH_DB = "switchboard_bench"
BODY = {"messages": [{"role": "user", "content": "Say hello to the team."}], "max_tokens": 16}
SEQUENTIAL = 300
LOAD_SECONDS = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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
from billing.services import subscription_start
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


def start(command: list[str], env: dict[str, str], url: str, stack: ExitStack) -> psutil.Process:
    log = stack.enter_context((ROOT / ".data" / f"bench-{command[2]}.log").open("w"))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return psutil.Process(process.pid)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{command} did not start") from None
            time.sleep(0.2)


def sequential(client: httpx.Client, path: str, body: dict, headers: dict) -> list[float]:
    times = []
    for _ in range(SEQUENTIAL):
        started = time.perf_counter()
        response = client.post(path, json=body, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def first_token_ms(client: httpx.Client, path: str, body: dict, headers: dict) -> list[float]:
    times = []
    for _ in range(SEQUENTIAL // 3):
        started = time.perf_counter()
        with client.stream("POST", path, json={**body, "stream": True}, headers=headers) as r:
            lines = r.iter_lines()
            for line in lines:
                if '"content"' in line:
                    times.append((time.perf_counter() - started) * 1000)
                    break
            for _ in lines:  # read the rest so the connection is reused
                pass
    return times


async def throughput(
    url: str, path: str, body: dict, headers: dict, concurrency: int
) -> tuple[float, int]:
    """(requests per second, requests answered) over LOAD_SECONDS."""
    done, errors = 0, 0
    stop = time.monotonic() + LOAD_SECONDS
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.monotonic() < stop:
                response = await client.post(path, json=body, headers=headers)
                done += response.status_code == 200
                errors += response.status_code != 200

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    if errors:
        print(f"  {errors} non-200 answers at {concurrency} concurrent", file=sys.stderr)
    return done / elapsed, done


def watch_memory(process: psutil.Process) -> Callable[[], float]:
    peak = [process.memory_info().rss]
    running = [True]

    def sample() -> None:
        while running[0]:
            try:
                peak[0] = max(peak[0], process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def stop() -> float:
        running[0] = False
        thread.join()
        return peak[0] / 2**20

    return stop


def main() -> None:
    env = bench_env()
    sim_port, web_port = 8190, 8191
    sim_url, web_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{web_port}"
    env["SIMULATOR_URL"] = f"{sim_url}/v1"
    manage(env, "migrate", "--noinput")
    manage(env, "seed_catalog", "--verbosity", "0")
    secret = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
    daphne = str(Path(sys.executable).with_name("daphne"))
    with ExitStack() as stack:
        simulator = [
            sys.executable,
            "manage.py",
            "run_simulator",
            "--port",
            str(sim_port),
            "--fast",
        ]
        start(simulator, env, f"{sim_url}/v1/models", stack)
        gateway = [daphne, "-b", "127.0.0.1", "-p", str(web_port), "gateway.asgi:application"]
        web = start(gateway, env, f"{web_url}/healthz", stack)
        stop_memory = watch_memory(web)
        results = measure(sim_url, web_url, {"Authorization": f"Bearer {secret}"}, web)
        results["peak_rss_mb"] = stop_memory()
    body = render(results)
    write_section("gateway", "Gateway overhead over the simulator", body)
    print(body)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(
    sim_url: str, web_url: str, auth: dict[str, str], web: psutil.Process
) -> dict[str, float]:
    direct_body = {**BODY, "model": "sim/economy"}
    gateway_body = {**BODY, "model": "auto"}
    results: dict[str, float] = {}
    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # warm up connections, caches and the classifier
            client.post(f"{web_url}/v1/chat/completions", json=gateway_body, headers=auth)
        direct = sequential(client, f"{sim_url}/v1/chat/completions", direct_body, {})
        routed = sequential(client, f"{web_url}/v1/chat/completions", gateway_body, auth)
        direct_ttft = first_token_ms(client, f"{sim_url}/v1/chat/completions", direct_body, {})
        routed_ttft = first_token_ms(client, f"{web_url}/v1/chat/completions", gateway_body, auth)
    for name, values in [("direct", direct), ("gateway", routed)]:
        results[f"{name}_p50"] = statistics.median(values)
        results[f"{name}_p99"] = percentile(values, 0.99)
    results["ttft_direct"] = statistics.median(direct_ttft)
    results["ttft_gateway"] = statistics.median(routed_ttft)
    for concurrency in (16, 64):
        for name, url, body, headers in [
            ("direct", sim_url, direct_body, {}),
            ("gateway", web_url, gateway_body, auth),
        ]:
            cpu_before = cpu_seconds(web)
            rps, done = asyncio.run(
                throughput(url, "/v1/chat/completions", body, headers, concurrency)
            )
            results[f"{name}_rps_{concurrency}"] = rps
            if name == "gateway":
                used = cpu_seconds(web) - cpu_before
                results[f"cpu_ms_{concurrency}"] = 1000 * used / max(done, 1)
                results[f"cpu_share_{concurrency}"] = 100 * used / LOAD_SECONDS
    return results


def render(r: dict[str, float]) -> str:
    return f"""One daphne process serving the gateway (precheck, routing, limits and metering on, writing
every ModelCall, UsageRecord, CostRecord and ledger row to PostgreSQL), the simulator at
zero latency as the upstream, and the load generator (httpx) all on this machine's 2 cores.
Non-streaming `POST /v1/chat/completions`, 16-token answers; {SEQUENTIAL} sequential requests
for latency, {LOAD_SECONDS} s of load per concurrency level. Reproduce: `make bench-gateway`.

| measure | simulator direct | through the gateway | added by the gateway | target |
|---|---:|---:|---:|---|
| latency p50, 1 concurrent | {r["direct_p50"]:.2f} ms | {r["gateway_p50"]:.2f} ms | {r["gateway_p50"] - r["direct_p50"]:.2f} ms | < 5 ms added |
| latency p99, 1 concurrent | {r["direct_p99"]:.2f} ms | {r["gateway_p99"]:.2f} ms | {r["gateway_p99"] - r["direct_p99"]:.2f} ms | |
| streaming time to first token, p50 | {r["ttft_direct"]:.2f} ms | {r["ttft_gateway"]:.2f} ms | {r["ttft_gateway"] - r["ttft_direct"]:.2f} ms | < 5 ms added |
| requests/s, 16 concurrent | {r["direct_rps_16"]:.0f} | {r["gateway_rps_16"]:.0f} | | ≥ 200 |
| requests/s, 64 concurrent | {r["direct_rps_64"]:.0f} | {r["gateway_rps_64"]:.0f} | | |
| gateway CPU per request, 16 concurrent | | {r["cpu_ms_16"]:.2f} ms | | |
| gateway process CPU use, 16 concurrent | | {r["cpu_share_16"]:.0f}% of a core | | |
| gateway peak RSS | | {r["peak_rss_mb"]:.0f} MiB | | |

One process runs Python on one core at a time, so the CPU per request bounds its throughput:
at {r["cpu_ms_16"]:.1f} ms a request, a fully busy core answers at most {1000 / r["cpu_ms_16"]:.0f} requests/s.
"""


if __name__ == "__main__":
    main()
