"""Compose: choose the documents' own sentences that answer the question, and how sure we are of them.

Each candidate sentence (from the retrieved passages) is scored by its embedding similarity to the question plus
the IDF-weighted share of the question's content words it contains, with a small prior for the passage's rank.
A question about a named entity ranks the sentences about it (naming it or referring to it) by the rest of the
question (`Topic`). The best sentence leads; close runners-up join it while the lead stays within about 300
characters.
"""

import re
from dataclasses import dataclass

import numpy as np

from assistant.engine.answer_types import asked_type, holds
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.terms import DESCRIPTORS, is_continuation, names, terms
from assistant.models import Chunk, Hit

LEAD_CHARS = 300
# Sentence score = DENSE * cosine + COVERAGE * idf-weighted term coverage + RANK * 1/(1+passage rank).
DENSE_WEIGHT = 0.55
COVERAGE_WEIGHT = 0.35
RANK_WEIGHT = 0.10
DEFINITION_WEIGHT = 0.3  # a sentence saying what X is, for "What is X?": it must beat one that only names X
ANSWER_TYPE_WEIGHT = 0.08  # bonus when the sentence holds the kind of thing asked for (a name, a number, a date)
# Sentences with fewer new content words than this (beyond the question's own) say little: "Dignio is one example."
INFORMATIVE_TERMS = 4
RUNNER_UP_RATIO = 0.7  # runners-up within 70% of the best fill the ~300-character lead
MAX_SENTENCES = 3
RUNNER_UP_VERIFIED = 0.5  # a runner-up joins only when the verifier finds it at least half as likely to answer


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence of a retrieved passage with its scores."""

    chunk: Chunk
    index: int
    text: str
    rank: int
    score: float
    dense: float
    coverage: float
    verified: float = 0.0  # the verifier's probability that it answers the question (0 when not read)


# "What is X?", "Who are X?", "What kind of database is X?", "Tell me about X": asking what X is, answered by where X
# is introduced and said to be something, not by the sentence that mentions X most.
_DEFINITION = re.compile(
    r"^(?:(?:what|who) (?:is|are|was|were)|what (?:kind|sort|type) of [\w-]+ (?:is|are|was|were)|"
    r"tell me (?:more )?about|what do you know about|describe|explain)\s+"
    r"(?:the |a |an )?(?P<subject>[^?.!]{1,60}?)\s*[?.!]*$",
    re.I,
)
# A sentence that says what its subject is: "This is a major research database…", "Dignio is a Norwegian business…".
_SAYS_WHAT = re.compile(r"^(?:[\w’'&-]+(?: [\w’'&-]+){0,5}) (?:is|are|was|were) (?:a|an|one of|the)\b", re.I)


def definition_subject(question: str) -> frozenset[str]:
    """The terms of X when a question asks what X is (at most four words, no "of": not "the capital of …")."""
    match = _DEFINITION.match(question.strip())
    if not match or " of " in f" {match['subject'].lower()} " or len(match["subject"].split()) > 4:
        return frozenset()
    return frozenset(terms(match["subject"]))


def coverage(question_terms: set[str], sentence_terms: frozenset[str], index: AnswerIndex) -> float:
    """IDF-weighted share of the question's content words found in the sentence."""
    if not question_terms:
        return 0.0
    total = sum(index.term_weight(t) for t in question_terms)
    return sum(index.term_weight(t) for t in question_terms & sentence_terms) / total


@dataclass(frozen=True)
class Topic:
    """The named entity a question asks something about, and the question's vector without its name.

    A sentence about the entity (naming it, or referring to it: "The Hub can provide data access…") is judged by
    how well it says the rest: the name in the question would otherwise favour the sentence that repeats the name
    over the one that answers ("PIONEER holds all data…" over "The Hub can provide data access…" for "Who can get
    access to PIONEER data?"). The entity itself is still counted, through term coverage.
    """

    terms: frozenset[str]
    rest_vector: np.ndarray


def topic_question(question: str) -> tuple[frozenset[str], str] | None:
    """The terms of the names a question asks about and the question without them (and a kind-of-thing noun after
    them: "the PIONEER hub"), when enough is left to judge by: "Who can get access to PIONEER data?" → ({pioneer},
    "Who can get access to data?"). None for "What is X?", which asks about the name itself."""
    found = names(question)
    if not found or definition_subject(question):
        return None
    rest = question
    for name in found:
        rest = re.sub(rf"{re.escape(name)}(?:['’]s)?(?:\s+(?:{DESCRIPTORS})\b(?:['’]s)?)?", " ", rest)
    rest = re.sub(r"\s+", " ", rest).strip()
    if len(set(terms(rest))) < 2:
        return None
    return frozenset().union(*(terms(n) for n in found)), rest


