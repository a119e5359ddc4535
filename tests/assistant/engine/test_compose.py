"""Pure logic of composing (rerank, select) and of abstention (signals, confidence), on a small index built with a
deterministic fake embedder (LangChain's `DeterministicFakeEmbedding`, wired as the real one is). Fast; the real model's
end-to-end answers are in test_answering.py."""

import math

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.engine.calibration import SIGNALS, confidence, name_coverage, signals
from assistant.engine.compose import LEAD_CHARS, ScoredSentence, rerank, score_sentences, select
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.terms import terms
from assistant.models import Chunk, Hit

FAKE = DeterministicFakeEmbedding(size=384)
PASSAGES = {
    "pioneer": [
        "PIONEER is a health data research hub for acute care.",
        "It links patient data across hospital providers in Birmingham.",
        "The hub can provide data access under licence to NHS and commercial organisations.",
    ],
    "dignio": ["Dignio is a Norwegian company.", "The company makes remote patient monitoring software."],
    "region": ["The region has over 6,500 medical graduates each year."],
}


def _vectors(texts: list[str]) -> np.ndarray:
    matrix = np.asarray(FAKE.embed_documents(texts), dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def index() -> AnswerIndex:
    chunks = [
        Chunk(name, " ".join(sentences), tuple(sentences), name.title(), "", f"{name}.md", None, None, "h", i, {})
        for i, (name, sentences) in enumerate(PASSAGES.items())
    ]
    sentence_vectors = {c.id: _vectors(list(c.sentences)) for c in chunks}
    return AnswerIndex.from_rows(chunks, sentence_vectors, _vectors([c.text for c in chunks]))


def _scored(index: AnswerIndex, chunk_id: str, j: int, score: float, rank: int = 0) -> ScoredSentence:
    chunk = next(c for c in index.chunks if c.id == chunk_id)
    return ScoredSentence(chunk, j, chunk.sentences[j], rank, score, score, 0.5)


def _hit(index: AnswerIndex, chunk_id: str, dense: float = 0.5) -> Hit:
    return Hit(next(c for c in index.chunks if c.id == chunk_id), 0.1, dense, 1, 1)


def test_rerank_keeps_the_passages_with_the_best_sentences(index: AnswerIndex) -> None:
    hits = [_hit(index, "pioneer"), _hit(index, "dignio"), _hit(index, "region")]
    scored = [_scored(index, "region", 0, 0.9), _scored(index, "pioneer", 2, 0.8), _scored(index, "dignio", 0, 0.2)]
    kept, sentences = rerank(hits, scored, 2)
    assert [h.chunk.id for h in kept] == ["region", "pioneer"]
    assert {s.chunk.id for s in sentences} == {"region", "pioneer"}


def test_select_leads_with_the_best_and_adds_close_runners_up(index: AnswerIndex) -> None:
    scored = [_scored(index, "dignio", 0, 1.0), _scored(index, "region", 0, 0.8), _scored(index, "pioneer", 0, 0.2)]
    chosen = select(scored, index)
    # The best sentence brings the one continuing it ("The company …"); 0.8 is close to 1.0, 0.2 is not.
    assert [s.text for s in chosen] == [*PASSAGES["dignio"], PASSAGES["region"][0]]
    assert sum(len(s.text) + 1 for s in chosen) - 1 <= LEAD_CHARS
    assert select([], index) == []


def test_select_quotes_a_referring_sentence_with_its_antecedent(index: AnswerIndex) -> None:
    chosen = select([_scored(index, "pioneer", 1, 1.0)], index)  # "It links patient data …"
    assert [s.text for s in chosen][:2] == PASSAGES["pioneer"][:2]


def test_select_never_exceeds_the_lead(index: AnswerIndex) -> None:
    scored = [_scored(index, "pioneer", j, 1.0 - j / 100) for j in range(3)]
    chosen = select(scored, index, lead_chars=80)
    assert [s.index for s in chosen] == [0]  # a runner-up that does not fit is left out


def test_signals_and_confidence(index: AnswerIndex) -> None:
    question = "Who can get data access from the hub?"
    hits = [_hit(index, "pioneer", dense=0.6)]
    vector = _vectors([question])[0]
    scored = score_sentences(question, set(terms(question)), vector, hits, index)
    values = signals(question, set(terms(question)), hits, scored, index)
    assert set(values) == set(SIGNALS) and values["top_dense"] == pytest.approx(0.6)
    assert values["best_coverage"] > 0  # "data", "access", "hub" are in the passage
    assert values["name_coverage"] == 1.0  # it names nothing, so misses nothing
    assert signals("", set(), [], [], index) == dict.fromkeys(SIGNALS, 0.0)
    weights = {name: 1.0 for name in SIGNALS}
    assert confidence(dict.fromkeys(SIGNALS, 0.0), weights, 0.0) == pytest.approx(0.5)
    assert confidence(values, weights, -1.0) == pytest.approx(1 / (1 + math.exp(1 - sum(values.values()))))
    higher = {**values, "best_coverage": values["best_coverage"] + 0.5}
    assert confidence(higher, weights, -1.0) > confidence(values, weights, -1.0)  # more evidence, more confident


def test_name_coverage_is_the_share_of_asked_names_the_passage_speaks_of(index: AnswerIndex) -> None:
    passage = _hit(index, "pioneer", dense=0.6)
    assert name_coverage("Who can use PIONEER data?", passage, index) == 1.0
    assert name_coverage("Did PIONEER open on Mount Etna in 1850?", passage, index) == pytest.approx(1 / 3)
    assert name_coverage("How hot is lava?", passage, index) == 1.0


def test_an_answer_never_ends_on_a_sentence_that_only_points_at_an_example() -> None:
    """Issue 30: answers ended "… Dignio is one example."; the example it introduces is not quoted after it."""
    sentences = ("Small companies with big ideas are growing in the region.", "Dignio is one example.")
    chunk = Chunk("small", " ".join(sentences), sentences, "Small", "", "small.md", None, None, "h", 0, {})
    index = AnswerIndex.from_rows([chunk], {"small": _vectors(list(sentences))}, _vectors([chunk.text]))
    chosen = select([_scored(index, "small", 0, 1.0), _scored(index, "small", 1, 0.9)], index)
    assert [s.text for s in chosen] == [sentences[0]]
