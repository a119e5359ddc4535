"""Pure-logic units: fusion, answer types, follow-ups, the clinical guard, citation numbering."""

import pytest

from assistant.engine.answer_types import asked_type, holds
from assistant.engine.cite import anchor, cite
from assistant.engine.compose import ScoredSentence, is_continuation
from assistant.engine.followup import resolve
from assistant.engine.guard import is_clinical_advice_request
from assistant.engine.retrieve import fuse
from assistant.models import Chunk


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = fuse([["a", "b", "c"], ["b", "d", "a"]])
    assert [id_ for id_, _ in fused][:2] == ["b", "a"]
    assert {id_ for id_, _ in fused} == {"a", "b", "c", "d"}
    assert fuse([]) == []


def test_one_ranking_keeps_its_order() -> None:
    assert [i for i, _ in fuse([["x", "y", "z"]])] == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many graduates are there?", "number"),
        ("When was it agreed?", "date"),
        ("Which companies?", "name"),
        ("What is PIONEER?", None),
    ],
)
def test_expected_answer_type(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


def test_answer_type_needs_a_new_name_number_or_date() -> None:
    assert holds("name", "The region is home to Salts Healthcare and Kimal.", "Which companies?")
    assert not holds("name", "Our region is home to small companies.", "Which companies?")
    assert holds("date", "In 2020 they agreed a partnership.", "When?")
    assert is_continuation("This is a major research database.") and not is_continuation("PIONEER holds data.")


@pytest.mark.parametrize(
    ("history", "question", "resolved"),
    [
        (["What is PIONEER?"], "Who can use its data?", "Who can use PIONEER's data?"),
        (["Tell me about the PIONEER hub"], "Who holds its data?", "Who holds PIONEER hub's data?"),
        (["What is Dignio?"], "Who is it for?", "Who is Dignio for?"),
        (["Who is Babylon?", "What did they agree?"], "Where is it based?", "Where is Babylon based?"),
        (["What is PIONEER?"], "Which universities are in the region?", "Which universities are in the region?"),
        ([], "Who is it for?", "Who is it for?"),
        # A noun phrase that points back: the subject itself for its kind of thing, else the subject's.
        (["What is PIONEER?"], "What does that hub hold?", "What does PIONEER hold?"),
        (["What is Dignio?"], "Where is the company based?", "Where is Dignio based?"),
        # A name after an opening "Is", and in the possessive: the subject is the name itself.
        (
            ["Is Dignio's product aimed at patients?"],
            "Is the firm shrinking or expanding?",
            "Is Dignio shrinking or expanding?",
        ),
        (
            ["Which universities are in the West Midlands?"],
            "What do those universities research?",
            "What do West Midlands universities research?",
        ),
        (["What is PIONEER?"], "Who can use the data?", "Who can use PIONEER data?"),
        (["What is PIONEER?"], "How do I join the cluster?", "How do I join the cluster?"),
        (["What is PIONEER?"], "Is the company Dignio British?", "Is the company Dignio British?"),
    ],
)
def test_follow_ups_are_resolved_against_earlier_turns(history: list[str], question: str, resolved: str) -> None:
    assert resolve(question, history) == resolved


@pytest.mark.parametrize(
    "question",
    [
        "I have chest pain, what should I do?",
        "What is the best treatment for asthma?",
        "Should I take ibuprofen?",
        "My son has a rash and a fever",
        "How do I treat high blood pressure?",
        "What dose of insulin should I take?",
        "I was diagnosed with diabetes last week, what now?",
    ],
)
def test_medical_advice_is_caught(question: str) -> None:
    assert is_clinical_advice_request(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is PIONEER?",
        "Which companies work on diagnostics?",
        "Who can access patient data for research?",
        "What did the NHS Trust agree with Babylon?",
        "Which universities train health professionals?",
        "Can you put me in touch with a diagnostics company?",  # the sector, not a diagnosis
        "I run a diagnostics start-up in Coventry: can my company get support?",
    ],
)
def test_sector_questions_are_not_caught(question: str) -> None:
    assert not is_clinical_advice_request(question)


def _chunk(id_: str, sentences: tuple[str, ...], section: str = "S", page: int | None = None) -> Chunk:
    return Chunk(id_, " ".join(sentences), sentences, "Title", section, "docs/a.md", None, page, "h", 0)


def test_citations_are_numbered_by_first_use_and_shared_per_passage() -> None:
    a = _chunk("a", ("A one.", "A two."))
    b = _chunk("b", ("B one.",), page=3)
    chosen = [
        ScoredSentence(a, 0, "A one.", 0, 1, 1, 1),
        ScoredSentence(b, 0, "B one.", 1, 1, 1, 1),
        ScoredSentence(a, 1, "A two.", 0, 1, 1, 1),
    ]
    text, citations = cite(chosen)
    assert text == "A one. [1] B one. [2] A two. [1]"
    assert [(c.n, c.snippet) for c in citations] == [(1, "A one. A two."), (2, "B one.")]
    assert citations[1].source == "docs/a.md#page=3"
    assert anchor(_chunk("c", ("x",), section="Regional Landscape")) == "docs/a.md#regional-landscape"


def test_one_card_per_section_with_every_sentence_quoted_from_it() -> None:
    """Issue 30: two passages of one section were two cards with the same title and section."""
    first = Chunk("p0", "S one. S two.", ("S one.", "S two."), "Title", "The four Ds", "docs/a.md", None, None, "h", 0)
    second = Chunk("p1", "S three.", ("S three.",), "Title", "The four Ds", "docs/a.md", None, None, "h", 1)
    chosen = [ScoredSentence(second, 0, "S three.", 0, 1, 1, 1), ScoredSentence(first, 1, "S two.", 1, 1, 1, 1)]
    text, citations = cite(chosen)
    assert text == "S three. [1] S two. [1]"
    assert [(c.n, c.section, c.snippet) for c in citations] == [(1, "The four Ds", "S two. S three.")]
