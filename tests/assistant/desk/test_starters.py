"""The chat's automatic starters: headings asked as plain questions, and only those the assistant answers."""

from collections import Counter

import pytest

from assistant.desk.starters import TRIED_PER_STARTER, as_question, automatic_starters, word_casing
from assistant.engine import PUBLIC_ONLY
from assistant.engine.assistant import Assistant

CASING = word_casing(
    [
        "The region has a varied landscape of funding and support for health technology. It is regional and "
        "national, and health data is held by the PIONEER Health Data Research Hub in the West Midlands."
    ]
)


@pytest.mark.parametrize(
    ("heading", "question"),
    [
        ("Regional Landscape", "What is the regional landscape?"),
        ("The four Ds", "What are the four Ds?"),
        ("Regional research institutes", "What are the regional research institutes?"),
        ("PIONEER Health Data Research Hub", "What is PIONEER Health Data Research Hub?"),  # a name keeps capitals
        ("Health Data in the West Midlands", "What is the health data in the West Midlands?"),
        ("Funding and Support", "What is the funding and support?"),
        ("Our Members", "What are our members?"),
        ("1. Introduction", None),  # not words
        ("Getting in touch with", None),
    ],
)
def test_a_heading_is_asked_as_a_plain_question(heading: str, question: str | None) -> None:
    assert as_question(heading, CASING) == question


def test_capitals_follow_how_the_documents_write_a_word() -> None:
    casing = word_casing(["We met the Binding Site team, and the site was busy; the Binding Site grew."])
    assert casing["binding"] == -2 and casing["site"] == -1  # twice capitalised mid-sentence, once lower
    assert as_question("Binding Site", casing) == "What is Binding Site?"
    assert as_question("Binding Site", Counter()) == "What is the binding site?"


def test_the_corpus_starters_are_questions_the_chat_answers(assistant: Assistant) -> None:
    starters = automatic_starters(assistant, 4)
    assert len(starters) >= 3, starters
    for starter in starters:
        assert starter.startswith("What ") and starter.endswith("?"), starter
        answer = assistant.ask(starter, [], PUBLIC_ONLY)
        assert not answer.abstained and answer.citations, (starter, answer.text)
    assert not any("COVID" in s or s.startswith("Tell me about") for s in starters)


def test_a_starter_the_assistant_would_not_answer_is_left_out(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = automatic_starters(assistant, 4)
    refused = every[0]
    original = assistant.answers
    monkeypatch.setattr(assistant, "answers", lambda q, visible=None: q != refused and original(q, visible))
    assert automatic_starters(assistant, 4) == every[1:]


def test_answers_agrees_with_ask(assistant: Assistant) -> None:
    for question in ["What are the four Ds?", "What is PIONEER?", "What's the capital of Australia?", "hello"]:
        assert assistant.answers(question) == (not assistant.ask(question).abstained and question != "hello")


def test_start_up_checks_a_bounded_number_of_headings(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many sections a corpus has, start-up decides a few dozen questions at most."""
    checked: list[str] = []
    headings = [f"Topic {chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(500)]  # 500 sections
    monkeypatch.setattr("assistant.desk.starters.subjects", lambda chunks: headings)
    monkeypatch.setattr(assistant, "answers", lambda q, visible=None: checked.append(q) or False)
    assert automatic_starters(assistant, 4) == []
    assert len(checked) == 4 * TRIED_PER_STARTER
