"""The public chat's steps without a browser, on the real corpus and a real SQLite desk: an extractive answer shown
whole at once with its own sources; ratings stored against the message rated, once per answer."""

from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.config import MAX_HISTORY_ITEMS, MAX_RATEABLE_ANSWERS, MAX_SHOWN_MESSAGES, MAX_TRANSCRIPT_TURNS
from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.desk.tables import Feedback, QuestionLog
from assistant.engine.assistant import Assistant
from ui.chat import comment_on, rate, respond
from ui.chat_state import new_state, questions_of


@pytest.fixture
def desk(assistant: Assistant, tmp_path: Path) -> Desk:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    return Desk.open(settings, assistant, open_database(settings))


def converse(desk: Desk, *questions: str) -> tuple[list[dict], dict]:  # type: ignore[type-arg]
    history: list[dict] = []  # type: ignore[type-arg]
    state = new_state()
    for question in questions:
        *_, last = respond(desk, question, state)
        history, state = last[0]["value"], last[2]
    return history, state


def test_an_extractive_answer_arrives_whole_in_one_update_with_its_own_sources(desk: Desk) -> None:
    updates = list(respond(desk, "What is PIONEER?", new_state()))
    assert len(updates) == 1
    chatbot, box, state, *_ = updates[0]
    shown = chatbot["value"][-1]
    assert shown["role"] == "assistant" and "PIONEER" in shown["content"] and box == ""
    assert "(#m1-source-1)" in shown["content"] and 'id="m1-source-1"' in shown["content"]
    assert state["answers"]["1"]["question"] == "What is PIONEER?"


def test_each_answer_links_to_its_own_cards(desk: Desk) -> None:
    history, state = converse(desk, "What is PIONEER?", "What are the four Ds?", "What is PIONEER?")
    assert sorted(state["answers"]) == ["1", "3", "5"]
    for index in (1, 3, 5):
        content = history[index]["content"]
        assert f"(#m{index}-source-1)" in content and f'id="m{index}-source-1"' in content
        others = {1, 3, 5} - {index}
        assert not any(f"#m{other}-" in content or f'"m{other}-' in content for other in others)


def test_a_rating_is_stored_against_the_answer_rated_once_and_can_be_taken_back(desk: Desk) -> None:
    _history, state = converse(desk, "What is PIONEER?", "What are the four Ds?")
    state, box, status = rate(desk, False, 1, state)  # the first answer, not the latest
    assert box["visible"] is True and status == "" and state["commenting"] == "1"
    state, box, text, status = comment_on(desk, "It did not say who may use the data", state)
    assert "comment was recorded" in status and text == "" and box["visible"] is False
    state, *_ = rate(desk, True, 3, state)
    state, *_ = rate(desk, False, 3, state)  # changed their mind: still one rating of that answer
    with desk.sessions() as session:
        rows = {f.question: f for f in session.scalars(select(Feedback))}
        asked = {q.id: q.question for q in session.scalars(select(QuestionLog))}
    assert set(rows) == {"What is PIONEER?", "What are the four Ds?"}
    first, second = rows["What is PIONEER?"], rows["What are the four Ds?"]
    assert (first.rating, first.comment, first.channel) == ("down", "It did not say who may use the data", "chat")
    assert (second.rating, second.comment) == ("down", None)
    assert (
        asked[first.question_id or 0] == "What is PIONEER?"
        and asked[second.question_id or 0] == "What are the four Ds?"
    )
    state, *_ = rate(desk, "", 3, state)  # the same thumb clicked again
    with desk.sessions() as session:
        assert [f.question for f in session.scalars(select(Feedback))] == ["What is PIONEER?"]


def test_a_comment_needs_a_rated_answer_and_words(desk: Desk) -> None:
    _history, state = converse(desk, "What is PIONEER?")
    assert "Rate an answer first" in comment_on(desk, "Great", state)[3]
    state, *_ = rate(desk, True, 1, state)
    assert "Write a comment first" in comment_on(desk, "   ", state)[3]
    assert "under 2000 characters" in comment_on(desk, "x" * 2001, state)[3]
    rate(desk, True, 0, state)  # the visitor's own message (or a greeting): not an answer, nothing stored
    with desk.sessions() as session:
        assert len(list(session.scalars(select(Feedback)))) == 1


def test_a_long_session_keeps_a_bounded_state(desk: Desk) -> None:
    """One anonymous visitor asking on and on: the server keeps the latest answers to rate and turns to hand off."""
    history, state = converse(desk, *["What is PIONEER?"] * (MAX_RATEABLE_ANSWERS + 5))
    asked = 2 * (MAX_RATEABLE_ANSWERS + 5)  # messages in the whole conversation
    assert len(history) == len(state["messages"]) == MAX_SHOWN_MESSAGES and state["dropped"] == asked - len(history)
    assert len(state["answers"]) == MAX_RATEABLE_ANSWERS and str(asked - 1) in state["answers"]
    assert len(state["transcript"]) == min(MAX_TRANSCRIPT_TURNS, asked)
    assert questions_of(state) == ["What is PIONEER?"] * MAX_HISTORY_ITEMS  # what a follow-up resolves against
    state, *_ = rate(desk, True, len(history) - 1, state)  # the latest can still be rated (its index on screen)
    assert list(state["ratings"]) == [str(asked - 1)]
    assert f'id="m{asked - 1}-source-1"' in history[-1]["content"]  # card ids stay unique as messages leave


def test_thumbs_already_given_stay_shown_when_the_conversation_grows(desk: Desk) -> None:
    _history, state = converse(desk, "What is PIONEER?")
    state, *_ = rate(desk, False, 1, state)
    *_, last = respond(desk, "What are the four Ds?", state)
    assert last[0]["feedback_value"] == ["Dislike", None]  # without it Gradio showed every thumb unrated again


def test_a_rating_given_while_the_next_answer_is_written_is_kept(desk: Desk) -> None:
    """Gradio runs a rating while a written answer still streams, on the same session state: the answer, when it
    ends, must not put back the state it started from (the thumb would show unrated, and a changed mind would
    then count twice)."""
    _history, state = converse(desk, "What is PIONEER?")
    answering = respond(desk, "What are the four Ds?", state)  # started; runs on the first update
    rate(desk, True, 1, state)  # meanwhile, the visitor likes the first answer
    *_, last = answering
    assert last[2]["ratings"]["1"]["rating"] == "up" and last[0]["feedback_value"] == ["Like", None]


def test_a_refused_question_stays_in_the_conversation_the_server_keeps(desk: Desk) -> None:
    """The conversation is the server's: a question refused with a message stays on screen when the next one is
    answered (the Chatbot's value is never read back from the client)."""
    state = new_state()
    *_, refused = respond(desk, "x" * 10_000, state)
    assert len(refused[0]["value"]) == 2 and len(state["messages"]) == 2
    *_, last = respond(desk, "What is PIONEER?", state)
    assert len(last[0]["value"]) == 4 and last[0]["value"][1] == refused[0]["value"][1]
