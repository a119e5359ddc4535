"""Chroma server mode against the real server the chromadb package ships (`chroma run`), on loopback:
ingest and ask through it, 503 with a reason when it stops, recovery when it is back, and no remote by default."""

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings
from assistant.desk import Desk
from assistant.engine.assistant import Assistant
from assistant.engine.store import Store
from assistant.errors import UnsafeConfiguration
from evaluation.load import free_port
from ingest.pipeline import ingest
from tests.helpers import REPO, serve_app, settings_for, until
from ui.app import create_app

CHROMA = str(Path(sys.executable).with_name("chroma"))


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the Chroma server did not start")


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    process = start_chroma(tmp_path / "chroma-server", port)
    yield port, tmp_path / "chroma-server", process
    process.kill()
    process.wait()


def test_ingest_ask_outage_and_recovery_through_a_chroma_server(
    chroma: tuple[int, Path, subprocess.Popen[bytes]], tmp_path: Path, model_cache: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    port, path, server = chroma
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = settings_for(tmp_path / "data", model_cache, corpus_dir=corpus, chroma_url=f"http://127.0.0.1:{port}")
    report = ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    assert report.chunks_written > 0 and not report.failed
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
    assistant = Assistant.load(settings, embedder)
    assert not assistant.ask("Where does Dignio come from?").abstained
    with serve_app(create_app(settings, Desk.open(settings, assistant))) as url:
        assert httpx.get(f"{url}/healthz").json()["ok"] is True
        server.kill()
        server.wait()
        question = {"question": "Where does Dignio come from?"}
        # The outage shows at the assistant's next freshness check (every FRESH_S), whenever that falls.
        down = until(lambda: (r := httpx.post(f"{url}/api/ask", json=question, timeout=30)).status_code == 503 and r)
        assert "not reachable" in down.json()["detail"]  # type: ignore[attr-defined]
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 503 and "vector store unreachable" in health.json()["reason"]
        restarted = start_chroma(path, port)
        try:
            back = until(
                lambda: (r := httpx.post(f"{url}/api/ask", json=question, timeout=30)).status_code == 200 and r
            )
            assert "Norwegian" in back.json()["answer"]  # type: ignore[attr-defined]
            assert httpx.get(f"{url}/healthz").status_code == 200
        finally:
            restarted.kill()


def test_a_remote_chroma_needs_an_explicit_opt_in(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    remote = Settings(data_dir=tmp_path, chroma_url="http://10.1.2.3:8000")
    with pytest.raises(UnsafeConfiguration, match="CHROMA_ALLOW_REMOTE"):
        Store.open(remote, embedder)