def referred_to(topic: frozenset[str], hits: list[Hit], index: AnswerIndex) -> bool:
    """Whether a sentence of these passages is about the topic without naming it ("The Hub can…"): only then can
    the name in the question favour the wrong sentence, so only then is the rest of the question needed."""
    return any(
        topic <= entity and not topic <= own
        for hit in hits
        for own, entity in zip(index.sentence_terms[hit.chunk.id], index.entity_terms[hit.chunk.id], strict=True)
    )


@dataclass(frozen=True)
class _Candidate:
    rank: int
    chunk: Chunk
    index: int
    text: str
    dense: float  # cosine to the question
    rest: float  # cosine to the question without its topic's name
    own: frozenset[str]  # the sentence's terms
    context: frozenset[str]  # and those of what it is about


def _candidates(
    hits: list[Hit], question_vector: np.ndarray, topic: Topic | None, subject: frozenset[str], index: AnswerIndex
) -> list[_Candidate]:
    found = []
    for rank, hit in enumerate(hits):
        vectors = index.sentence_vectors[hit.chunk.id]
        similarities = vectors @ question_vector
        rest = vectors @ topic.rest_vector if topic is not None else similarities
        asked = index.asked_similarity(hit.chunk.id, question_vector)
        for j, text in enumerate(hit.chunk.sentences):
            dense = max(float(similarities[j]), asked)
            own = index.sentence_terms[hit.chunk.id][j]
            # A written answer's sentences also mean the questions it answers (see `asked.py`).
            context = own | index.entity_terms[hit.chunk.id][j] | index.asked_terms.get(hit.chunk.id, frozenset())
            if is_continuation(text):
                context |= index.previous_terms(hit.chunk, j)
                # Asked what X is, a referring sentence about X ("This is a major research database…") is as close
                # to the question as the sentence naming X that it is quoted with; its own embedding misses X.
                chain = (index.antecedents(hit.chunk, j) or []) if subject and subject <= context else []
                if chain:
                    dense = max(dense, *(float(index.sentence_vectors[c.id][i] @ question_vector) for c, _, i in chain))
            found.append(_Candidate(rank, hit.chunk, j, text, dense, float(rest[j]), own, context))
    return found


def score_sentences(
    question: str,
    question_terms: set[str],
    question_vector: np.ndarray,
    hits: list[Hit],
    index: AnswerIndex,
    topic: Topic | None = None,
) -> list[ScoredSentence]:
    """Every sentence of the retrieved passages, best first."""
    kind = asked_type(question)
    subject = definition_subject(question)
    found = _candidates(hits, question_vector, topic, subject, index)
    # Sentences about the topic are ranked among themselves by the rest of the question, on the scale of the
    # plain similarity: the best of them by the rest gets the best plain similarity of any of them.
    about = [c for c in found if topic is not None and topic.terms <= c.context]
    shift = max(c.dense for c in about) - max(c.rest for c in about) if about else 0.0
    scored: list[ScoredSentence] = []
    for c in found:
        match = c.rest + shift if topic is not None and topic.terms <= c.context else c.dense
        cover = coverage(question_terms, c.context, index)
        informative = min(len(c.own - question_terms), INFORMATIVE_TERMS) / INFORMATIVE_TERMS
        score = (DENSE_WEIGHT * match + COVERAGE_WEIGHT * cover) * (0.7 + 0.3 * informative)
        score += RANK_WEIGHT / (1 + c.rank) + ANSWER_TYPE_WEIGHT * (kind is not None and holds(kind, c.text, question))
        if subject and subject <= c.context and _SAYS_WHAT.match(c.text):
            score += DEFINITION_WEIGHT
        scored.append(ScoredSentence(c.chunk, c.index, c.text, c.rank, score, c.dense, cover))
    return best_first(scored)


def best_first(scored: list[ScoredSentence]) -> list[ScoredSentence]:
    """Highest score first, except that a sentence of the document that itself asks ("What is the incidence of a
    condition in the region?") follows every one that says something: it answers nothing."""
    return sorted(scored, key=lambda s: (s.text.rstrip().endswith("?"), -s.score))


def rerank(hits: list[Hit], scored: list[ScoredSentence], k: int) -> tuple[list[Hit], list[ScoredSentence]]:
    """The `k` passages holding the best sentences, best first, and those passages' sentences.

    A passage answers a question through one sentence, so its best sentence says more about it than the whole
    passage's vector or its term counts do.
    """
    order = list(dict.fromkeys(s.chunk.id for s in scored))[:k]
    by_id = {h.chunk.id: h for h in hits}
    kept = set(order)
    return [by_id[id_] for id_ in order], [s for s in scored if s.chunk.id in kept]


def _like(s: ScoredSentence, found: tuple[Chunk, str, int]) -> ScoredSentence:
    """Another sentence quoted for `s`'s sake, scored as `s`."""
    chunk, text, j = found
    return ScoredSentence(chunk, j, text, s.rank, s.score, s.dense, s.coverage)


