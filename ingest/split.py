"""Stage 2, split: blocks → sentences → windows of whole sentences, one section at a time.

Window size: all-MiniLM-L6-v2 was trained on 128-token inputs and truncates at 256, so a chunk holds at most
`MAX_CHUNK_TOKENS` word pieces; a sentence longer than that is cut at word boundaries rather than truncated.
"""

import hashlib
from collections.abc import Callable
from itertools import groupby

from assistant.engine import split_sentences
from assistant.models import Block, Chunk, LoadedDocument

MAX_CHUNK_TOKENS = 128
# Part of each chunk's identity: changing how we split re-splits every document on the next ingest.
SPLIT_VERSION = f"sentences-v1-{MAX_CHUNK_TOKENS}"


def _cut_long(sentence: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """Cut an over-long sentence (or list) at word boundaries into pieces that fit a window."""
    if count_tokens(sentence) <= max_tokens:
        return [sentence]
    pieces: list[str] = []
    current: list[str] = []
    for word in sentence.split():
        if current and count_tokens(" ".join([*current, word])) > max_tokens:
            pieces.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _block_sentences(block: Block) -> list[str]:
    # A list is one unit: an answer to "which universities…" should carry the whole list.
    return [block.text] if block.is_list else split_sentences(block.text)


def _windows(sentences: list[str], max_tokens: int, count_tokens: Callable[[str], int]) -> list[list[str]]:
    windows: list[list[str]] = []
    used = 0
    for sentence in sentences:
        for piece in _cut_long(sentence, max_tokens, count_tokens):
            size = count_tokens(piece)
            if windows and used + size <= max_tokens:
                windows[-1].append(piece)
                used += size
            else:
                windows.append([piece])
                used = size
    return windows


def chunk_id(source: str, doc_hash: str, position: int) -> str:
    return f"{hashlib.sha256(source.encode()).hexdigest()[:16]}-{doc_hash[:16]}-{position:05d}"


def document_hash(content_hash: str) -> str:
    """Identity of a document's chunks: changes when its bytes or the way we split them change."""
    return hashlib.sha256(f"{SPLIT_VERSION}\n{content_hash}".encode()).hexdigest()


def split(
    document: LoadedDocument,
    count_tokens: Callable[[str], int],
    max_tokens: int = MAX_CHUNK_TOKENS,
) -> list[Chunk]:
    """Chunks of one document: sections never mix, windows hold whole sentences up to `max_tokens`."""
    doc_hash = document_hash(document.content_hash)
    chunks: list[Chunk] = []
    for (section, page), group in groupby(document.blocks, key=lambda b: (b.section, b.page)):
        sentences = [s for block in group for s in _block_sentences(block)]
        for window in _windows(sentences, max_tokens, count_tokens):
            position = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(document.source, doc_hash, position),
                    text=" ".join(window),
                    sentences=tuple(window),
                    title=document.title,
                    section=" > ".join(section),
                    source=document.source,
                    url=document.url,
                    page=page,
                    doc_hash=doc_hash,
                    position=position,
                    metadata=dict(document.metadata),
                )
            )
    return chunks
