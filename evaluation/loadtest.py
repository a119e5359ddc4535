"""`make loadtest`: the server under load on loopback, in its own process.

16 clients: throughput and latency. 200 clients for 60 s: the server must shed what it cannot serve (fast 503s),
never time out or crash, and keep its memory flat. Writes evaluation/results/loadtest.json. `--smoke` is the short
version the tests run.
"""

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from evaluation.load import load, rss_mb, server

QUESTIONS = [
    "What is PIONEER?",
    "Where does Dignio come from?",
    "Which universities are in the West Midlands?",
    "What did the Royal Wolverhampton NHS Trust agree with Babylon?",
    "Which companies are based in the region?",
    "What is the opening time of the cluster's offices on Saturdays?",
]


def run(smoke: bool, data_dir: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLUSTER_ASSISTANT_DATABASE_URL": f"sqlite:///{tmp}/load.db"}
        if data_dir:
            env["CLUSTER_ASSISTANT_DATA_DIR"] = data_dir
        with server(env) as (url, process):
            load(url, QUESTIONS, 4, 60)  # warm-up
            steady = load(url, QUESTIONS, 16, 300 if smoke else 1600)
            start_rss = rss_mb(process.pid)
            samples: list[float] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(1.0):
                    samples.append(rss_mb(process.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            seconds = 8.0 if smoke else 60.0
            burst = load(url, QUESTIONS, 200, 10**9, timeout=10.0, seconds=seconds)
            stop.set()
            sampler.join()
            alive = process.poll() is None
            end_rss = rss_mb(process.pid) if alive else 0.0
    growth = (end_rss - start_rss) / start_rss * 100 if start_rss else 0.0
    return {
        "at_16_clients": steady,
        "at_200_clients": burst,
        "server_alive_after": alive,
        "rss_mb": {"before_burst": start_rss, "after_burst": end_rss, "max": max(samples, default=end_rss)},
        "rss_growth_percent": round(growth, 1),
        "targets": {"answers_per_s_at_16": 250, "p95_ms_at_16": 100, "errors_at_16": 0, "rss_growth_percent": 10},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="a short run (what the tests do)")
    parser.add_argument("--out", type=Path, default=Path("evaluation/results/loadtest.json"))
    args = parser.parse_args()
    started = time.time()
    result = run(args.smoke)
    result["command"] = "make loadtest" + (" (smoke)" if args.smoke else "")
    result["wall_seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
