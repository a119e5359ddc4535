"""Cite: number the passages an answer uses and put `[n]` after each sentence drawn from them."""

from assistant.engine.compose import ScoredSentence
from assistant.engine.dated import document_date
from assistant.models import PUBLIC, Chunk, Citation, section_slug

SNIPPET_CHARS = 400


def anchor(chunk: Chunk) -> str:
    """Where in its source a passage is: a page for PDFs, the section heading's slug otherwise."""
    if chunk.page is not None:
        return f"{chunk.source}#page={chunk.page}"
    if chunk.section:
        slug = section_slug(chunk.section)
        if slug:
            return f"{chunk.source}#{slug}"
    return chunk.source


def passage_key(chunk: Chunk) -> tuple[str, str, str, int | None]:
    """What one source card stands for: a section of one version of a document (a page, for PDFs). Chunks of the
    same section are one card, with every sentence quoted from them."""
    return chunk.source, chunk.doc_hash, chunk.section, chunk.page


def _snippet(quoted: list[tuple[Chunk, int]]) -> str:
    ordered = sorted({(c.id, j): (c, j) for c, j in quoted}.values(), key=lambda q: (q[0].position, q[1]))
    text = " ".join(chunk.sentences[j] for chunk, j in ordered)
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
    """Several answers cited with one numbering: each group's text, all citations, and each group's citations.
    A number stands for a section (`passage_key`), numbered by first use."""
    numbers: dict[tuple[str, str, str, int | None], int] = {}
    quoted: dict[tuple[str, str, str, int | None], list[tuple[Chunk, int]]] = {}
    texts: list[str] = []
    for sentences in groups:
        pieces = []
        for sentence in sentences:
            key = passage_key(sentence.chunk)
            n = numbers.setdefault(key, len(numbers) + 1)
            quoted.setdefault(key, []).append((sentence.chunk, sentence.index))
            pieces.append(f"{sentence.text} [{n}]")
        texts.append(" ".join(pieces))
    first = {key: min(found, key=lambda q: q[0].position)[0] for key, found in quoted.items()}
    citations = [citation(n, first[key], _snippet(quoted[key])) for key, n in numbers.items()]
    by_key = dict(zip(numbers, citations, strict=True))
    per_group = [list({passage_key(s.chunk): by_key[passage_key(s.chunk)] for s in group}.values()) for group in groups]
    return texts, citations, per_group
