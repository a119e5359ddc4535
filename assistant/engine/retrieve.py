"""Retrieve: dense (MiniLM, cosine) and BM25 (bm25s) rankings, fused, near-duplicates removed.

`AnswerIndex.build` reads the store (Chroma, the system of record) once into memory; `retrieve` then works on that
snapshot alone. BM25 and the composer need every chunk's text and sentence vectors in memory anyway, and an exact
matrix product over the chunk vectors takes microseconds where a Chroma query costs a millisecond or more and is
approximate (HNSW).
"""

import logging
import math
import re
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from assistant.engine.store import Store
from assistant.engine.terms import is_continuation, names, terms
from assistant.engine.visibility import Visible
from assistant.models import Chunk, Hit

# Reciprocal-rank fusion constant from Cormack et al. (2009); robust without per-corpus tuning.
RRF_K = 60
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG otherwise
CANDIDATES = 20  # per ranking, before fusion
# Chunks whose vectors are this close say the same thing (a page ingested twice, boilerplate repeated).
NEAR_DUPLICATE_COSINE = 0.97


MAX_CHAIN = 3  # referring sentences followed back at most this far for quoting (entity terms go further)
_ARTICLE = re.compile(r"^(?:The|This) ")


def entity_chains(chunks: list[Chunk]) -> dict[str, list[frozenset[str]]]:
    """For each sentence, the terms of the entity it is about, followed through its section in reading order.

    A referring sentence ("It…", "This database…", "The company…") inherits the entity of the last sentence that
    named one, however far back in the section; a sentence naming part of an earlier, longer name ("PIONEER" after
    "PIONEER Health Data Research Hub", "The Hub") also gets the longer name's terms.
    """
    found: dict[str, list[frozenset[str]]] = {}
    section: tuple[str, str] | None = None
    current: frozenset[str] = frozenset()
    known: list[frozenset[str]] = []  # the names of the section so far, as term sets
    words: set[str] = set()  # and their words
    for chunk in chunks:  # in source and position order
        if (chunk.source, chunk.section) != section:
            section, current, known, words = (chunk.source, chunk.section), frozenset(), [], set()
        found[chunk.id] = []
        for sentence in chunk.sentences:
            found_names = names(sentence, words)
            named = [frozenset(terms(n)) for n in found_names]
            # The name a sentence opens with ("PIONEER holds…", "The Hub can…") may be a short form of one met
            # before ("PIONEER Health Data Research Hub"): the sentence is about that one.
            opens = bool(found_names) and _ARTICLE.sub("", sentence).startswith(found_names[0])
            expanded = frozenset().union(*named, *(k for k in known if opens and named[0] < k))
            known.extend(named)
            words.update(*named)
            if is_continuation(sentence):
                found[chunk.id].append(current | expanded)
            else:
                found[chunk.id].append(expanded)
                current = expanded or current
    return found


