"""The adapter to Chroma, the system of record: the only module of the product that knows about Chroma.

Two collections: chunks (text, metadata and vector) and their sentences (the sentence vectors the composer scores,
computed once at ingest). Answering reads both into memory once (`load_all`) and searches that snapshot.
Each chunk's metadata carries its document's `source` and `doc_hash`; that is the manifest incremental
ingest reads, so there is no second file to fall out of step with the store.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from assistant.config import Settings
from assistant.engine.embedder import Embedder
from assistant.errors import EmbeddingModelMismatch, IndexMissing, StoreUnavailable, UnsafeConfiguration
from assistant.models import Chunk
from assistant.private import private_dir

log = logging.getLogger(__name__)
MODEL_KEY = "embedding_model"
VERSION_KEY = "index_version"  # changes on every write, so readers in other processes know to reload
_PAGE = 5000  # rows per `get`, to keep memory flat on large stores


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk with its own vector and one vector per sentence (same order as `chunk.sentences`)."""

    chunk: Chunk
    vector: np.ndarray
    sentence_vectors: np.ndarray


def _client(settings: Settings):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        parts = urlsplit(settings.chroma_url)
        loopback = (parts.hostname or "") in ("localhost", "::1") or (parts.hostname or "").startswith("127.")
        if not loopback and not settings.chroma_allow_remote:
            raise UnsafeConfiguration(
                f"The Chroma server {settings.chroma_url} is not on this machine, and Chroma has no authentication: "
                "anyone who can reach it can read and change the index. Keep it on a private network, then set "
                "CLUSTER_ASSISTANT_CHROMA_ALLOW_REMOTE=true."
            )
        try:
            return chromadb.HttpClient(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare exceptions for connection failures
            raise StoreUnavailable(f"Cannot reach the Chroma server at {settings.chroma_url}: {exc}") from None
    private_dir(settings.data_dir)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


# The document metadata every chunk carries: who may see it, its date (front matter, or when fetched) and tags.
# "questions": the questions a written answer answers, one a line (see `asked.py`).
KEPT_METADATA = ("visibility", "date", "fetched", "tags", "origin", "questions")


def _chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "title": chunk.title,
        "section": chunk.section,
        "source": chunk.source,
        "url": chunk.url or "",
        "page": chunk.page if chunk.page is not None else -1,
        "doc_hash": chunk.doc_hash,
        "position": chunk.position,
    }
    for key in KEPT_METADATA:
        if key in chunk.metadata:
            meta[key] = chunk.metadata[key]
    return meta


def _chunk_from(id_: str, text: str, meta: dict, sentences: tuple[str, ...]) -> Chunk:  # type: ignore[type-arg]
    page = int(meta.get("page", -1))
    extra = {k: str(meta[k]) for k in KEPT_METADATA if k in meta}
    return Chunk(
        id=id_,
        text=text,
        sentences=sentences or (text,),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        source=str(meta.get("source", "")),
        url=str(meta["url"]) if meta.get("url") else None,
        page=page if page >= 0 else None,
        doc_hash=str(meta.get("doc_hash", "")),
        position=int(meta.get("position", 0)),
        metadata=extra,
    )


