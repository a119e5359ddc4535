"""Cite: number the passages an answer uses and put `[n]` after each sentence drawn from them."""

import re

from assistant.engine.compose import ScoredSentence
from assistant.engine.dated import document_date
from assistant.models import PUBLIC, Chunk, Citation

SNIPPET_CHARS = 400


def anchor(chunk: Chunk) -> str:
    """Where in its source a passage is: a page for PDFs, the section heading's slug otherwise."""
    if chunk.page is not None:
        return f"{chunk.source}#page={chunk.page}"
    if chunk.section:
        slug = re.sub(r"[^a-z0-9]+", "-", chunk.section.split(" > ")[-1].lower()).strip("-")
        if slug:
            return f"{chunk.source}#{slug}"
    return chunk.source


def _snippet(chunk: Chunk, used: list[int]) -> str:
    text = " ".join(chunk.sentences[j] for j in sorted(used))
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def citation(n: int, chunk: Chunk, snippet: str) -> Citation:
    url = chunk.url
    if url and chunk.page is not None:
        url = f"{url}#page={chunk.page}"
    day = document_date(chunk)
    return Citation(
        n,
        chunk.title,
        chunk.section,
        anchor(chunk),
        url,
        snippet,
        day.isoformat() if day else None,
        chunk.metadata.get("visibility", PUBLIC),
    )


def cite(sentences: list[ScoredSentence]) -> tuple[str, list[Citation]]:
    """Answer text with a marker after every sentence, and one citation per passage, numbered by first use."""
    texts, citations, _ = cite_groups([sentences])
    return texts[0], citations


def cite_groups(groups: list[list[ScoredSentence]]) -> tuple[list[str], list[Citation], list[list[Citation]]]:
    """Several answers cited with one numbering: each group's text, all citations, and each group's citations."""
    numbers: dict[str, int] = {}
    used: dict[str, list[int]] = {}
    chunks: dict[str, Chunk] = {}
    texts: list[str] = []
    for sentences in groups:
        pieces = []
        for sentence in sentences:
            n = numbers.setdefault(sentence.chunk.id, len(numbers) + 1)
            used.setdefault(sentence.chunk.id, []).append(sentence.index)
            chunks[sentence.chunk.id] = sentence.chunk
            pieces.append(f"{sentence.text} [{n}]")
        texts.append(" ".join(pieces))
    citations = [citation(n, chunks[id_], _snippet(chunks[id_], used[id_])) for id_, n in numbers.items()]
    by_id = {id_: c for id_, c in zip(numbers, citations, strict=True)}
    per_group = [list({s.chunk.id: by_id[s.chunk.id] for s in sentences}.values()) for sentences in groups]
    return texts, citations, per_group
