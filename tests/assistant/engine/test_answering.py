"""End to end with the real model and a real Chroma store of corpus/: answers, citations, abstention, limits."""

import json
import re

import pytest

from assistant.engine.assistant import Assistant
from assistant.errors import InvalidQuestion
from tests.helpers import SHARED_EVAL


def _passes(assistant: Assistant, case: dict) -> tuple[bool, str]:  # type: ignore[type-arg]
    turns = case.get("turns") or [case["question"]]
    answer = assistant.ask(turns[-1], turns[:-1])
    if case.get("expect_abstain"):
        return answer.abstained, answer.text
    lead = re.sub(r"\s*\[\d+\]", "", answer.text)[:300].lower()
    return (not answer.abstained and any(s.lower() in lead for s in case["expect_any"])), answer.text


def test_seed_golden_set(assistant: Assistant) -> None:
    cases = [json.loads(line) for line in (SHARED_EVAL / "seed-dev.jsonl").read_text().splitlines() if line.strip()]
    results = {case["id"]: _passes(assistant, case) for case in cases}
    failures = {id_: text for id_, (ok, text) in results.items() if not ok}
    assert len(cases) - len(failures) >= 10, failures


def test_answer_is_cited_to_the_corpus(assistant: Assistant) -> None:
    answer = assistant.ask("Who can get access to PIONEER data?")
    assert not answer.abstained and answer.citations
    assert re.search(r"\[1\]", answer.text)
    first = answer.citations[0]
    assert first.title == "Health Tech in the West Midlands"
    assert "corpus/health-tech-west-midlands.md#" in first.source
    # One card per section: its snippet holds every sentence quoted from that section, each the document's own.
    passages = " ".join(h.chunk.text for h in answer.hits)
    assert first.snippet and all(s in passages for s in re.split(r"(?<=\.) ", first.snippet))
    assert set(answer.timings) == {"retrieve", "compose", "total"}
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers == {c.n for c in answer.citations}


@pytest.mark.parametrize(
    "question", ["What's the capital of Australia?", "Who won the football world cup in 1966?", "asdf qwerty zxcv"]
)
def test_off_topic_questions_are_abstained(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and not answer.citations
    assert "couldn't find" in answer.text and "can help with" in answer.text and "person" in answer.text


def test_every_answer_sentence_is_from_the_documents(assistant: Assistant) -> None:
    corpus = " ".join(c.text for c in assistant.index.chunks)
    for question in [
        "What is PIONEER?",
        "Where does Dignio come from?",
        "Which universities are in the West Midlands?",
    ]:
        answer = assistant.ask(question)
        for sentence in re.split(r"\s*\[\d+\]\s*", answer.text):
            assert sentence.strip() in corpus


def test_medical_advice_is_signposted_and_flagged(assistant: Assistant) -> None:
    answer = assistant.ask("I have had a headache for a week, what medication should I take?")
    assert answer.abstained and answer.flagged == "clinical_advice"
    assert "NHS 111" in answer.text and "GP" in answer.text and not answer.citations


def test_follow_up_uses_the_conversation(assistant: Assistant) -> None:
    answer = assistant.ask("Who can use its data?", ["What is PIONEER?"])
    assert answer.resolved_question == "Who can use PIONEER's data?"
    assert not answer.abstained and "PIONEER" in " ".join(c.snippet for c in answer.citations)
    # About the new question: who may have the data (the Hub's licence), not the sentence that repeats the name.
    assert "data access under license" in answer.text
    assert "central repository" not in answer.text


@pytest.mark.parametrize(
    ("question", "expected", "not_expected"),
    [
        ("Who can get access to PIONEER data?", "data access under license", "central repository"),
        ("Who holds the PIONEER hub's data?", "central repository", "under license"),
    ],
)
def test_a_question_about_a_named_entity_gets_the_sentence_that_answers_it(
    assistant: Assistant, question: str, expected: str, not_expected: str
) -> None:
    """The sentence answering may only refer to the entity ("The Hub can provide…"); the one repeating the name
    must not win for that alone."""
    answer = assistant.ask(question)
    assert expected in answer.text and not_expected not in answer.text


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 2001])
def test_empty_or_huge_questions_are_refused(assistant: Assistant, question: str) -> None:
    with pytest.raises(InvalidQuestion):
        assistant.ask(question)


def test_odd_input_is_answered_or_abstained_without_error(assistant: Assistant) -> None:
    for question in ["<script>alert(1)</script>", "PIONEER " * 240, "¿Qué es PIONEER? 数据", "\x00\x01?"]:
        answer = assistant.ask(question)
        assert isinstance(answer.text, str) and answer.text
