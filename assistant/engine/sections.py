"""A question that names a section ("what's the four Ds", "tell me about regional research institutes") is
answered from that section's opening: the heading says what the section is about and its first sentences say it.

Retrieval alone misses these: a heading's words ("four", "Ds") rarely recur in the section's sentences, so neither
BM25 nor the sentence vectors find them. The match is exact on content words: every word of the heading is in the
question, and the question adds nothing but words of asking ("tell", "explain") and of the document's title.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Section:
    """A section as a question may name it: its heading's words, its document title's, and its first chunk."""

    heading: frozenset[str]
    title: frozenset[str]
    opening: Chunk


def sections_of(index: AnswerIndex, visible: Visible | None) -> list[Section]:
    """Each visible section with the words of its heading (chunks are kept in source and position order, so the
    first chunk met of a section is its opening). Built once per view of an index (`Overview.sections`)."""
    first: dict[tuple[str, str], Chunk] = {}
    for chunk in index.chunks:
        if (visible is None or visible(chunk)) and chunk.section:
            first.setdefault((chunk.source, chunk.section), chunk)
    found = [
        Section(frozenset(terms(c.section.split(" > ")[-1])), frozenset(terms(c.title)), c) for c in first.values()
    ]
    return [s for s in found if s.heading]


def named_section(question: str, sections: list[Section]) -> list[ScoredSentence]:
    """The opening sentences of the sections the question names, or [] when it names none."""
    asked = frozenset(terms(question)) - ASKING
    if not asked:
        return []
    chosen: list[ScoredSentence] = []
    for section in sections:
        if not section.heading <= asked or not asked <= section.heading | section.title:
            continue
        chunk, length = section.opening, 0
        for i, sentence in enumerate(chunk.sentences):
            if i and length + len(sentence) > OPENING_CHARS:
                break
            chosen.append(ScoredSentence(chunk, i, sentence, len(chosen), 1.0, 1.0, 1.0))
            length += len(sentence)
        if len({s.chunk.source for s in chosen}) == MAX_SECTIONS:
            break
    return chosen
