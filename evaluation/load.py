"""HTTP load on loopback: a server in its own process, N concurrent clients, latency, throughput, memory.

Used by `make bench` (1 and 16 clients). Figures are measured, never asserted here.
"""

import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from evaluation.metrics import percentile

# Load from one address is the point here: rate limits are lifted unless a caller sets its own.
UNLIMITED = {
    f"CLUSTER_ASSISTANT_{name}": "1000000/minute"
    for name in (
        "RATE_LIMIT_ASK",
        "RATE_LIMIT_CHAT",
        "RATE_LIMIT_FEEDBACK",
        "RATE_LIMIT_ENQUIRIES",
        "RATE_LIMIT_WIDGET_SESSION",
        "RATE_LIMIT_LOGIN",
    )
}


def free_port() -> int:
    """A port free on loopback now (the usual bind-to-0 probe)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@contextmanager
def server(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`cluster-assistant serve` on a free loopback port; yields its URL and process once /healthz answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **UNLIMITED, **env},
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _load(
    url: str, questions: list[str], clients: int, total: int, timeout: float, seconds: float | None
) -> dict[str, Any]:
    latencies: list[float] = []
    by_status: dict[str, list[float]] = {}  # a refusal (503, 429) must be fast, not just counted
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + seconds if seconds else None
    # takewhile, not a filtering generator: past the deadline a filter would spin through the whole range.
    counter = itertools.takewhile(lambda _: deadline is None or time.perf_counter() < deadline, range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/api/ask", json={"question": questions[i % len(questions)]})
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            by_status.setdefault(key, []).append(latencies[-1])
            statuses[key] = statuses.get(key, 0) + 1

    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    done = sum(statuses.values())
    return {
        "clients": clients,
        "requests": done,
        "seconds": round(elapsed, 1),
        "answers_per_s": round(ok / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "statuses": statuses,
        "p95_ms_by_status": {key: round(percentile(found, 0.95), 1) for key, found in by_status.items()},
        "errors": done - ok,
    }


def load(
    url: str, questions: list[str], clients: int, total: int, timeout: float = 30.0, seconds: float | None = None
) -> dict[str, Any]:
    """`total` asks (or as many as fit in `seconds`) spread over `clients` concurrent connections."""
    return asyncio.run(_load(url, questions, clients, total, timeout, seconds))
