"""Written answers' questions: a staff answer to a knowledge gap keeps the questions it answers (front matter
`questions:`, one a line in the chunk's metadata), and a visitor's question is matched against them as well as
against the answer's text.

Two ways, as FAQ retrieval does: a question that is one of them in other words (cosine at least `SAME_QUESTION`)
is answered from that written answer directly, whatever the answer's own wording; and every question counts as
part of its passage (as document expansion with the questions a passage answers: retrieval, term coverage and the
sentences' similarity see them), so a looser rewording can still find it through the calibrated decision.
"""

from dataclasses import dataclass

import numpy as np

from assistant.engine.compose import ScoredSentence
from assistant.engine.embedder import Embedder
from assistant.engine.outcome import Outcome, quoted
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.store import Store
from assistant.engine.terms import terms
from assistant.engine.visibility import Visible
from assistant.models import Chunk

# MiniLM cosine of two wordings of one question ("How much does it cost to join the cluster?" / "how much is it to
# join the cluster?": 0.95); questions that are only on the same topic stay below it ("Who can join the
# cluster?": 0.68). Staff add the rewordings that fall between.
SAME_QUESTION = 0.8


def questions_of(chunk: Chunk) -> list[str]:
    """The questions a written answer's passage answers (none for any other document)."""
    return [q.strip() for q in chunk.metadata.get("questions", "").split("\n") if q.strip()]


def answer_index(store: Store, embedder: Embedder) -> AnswerIndex:
    """The store's snapshot for answering, written answers' questions included."""
    index = AnswerIndex.build(store)
    learn_questions(index, embedder)
    return index


def learn_questions(index: AnswerIndex, embedder: Embedder) -> None:
    """Give the index the vectors and terms of every written answer's questions (a few a document: cheap)."""
    asked = [(chunk.id, questions_of(chunk)) for chunk in index.chunks]
    asked = [(id_, questions) for id_, questions in asked if questions]
    if not asked:
        return
    vectors = embedder.encode([q for _, questions in asked for q in questions])
    start = 0
    for id_, questions in asked:
        index.asked_vectors[id_] = vectors[start : start + len(questions)]
        index.asked_terms[id_] = frozenset(t for q in questions for t in terms(q))
        start += len(questions)


@dataclass(frozen=True)
class WrittenMatch:
    """The written answer whose question a visitor asked again, in whatever words."""

    chunk: Chunk  # the answer's first passage
    question: str
    similarity: float


def written_answer_for(index: AnswerIndex, vector: np.ndarray, visible: Visible | None) -> WrittenMatch | None:
    """The written answer one of whose questions this is, if any the reader may see."""
    best: WrittenMatch | None = None
    for id_, vectors in index.asked_vectors.items():
        chunk = index.chunks[index.position[id_]]
        if visible is not None and not visible(chunk):
            continue
        similarities = vectors @ vector
        i = int(np.argmax(similarities))
        if similarities[i] >= SAME_QUESTION and (best is None or similarities[i] > best.similarity):
            best = WrittenMatch(chunk, questions_of(chunk)[i], float(similarities[i]))
    if best is None:
        return None
    first = next(c for c in index.chunks if c.source == best.chunk.source and c.doc_hash == best.chunk.doc_hash)
    return WrittenMatch(first, best.question, best.similarity)


def written_outcome(asked: str, resolved: str, written: WrittenMatch) -> Outcome:
    """The answer to a question asked again: the written answer's first passage, whole, cited."""
    chunk = written.chunk
    chosen = [ScoredSentence(chunk, j, text, 0, 1.0, written.similarity, 1.0) for j, text in enumerate(chunk.sentences)]
    note = f"written answer to: {written.question} (cosine {written.similarity:.2f})"
    return quoted(asked, resolved, chosen, written.similarity, note)
