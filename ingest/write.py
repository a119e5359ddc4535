"""Stage 4, write: put a document's embedded chunks in the store, replacing any older version of it."""

from collections.abc import Sequence

from assistant.engine import EmbeddedChunk, Store


def write(store: Store, source: str, doc_hash: str, embedded: Sequence[EmbeddedChunk]) -> int:
    """Write one document; returns how many chunks it now has in the store."""
    store.write(source, doc_hash, embedded)
    return len(embedded)


def remove(store: Store, sources: Sequence[str]) -> int:
    """Delete the chunks of documents that no longer exist; returns how many documents were removed."""
    for source in sources:
        store.delete(source)
    return len(sources)