@dataclass
class AnswerIndex:
    """Everything answering keeps in memory: chunks, their vectors, sentence vectors and term statistics."""

    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: dict[str, np.ndarray]
    sentence_terms: dict[str, list[frozenset[str]]]
    # What each sentence is about beyond its own words: the named antecedent of a referring sentence ("This is a
    # major research database" → PIONEER Health Data Research Hub), and the full name of a short one ("PIONEER").
    entity_terms: dict[str, list[frozenset[str]]]
    idf: dict[str, float]
    bm25: bm25s.BM25 | None
    position: dict[str, int]
    # A written answer's passages: the vectors and terms of the questions it answers (filled by `asked.py`).
    asked_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    asked_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    _masks: weakref.WeakKeyDictionary[Visible, np.ndarray] = field(default_factory=weakref.WeakKeyDictionary)

    @classmethod
    def build(cls, store: Store) -> "AnswerIndex":
        """The store's snapshot, read once."""
        return cls.from_rows(*store.load_all())

    @classmethod
    def from_rows(
        cls, chunks: list[Chunk], sentence_vectors: dict[str, np.ndarray], chunk_vectors: np.ndarray
    ) -> "AnswerIndex":
        """An index of chunks already in memory (`Store.load_all`'s rows, or a test's own)."""
        tokenized = [terms(f"{c.title} {c.section} {c.text} {c.metadata.get('questions', '')}") for c in chunks]
        bm25 = None
        if chunks:
            bm25 = bm25s.BM25()
            bm25.index(tokenized, show_progress=False)
        df: Counter[str] = Counter()
        for tokens in tokenized:
            df.update(set(tokens))
        n = max(len(chunks), 1)
        idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        sentence_terms = {c.id: [frozenset(terms(s)) for s in c.sentences] for c in chunks}
        return cls(
            chunks=chunks,
            chunk_vectors=chunk_vectors,
            sentence_vectors=sentence_vectors,
            sentence_terms=sentence_terms,
            entity_terms=entity_chains(chunks),
            idf=idf,
            bm25=bm25,
            position={c.id: i for i, c in enumerate(chunks)},
        )

    def antecedents(self, chunk: Chunk, j: int) -> list[tuple[Chunk, str, int]] | None:
        """The sentences a referring sentence needs before it, oldest first: back through the section to the first
        that stands alone. [] when sentence `j` needs none (it stands alone, or opens its section, so refers to
        nothing before it); None when the chain does not reach a standalone sentence within `MAX_CHAIN`."""
        chain: list[tuple[Chunk, str, int]] = []
        current: tuple[Chunk, str, int] | None = (chunk, chunk.sentences[j], j)
        while current is not None and is_continuation(current[1]):
            current = self.previous_sentence(current[0], current[2])
            if current is None:
                return chain
            if len(chain) == MAX_CHAIN:
                return None
            chain.insert(0, current)
        return chain

    def _neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        i = self.position[chunk.id] + step
        if (
            0 <= i < len(self.chunks)
            and self.chunks[i].source == chunk.source
            and self.chunks[i].section == chunk.section
        ):
            return self.chunks[i]
        return None

    def previous_terms(self, chunk: Chunk, j: int) -> frozenset[str]:
        """Terms of the sentence before sentence `j` of `chunk`, across a chunk boundary within its section."""
        found = self.previous_sentence(chunk, j)
        return self.sentence_terms[found[0].id][found[2]] if found else frozenset()

    def previous_sentence(self, chunk: Chunk, j: int) -> tuple[Chunk, str, int] | None:
        """The sentence before sentence `j` of `chunk` in the same section, with its chunk and index."""
        if j > 0:
            return chunk, chunk.sentences[j - 1], j - 1
        before = self._neighbour(chunk, -1)
        return (before, before.sentences[-1], len(before.sentences) - 1) if before else None

    def next_sentence(self, chunk: Chunk, j: int) -> tuple[Chunk, str, int] | None:
        """The sentence after sentence `j` of `chunk` in the same section, with its chunk and index."""
        if j + 1 < len(chunk.sentences):
            return chunk, chunk.sentences[j + 1], j + 1
        after = self._neighbour(chunk, 1)
        return (after, after.sentences[0], 0) if after else None

    def allowed(self, visible: Visible) -> np.ndarray:
        """A mask of the chunks `visible` allows, computed once per predicate while it lives."""
        mask = self._masks.get(visible)
        if mask is None:
            mask = np.fromiter((visible(c) for c in self.chunks), dtype=bool, count=len(self.chunks))
            self._masks[visible] = mask
        return mask

    def asked_similarity(self, chunk_id: str, vector: np.ndarray) -> float:
        """Cosine to the nearest question this passage was written to answer (-1 for a passage without any)."""
        vectors = self.asked_vectors.get(chunk_id)
        return float(np.max(vectors @ vector)) if vectors is not None else -1.0

    def term_weight(self, term: str) -> float:
        """IDF, with unseen terms weighted as the rarest: a question about something absent should look absent."""
        return self.idf.get(term, math.log(1 + (len(self.chunks) + 0.5) / 0.5))


def fuse(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of ranked id lists, best first; ties keep first-seen order."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, id_ in enumerate(ranking):
            scores[id_] = scores.get(id_, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: -item[1])


def lexical_ranking(index: AnswerIndex, query_terms: list[str], k: int, allowed: np.ndarray | None = None) -> list[str]:
    if index.bm25 is None or not query_terms:
        return []
    scores = index.bm25.get_scores(query_terms)
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    top = np.argsort(-scores)[:k]
    return [index.chunks[i].id for i in top if scores[i] > 0]


def dense_ranking(
    index: AnswerIndex, question_vector: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[tuple[str, float]]:
    """(chunk id, cosine) of the `k` nearest chunks, exact; vectors are unit length, so cosine is a dot product."""
    similarities = index.chunk_vectors @ question_vector
    for id_ in index.asked_vectors:  # a written answer is as near as the nearest question it answers
        i = index.position[id_]
        similarities[i] = max(similarities[i], index.asked_similarity(id_, question_vector))
    if allowed is not None:
        similarities = np.where(allowed, similarities, -np.inf)
        k = min(k, int(allowed.sum()))
        if k == 0:
            return []
    k = min(k, len(similarities))
    top = np.argpartition(-similarities, k - 1)[:k]
    top = top[np.argsort(-similarities[top])]
    return [(index.chunks[i].id, float(similarities[i])) for i in top]


def retrieve(
    index: AnswerIndex, question: str, question_vector: np.ndarray, k: int, visible: Visible | None = None
) -> list[Hit]:
    """The `k` best distinct chunks for a question, best first; only chunks `visible` allows, when given."""
    if not index.chunks:
        return []
    allowed = index.allowed(visible) if visible is not None else None
    dense = dense_ranking(index, question_vector, CANDIDATES, allowed)
    dense_ids = [id_ for id_, _ in dense]
    lexical_ids = lexical_ranking(index, terms(question), CANDIDATES, allowed)
    similarity = dict(dense)
    hits: list[Hit] = []
    kept_vectors: list[np.ndarray] = []
    for id_, score in fuse([dense_ids, lexical_ids]):
        i = index.position[id_]
        vector = index.chunk_vectors[i]
        if any(float(vector @ other) >= NEAR_DUPLICATE_COSINE for other in kept_vectors):
            continue
        kept_vectors.append(vector)
        hits.append(
            Hit(
                chunk=index.chunks[i],
                score=score,
                dense_similarity=similarity.get(
                    id_, max(float(vector @ question_vector), index.asked_similarity(id_, question_vector))
                ),
                dense_rank=dense_ids.index(id_) if id_ in dense_ids else None,
                lexical_rank=lexical_ids.index(id_) if id_ in lexical_ids else None,
            )
        )
        if len(hits) == k:
            break
    return hits
