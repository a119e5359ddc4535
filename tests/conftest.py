"""Shared fixtures: the real MiniLM model (loaded once), real Chroma stores in temp dirs, no internet."""

import shutil
import socket
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedder import OnnxEmbedder
from assistant.service import Assistant
from assistant.store import open_store
from ingest.pipeline import ingest

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"
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


def settings_for(data_dir: Path, model_cache: Path, **overrides) -> Settings:  # type: ignore[no-untyped-def]
    data_dir.mkdir(parents=True, exist_ok=True)
    models = data_dir / "models"
    if not models.exists():
        models.symlink_to(model_cache, target_is_directory=True)  # reuse the exported model
    overrides.setdefault("corpus_dir", REPO / "corpus")
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: OnnxEmbedder) -> Settings:
    """An index of the real corpus/, built once for the session."""
    root = tmp_path_factory.mktemp("corpus-index")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = settings_for(root / "data", model_cache, corpus_dir=corpus)
    report = ingest([str(corpus)], open_store(settings, embedder), embedder, progress=False)
    assert report.added and not report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings, embedder: OnnxEmbedder) -> Assistant:
    return Assistant.load(corpus_settings, embedder)
