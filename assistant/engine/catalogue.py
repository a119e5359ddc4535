"""What the index holds, as the desk needs it (`assistant.catalogue`): the documents, one document's chunks,
removing one, counting what the store holds, and the indexer ingest writes through. The desk and the UI read the
index only through this face."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.engine.embedder import Embedder
from assistant.engine.retrieve import Visible
from assistant.engine.store import Store
from assistant.models import PUBLIC, Chunk

if TYPE_CHECKING:
    from assistant.engine.assistant import Assistant


@dataclass(frozen=True)
class IndexedDocument:
    """One document as the index holds it: where it came from, who may be answered from it, its chunks."""

    source: str
    title: str
    url: str | None
    origin: str
    visibility: str
    tags: list[str]
    chunks: int


@dataclass(frozen=True)
class Indexer:
    """What ingest writes through (the `target` store and the embedder); `written()` once it is done, so this
    process answers from what was written at once (the others within seconds)."""

    target: Store
    embedder: Embedder
    written: Callable[[], None]


class Catalogue:
    def __init__(self, assistant: "Assistant") -> None:
        self._assistant = assistant

    def documents(self) -> list[IndexedDocument]:
        """Every indexed document, in the order first seen; another process's ingest shows within seconds."""
        self._assistant.ensure_fresh()
        chunks = self._assistant.index.chunks
        counts = Counter(c.source for c in chunks)
        first: dict[str, Chunk] = {}
        for chunk in chunks:
            first.setdefault(chunk.source, chunk)
        return [
            IndexedDocument(
                source=c.source,
                title=c.title,
                url=c.url,
                origin=c.metadata.get("origin", "file"),
                visibility=c.metadata.get("visibility", PUBLIC),
                tags=[t for t in c.metadata.get("tags", "").split(",") if t],
                chunks=counts[c.source],
            )
            for c in first.values()
        ]

    def chunks(self, visible: Visible | None = None) -> list[Chunk]:
        """The chunks the filter lets through (all without one), in index order."""
        return [c for c in self._assistant.index.chunks if visible is None or visible(c)]

    def chunks_of(self, source: str) -> list[Chunk]:
        """One document's chunks in order (none when nothing of it is indexed)."""
        self._assistant.ensure_fresh()
        return sorted((c for c in self._assistant.index.chunks if c.source == source), key=lambda c: c.position)

    def remove(self, source: str) -> None:
        """Take a document out of the store; this process answers without it at once, the others within seconds."""
        self._assistant.store.delete(source)
        self._assistant.reload()

    def count(self) -> int:
        """Chunks in the store (asks the store: raises when it is unreachable)."""
        return self._assistant.store.count()

    def loaded(self) -> int:
        """Chunks this process answers from."""
        return len(self._assistant.index.chunks)

    def indexer(self) -> Indexer:
        return Indexer(self._assistant.store, self._assistant.embedder, self._assistant.reload)
