"""A question that names a section ("what's the four Ds", "tell me about regional research institutes") is
answered from that section's opening: the heading says what the section is about and its first sentences say it.

Retrieval alone misses these: a heading's words ("four", "Ds") rarely recur in the section's sentences, so neither
BM25 nor the sentence vectors find them. The match is exact on content words: every word of the heading is in the
question, and the question adds nothing but words of asking ("tell", "explain") and of the document's title.
"""

from assistant.engine.compose import ScoredSentence
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.terms import terms
from assistant.engine.visibility import Visible
from assistant.models import Chunk

ASKING = frozenset(
    terms("tell know explain describe description information info about mean means meaning overview summary section")
)
OPENING_CHARS = 450  # the first sentence always; the second too while the opening stays this short
MAX_SECTIONS = 2  # the same heading in several documents: the first two


def _openings(index: AnswerIndex, visible: Visible | None) -> dict[tuple[str, str], Chunk]:
    """Each visible section's first chunk (chunks are kept in source and position order)."""
    first: dict[tuple[str, str], Chunk] = {}
    for chunk in index.chunks:
        if (visible is None or visible(chunk)) and chunk.section:
            first.setdefault((chunk.source, chunk.section), chunk)
    return first


def named_section(question: str, index: AnswerIndex, visible: Visible | None = None) -> list[ScoredSentence]:
    """The opening sentences of the sections the question names, or [] when it names none."""
    asked = frozenset(terms(question)) - ASKING
    if not asked:
        return []
    chosen: list[ScoredSentence] = []
    for (_source, section), chunk in _openings(index, visible).items():
        heading = frozenset(terms(section.split(" > ")[-1]))
        if not heading or not heading <= asked or not asked <= heading | frozenset(terms(chunk.title)):
            continue
        length = 0
        for i, sentence in enumerate(chunk.sentences):
            if i and length + len(sentence) > OPENING_CHARS:
                break
            chosen.append(ScoredSentence(chunk, i, sentence, len(chosen), 1.0, 1.0, 1.0))
            length += len(sentence)
        if len({s.chunk.source for s in chosen}) == MAX_SECTIONS:
            break
    return chosen
