"""Shared fixtures: the real MiniLM model (loaded once), real Chroma stores in temp dirs, no internet."""

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine.assistant import Assistant
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from ingest.pipeline import ingest
from tests.helpers import REPO, settings_for

_LOOPBACK = ("127.", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address) -> None:  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
        raise RuntimeError(f"tests must not reach the network (tried {host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_internet():  # type: ignore[no-untyped-def]
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(model_cache)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: OnnxEmbedder) -> Settings:
    """An index of the real corpus/, built once for the session."""
    root = tmp_path_factory.mktemp("corpus-index")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = settings_for(root / "data", model_cache, corpus_dir=corpus)
    report = ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    assert report.added and not report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings, embedder: OnnxEmbedder) -> Assistant:
    return Assistant.load(corpus_settings, embedder)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL (Debian's package) on a free loopback port, for this test session only."""
    import glob
    import os
    import subprocess

    from evaluation.load import free_port

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is not installed: run `make chromium` (apt-get install postgresql)"
    bin_dir = Path(found[-1]).parent
    import tempfile

    # Not under pytest's own temp folder: that one is private to root, and PostgreSQL runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="cluster-assistant-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], **run)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        **run,
    )
    try:
        subprocess.run(
            [*as_user, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "cluster"],
            **run,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/cluster"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis (Debian's redis-server) on a free loopback port, for this test session only."""
    import subprocess
    import time

    import redis

    from evaluation.load import free_port

    server_bin = shutil.which("redis-server")
    assert server_bin, "Redis is not installed: run `make chromium` (apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen(
        [server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 30
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
