"""Stage 3, embed: a vector for each chunk and for each of its sentences, so answering never embeds passages."""

from collections.abc import Sequence

from assistant.engine import EmbeddedChunk, Embedder
from assistant.models import Chunk


def embed(chunks: Sequence[Chunk], embedder: Embedder) -> list[EmbeddedChunk]:
    """Encode chunks and their sentences in two batched calls."""
    if not chunks:
        return []
    chunk_vectors = embedder.encode([c.text for c in chunks])
    sentences = [s for c in chunks for s in c.sentences]
    sentence_vectors = embedder.encode(sentences)
    embedded: list[EmbeddedChunk] = []
    start = 0
    for chunk, vector in zip(chunks, chunk_vectors, strict=True):
        end = start + len(chunk.sentences)
        embedded.append(EmbeddedChunk(chunk, vector, sentence_vectors[start:end]))
        start = end
    return embedded