class Store:
    """Chunks and sentence vectors in Chroma. Open with `Store.open` (creating it) or `Store.open_existing`."""

    def __init__(self, client, name: str, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
        config = {"hnsw": {"space": "cosine"}}
        meta = {MODEL_KEY: embedder.model_id}
        self.chunks = client.get_or_create_collection(
            name, configuration=config, metadata=meta, embedding_function=None
        )
        self.sentences = client.get_or_create_collection(
            f"{name}-sentences", configuration=config, metadata=meta, embedding_function=None
        )
        self._client, self._name, self._model_id = client, name, embedder.model_id
        self._settings: Settings | None = None  # set by `open`: how to open the store again (`refresh`)
        stored = (self.chunks.metadata or {}).get(MODEL_KEY)
        if stored != embedder.model_id:
            raise EmbeddingModelMismatch(
                f"The index in collection '{name}' was built with embedding model '{stored}', but this run uses "
                f"'{embedder.model_id}'. Rebuild it with `cluster-assistant ingest --rebuild`, or set "
                "CLUSTER_ASSISTANT_EMBEDDING_BACKEND back to the backend that built it."
            )

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> "Store":
        """Open the configured store, creating it if needed, and check it was built with this embedder."""
        client = _client(settings)
        try:
            store = cls(client, settings.collection, embedder)
            store._settings = settings
            return store
        except (EmbeddingModelMismatch, IndexMissing):
            raise
        except Exception as exc:
            if settings.chroma_url and exc.__class__.__name__ in {"ConnectError", "ConnectionError", "ValueError"}:
                raise StoreUnavailable(f"Cannot reach the Chroma server at {settings.chroma_url}: {exc}") from None
            raise

    @classmethod
    def open_existing(cls, settings: Settings, embedder: Embedder) -> "Store":
        """Open a store that must already hold an index (for answering); raises `IndexMissing` otherwise."""
        if not settings.chroma_url and not settings.chroma_path.exists():
            raise IndexMissing(
                f"No index at {settings.chroma_path}. Build it first: `cluster-assistant ingest {settings.corpus_dir}`."
            )
        return cls.open(settings, embedder)

    @staticmethod
    def reset(settings: Settings) -> None:
        """Delete the collections (for `ingest --rebuild`)."""
        client = _client(settings)
        for name in (settings.collection, f"{settings.collection}-sentences"):
            try:
                client.delete_collection(name)
            except Exception as exc:  # chromadb raises NotFoundError/ValueError by version; absence is the goal
                log.debug("collection %s not deleted: %s", name, exc)

    def refresh(self) -> None:
        """Open an embedded store afresh after another process wrote to it: a `PersistentClient` keeps its segments
        in memory, and reading ids it has not seen fails ("Error finding id"). A Chroma server needs nothing."""
        if self._settings is None or self._settings.chroma_url:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # the next client gets a new system; the old one ends with its users
        client = _client(self._settings)
        self.chunks = client.get_collection(self._name, embedding_function=None)
        self.sentences = client.get_collection(f"{self._name}-sentences", embedding_function=None)
        self._client = client

    def count(self) -> int:
        return int(self.chunks.count())

    def version(self) -> str:
        """The index version as the store has it now (a round trip: it also proves the store is reachable)."""
        metadata = self._client.get_collection(self._name).metadata or {}
        return str(metadata.get(VERSION_KEY, ""))

    def _touch(self) -> None:
        self.chunks.modify(metadata={MODEL_KEY: self._model_id, VERSION_KEY: uuid.uuid4().hex})

    def documents(self) -> dict[str, set[str]]:
        """Each indexed source with the document hashes its chunks carry (more than one after an interrupted write)."""
        found: dict[str, set[str]] = defaultdict(set)
        for offset in range(0, self.count(), _PAGE):
            rows = self.chunks.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for meta in rows["metadatas"] or []:
                found[str(meta["source"])].add(str(meta["doc_hash"]))
        return dict(found)

    def write(self, source: str, doc_hash: str, embedded: Sequence[EmbeddedChunk]) -> None:
        """Replace a document's chunks. Sentences first, old versions last: an interrupted write loses nothing."""
        sentence_ids, sentence_vectors, sentence_texts, sentence_meta = [], [], [], []
        for item in embedded:
            for j, text in enumerate(item.chunk.sentences):
                sentence_ids.append(f"{item.chunk.id}:{j}")
                sentence_vectors.append(item.sentence_vectors[j])
                sentence_texts.append(text)
                sentence_meta.append({"chunk_id": item.chunk.id, "j": j, "source": source, "doc_hash": doc_hash})
        if sentence_ids:
            self.sentences.upsert(
                ids=sentence_ids,
                embeddings=np.asarray(sentence_vectors),
                documents=sentence_texts,
                metadatas=sentence_meta,
            )
        if embedded:
            self.chunks.upsert(
                ids=[e.chunk.id for e in embedded],
                embeddings=np.asarray([e.vector for e in embedded]),
                documents=[e.chunk.text for e in embedded],
                metadatas=[_chunk_metadata(e.chunk) for e in embedded],  # type: ignore[misc]
            )
        self.delete(source, keep_hash=doc_hash)

    def delete(self, source: str, keep_hash: str | None = None) -> None:
        """Remove a document's chunks (all, or all but one version). Chunks first, then their sentences."""
        where: dict = {"source": source}  # type: ignore[type-arg]
        if keep_hash is not None:
            where = {"$and": [{"source": source}, {"doc_hash": {"$ne": keep_hash}}]}
        self.chunks.delete(where=where)
        self.sentences.delete(where=where)
        self._touch()

    def load_all(self) -> tuple[list[Chunk], dict[str, np.ndarray], np.ndarray]:
        """Every chunk with its sentences, each chunk's sentence vectors, and the chunk vectors in chunk order."""
        texts: dict[str, list[tuple[int, str]]] = defaultdict(list)
        vectors: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
        for offset in range(0, int(self.sentences.count()), _PAGE):
            rows = self.sentences.get(include=["metadatas", "documents", "embeddings"], limit=_PAGE, offset=offset)
            for meta, text, vector in zip(rows["metadatas"], rows["documents"], rows["embeddings"], strict=True):
                texts[str(meta["chunk_id"])].append((int(meta["j"]), text))
                vectors[str(meta["chunk_id"])].append((int(meta["j"]), np.asarray(vector, dtype=np.float32)))
        chunks: list[Chunk] = []
        chunk_vectors: dict[str, np.ndarray] = {}
        sentence_vectors: dict[str, np.ndarray] = {}
        for offset in range(0, self.count(), _PAGE):
            rows = self.chunks.get(include=["metadatas", "documents", "embeddings"], limit=_PAGE, offset=offset)
            for id_, text, meta, vector in zip(
                rows["ids"], rows["documents"], rows["metadatas"], rows["embeddings"], strict=True
            ):
                ordered = sorted(texts.get(id_, []))
                chunk = _chunk_from(id_, text, meta, tuple(t for _, t in ordered))
                if ordered:
                    sentence_vectors[id_] = np.stack([v for _, v in sorted(vectors[id_], key=lambda p: p[0])])
                else:
                    log.warning("chunk %s has no sentence vectors; using the chunk's own vector", id_)
                    sentence_vectors[id_] = np.asarray([vector], dtype=np.float32)
                chunks.append(chunk)
                chunk_vectors[id_] = np.asarray(vector, dtype=np.float32)
        chunks.sort(key=lambda c: (c.source, c.position))
        matrix = np.stack([chunk_vectors[c.id] for c in chunks]) if chunks else np.zeros((0, 384), dtype=np.float32)
        return chunks, sentence_vectors, matrix