def _length(group: list[ScoredSentence]) -> int:
    return sum(len(s.text) + 1 for s in group) - 1


def _context(s: ScoredSentence, found: tuple[Chunk, str, int] | None) -> list[ScoredSentence]:
    return [] if found is None else [_like(s, found)]


def _chain(s: ScoredSentence, index: AnswerIndex, room: int) -> list[ScoredSentence] | None:
    """The sentences a sentence is quoted with, back to the one that names what it refers to ([] for none needed;
    None when that is out of reach). When the whole chain does not fit in `room`, the naming sentence alone is
    quoted before it (sentences kept verbatim and in order, the ones between left out)."""
    found = index.antecedents(s.chunk, s.index)
    if found is None:
        return None
    chain = [_like(s, antecedent) for antecedent in found]
    return chain[:1] if len(chain) > 1 and _length([*chain, s]) > room else chain


def _quotable(s: ScoredSentence, index: AnswerIndex, lead_chars: int) -> bool:
    """Whether a sentence can lead the answer: it stands alone, or its chain back to what it refers to fits."""
    chain = _chain(s, index, lead_chars)
    return chain is not None and (not chain or _length([*chain, s]) <= lead_chars)  # alone, any length leads


def select(
    scored: list[ScoredSentence], index: AnswerIndex, lead_chars: int = LEAD_CHARS, said: str = ""
) -> list[ScoredSentence]:
    """The lead: the best sentence, runners-up that fit, in reading order.

    A sentence that refers back ("It…", "The company…") is quoted with the sentences back to what it refers to, or
    not at all when they do not fit: alone, it would not say who "it" is. The lead is the best sentence that can be
    quoted so; it also brings the sentence continuing it. In a follow-up, sentences the previous answer quoted
    (found in `said`, its text) are not quoted again beside a new answer: the reader has just read them ("A great
    example … is PIONEER" before every answer about the hub).
    """
    if not scored:
        return []
    best = next((s for s in scored if _quotable(s, index, lead_chars)), scored[0])
    chosen: list[ScoredSentence] = []
    used = -1  # characters, counting one space between sentences

    def stale(s: ScoredSentence) -> bool:
        # Just read in the previous answer, beside a new answer: left out. When the best answer is itself one the
        # previous answer gave, the question asked it again, and it is quoted as it was.
        return bool(said) and s is not best and s.text in said and best.text not in said

    def add(group: list[ScoredSentence], limit: int = MAX_SENTENCES) -> bool:
        nonlocal used
        taken = {(c.chunk.id, c.index) for c in chosen}
        new = [s for s in group if (s.chunk.id, s.index) not in taken and not stale(s)]
        size = sum(len(s.text) + 1 for s in new)
        if not new or used + size > lead_chars or len(chosen) + len(new) > limit:
            return False
        chosen.extend(new)
        used += size
        return True

    # The lead comes after what it refers to, when that fits; alone otherwise (and then a stand-alone sentence).
    if not add([*((_chain(best, index, lead_chars) or []) if is_continuation(best.text) else []), best]):
        chosen.append(best)
        used += len(best.text) + 1
    following = _context(best, index.next_sentence(best.chunk, best.index))
    if following and is_continuation(following[0].text):
        add(following)
    for candidate in scored:
        if candidate is best:
            continue
        if len(chosen) >= MAX_SENTENCES or candidate.score < RUNNER_UP_RATIO * best.score:
            break
        if candidate.verified < RUNNER_UP_VERIFIED * best.verified:
            continue  # close in score, but the verifier doubts that it answers: it would pad the lead
        chain = _chain(candidate, index, lead_chars)
        if chain is None:
            continue  # a referring sentence whose antecedent is out of reach is not quoted at all
        group = [*chain, candidate]
        add(group)
    # Readable order: passages in the order of their best sentence, sentences in document order within each.
    passage_order = {s.chunk.id: i for i, s in reversed(list(enumerate(chosen)))}
    ordered = sorted(chosen, key=lambda s: (passage_order[s.chunk.id], index.position[s.chunk.id], s.index))
    while len(ordered) > 1 and points_elsewhere(ordered[-1].text):
        ordered.pop()  # "Dignio is one example." introduces what follows it in the document: it cannot end an answer
    return ordered

    # "Dignio is one example." introduces what follows it in the document: it cannot end an answer
    return ordered


def _in(sentence: str, said: str) -> bool:
    return bool(said) and sentence in said


# "Dignio is one example.", "These are two examples.": a sentence that only introduces an example named next.
_POINTER = re.compile(
    r"^[\w’'&-]+(?: [\w’'&-]+){0,3} (?:is|are|was|were) (?:one|an|another|two|three|some|a good|a great|just one) "
    r"(?:such )?examples?\.?$",
    re.I,
)


def points_elsewhere(sentence: str) -> bool:
    return bool(_POINTER.match(sentence.strip()))
