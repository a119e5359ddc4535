"""Faults: an ingest killed with SIGKILL midway, and a server killed while enquiries are being written.

The index is checked in a separate process: a store broken by the kill could crash the process reading it.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from assistant.config import Settings
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import Enquiry
from evaluation.load import server
from evaluation.squad import squad_documents
from tests.helpers import SHARED_EVAL, settings_for, until

CHECK = """
import json, sys
from collections import Counter
from pathlib import Path
from assistant.config import Settings
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.retrieve import AnswerIndex, dense_ranking
from assistant.engine.store import Store
from ingest.load import load_file, walk
from ingest.split import split
settings = Settings()
embedder = OnnxEmbedder(settings.model_cache_dir)
store = Store.open(settings, embedder)
index = AnswerIndex.build(store)
expected = sum(len(split(load_file(p), embedder.count_tokens)) for p in walk(Path(sys.argv[1])))
ids = Counter(c.id for c in index.chunks)
found = sum(
    1 for i, c in enumerate(index.chunks)
    if c.id in [x for x, _ in dense_ranking(index, index.chunk_vectors[i], 3)]
)
print(json.dumps({
    "chunks": store.count(), "expected": expected, "duplicates": sum(n - 1 for n in ids.values()),
    "versions": max(len(h) for h in store.documents().values()), "retrievable": found,
    "without_sentences": sum(1 for c in index.chunks if c.id not in index.sentence_vectors),
}))
"""


def write_corpus(folder: Path) -> None:
    folder.mkdir()
    for document in squad_documents(SHARED_EVAL / "squad2-dev-corpus.json")[:60]:
        name = document.title.replace(" ", "_").replace("#", "p")
        text = f"---\ntitle: {document.title}\n---\n# {document.title}\n\n{document.blocks[0].text}\n"
        (folder / f"{name}.md").write_text(text, encoding="utf-8")


def written(settings: Settings) -> int:
    """Rows in Chroma's own embeddings table, read directly: a probe that needs no client."""
    path = settings.chroma_path / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
    except sqlite3.Error:
        return 0


def cli(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CLUSTER_ASSISTANT_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_ingest_killed_midway_then_rerun_leaves_a_consistent_index(tmp_path: Path, model_cache: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    settings = settings_for(tmp_path / "data", model_cache, corpus_dir=corpus)
    first = cli(settings, "ingest", str(corpus), "--quiet")
    until(lambda: written(settings) > 0 or first.poll() is not None, timeout_s=300, every_s=0.05)  # first docs in
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    at_kill = written(settings)
    again = cli(settings, "ingest", str(corpus), "--quiet")
    _, errors = again.communicate(timeout=600)
    assert again.returncode == 0, errors
    env = {**os.environ, "CLUSTER_ASSISTANT_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    checked = subprocess.run([sys.executable, "-c", CHECK, str(corpus)], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["chunks"] == report["expected"] and report["duplicates"] == 0, report
    assert report["versions"] == 1 and report["without_sentences"] == 0, report
    assert report["retrievable"] == report["chunks"], report
    assert 0 < at_kill < written(settings)  # the kill really came midway


def test_server_killed_while_enquiries_are_written_loses_none_it_acknowledged(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/enquiries.db"
    acknowledged: list[str] = []
    env = {"CLUSTER_ASSISTANT_DATA_DIR": str(corpus_settings.data_dir), "CLUSTER_ASSISTANT_DATABASE_URL": database}
    with server(env) as (url, process):

        def send(worker: int) -> None:
            for i in range(200):
                body = {
                    "name": f"N{worker}",
                    "email": f"n{worker}-{i}@example.org",
                    "message": f"Enquiry {i}",
                    "consent": True,
                    "consent_version": CONSENT_VERSION,
                }
                try:
                    response = httpx.post(f"{url}/api/enquiries", json=body, timeout=10)
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    acknowledged.append(response.json()["reference"])

        threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 20:
            assert time.monotonic() < deadline, f"only {len(acknowledged)} enquiries acknowledged in 120 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=30)
    sessions = open_database(Settings(data_dir=tmp_path, database_url=database))
    with sessions() as session:
        stored = {e.reference for e in session.query(Enquiry)}
    assert acknowledged and set(acknowledged) <= stored
