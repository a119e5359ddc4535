"""A conversation, not a search box (real model, real index of corpus/): small talk, contact requests, typos in
names, section headings, answers that must name what was asked, and answers about the present."""

import re
from types import SimpleNamespace

import pytest

from assistant.engine import NOT_FOUND, PUBLIC_ONLY, STAFF_VIEW, Assistant
from assistant.engine.dated import as_of, asks_about_present, without_present
from assistant.engine.intent import IntentClassifier
from assistant.engine.overview import Overview
from assistant.engine.spelling import Vocabulary
from assistant.models import CONTACT, DOCUMENTS, SMALL_TALK, Chunk

SMALL_TALK_MESSAGES = [
    "hi",
    "Hello!",
    "Good morning",
    "thanks",
    "thank you!",
    "bye for now",
    "who are you?",
    "what are you?",
    "what can you do?",
    "what can you help me with",
    "how does this work?",
]
CONTACT_MESSAGES = ["how do i contact you", "Can I speak to someone?", "phone number?", "I need to talk to a human"]


@pytest.mark.parametrize("message", SMALL_TALK_MESSAGES)
def test_small_talk_gets_a_friendly_reply_not_a_search(assistant: Assistant, message: str) -> None:
    answer = assistant.ask(message)
    assert answer.kind == SMALL_TALK and not answer.abstained and not answer.citations and not answer.hits
    assert NOT_FOUND not in answer.text
    assert "The four Ds" in answer.text or message.lower().startswith(("thank", "bye"))  # what it covers
    assert "person" in answer.text  # and how to reach one
    assert answer.to_json()["kind"] == "smalltalk" and answer.to_json()["handoff"] is False


@pytest.mark.parametrize("message", CONTACT_MESSAGES)
def test_asking_for_a_person_opens_the_hand_off(assistant: Assistant, message: str) -> None:
    answer = assistant.ask(message)
    assert answer.kind == CONTACT and answer.handoff and answer.to_json()["handoff"] is True
    assert not answer.citations and NOT_FOUND not in answer.text


@pytest.mark.parametrize(
    "question",
    ["What can you tell me about Dignio?", "Hi, what is PIONEER?", "How do I contact PIONEER?", "ok so who funds it"],
)
def test_questions_are_not_small_talk(assistant: Assistant, question: str) -> None:
    assert assistant.ask(question).kind == DOCUMENTS


def test_short_forms_and_long_messages_need_no_model(embedder) -> None:  # type: ignore[no-untyped-def]
    classifier = IntentClassifier(embedder)
    assert classifier.classify("Hi!", False).name == "greeting"  # type: ignore[union-attr]
    assert classifier.classify("  THANK YOU  ", False).name == "thanks"  # type: ignore[union-attr]
    long = "hello, " + "we are a company in Birmingham looking for partners " * 2
    assert classifier.classify(long, False) is None  # an enquiry that opens with a greeting
    assert classifier._vectors is None  # none of these needed the examples embedded


def test_a_mistyped_name_is_read_as_the_name_and_says_so(assistant: Assistant) -> None:
    answer = assistant.ask("wat is pioner")
    assert [(c.typed, c.read) for c in answer.corrections] == [("pioner", "PIONEER")]
    assert answer.text.startswith("Showing results for PIONEER.") and not answer.abstained
    assert "PIONEER Health Data Research Hub" in answer.text
    dignio = assistant.ask("tell me about dignoi")
    assert dignio.text.startswith("Showing results for Dignio.") and "Dignio’s Connected Care" in dignio.text


def test_real_words_and_near_misses_are_left_alone() -> None:
    vocabulary = Vocabulary(["The region is home to Salts Healthcare and Bruker, and to PIONEER, a data hub."])
    assert vocabulary.correct("is there a broker for data?") == ("is there a broker for data?", [])  # English
    assert vocabulary.correct("what is xioneer")[1] == []  # the first letter differs
    assert vocabulary.correct("what is pionner")[1][0].read == "PIONEER"
    assert vocabulary.correct("what is pionr")[1] == []  # two edits in a short word: too far


POSSESSIVES_AND_PLURALS = [
    "What does the Trust's hub do?",
    "Where is Dignio’s base?",
    "What do Salts' staff make?",
    "Do you cover wearables?",
    "Which brokers are there?",
    "Is the scene well networked?",
    "Who is managing it?",
]


@pytest.mark.parametrize("typed", POSSESSIVES_AND_PLURALS)
def test_a_possessive_or_plural_of_a_known_word_is_no_typo(typed: str) -> None:
    vocabulary = Vocabulary(
        ["The Trust works with Dignio, Salts Healthcare and makers of a wearable sensor.", "The Network helps."]
    )
    assert vocabulary.correct(typed) == (typed, [])


def test_corrections_come_only_from_documents_the_asker_may_see() -> None:
    def chunk(id_: str, text: str, visibility: str) -> Chunk:
        return Chunk(id_, text, (text,), "T", "", f"{id_}.md", None, None, "h", 0, {"visibility": visibility})

    index = SimpleNamespace(
        chunks=[chunk("a", "PIONEER is a hub.", "public"), chunk("b", "Zorblax is secret.", "staff")]
    )
    overview = Overview(index)  # type: ignore[arg-type]
    assert overview.vocabulary(STAFF_VIEW).correct("what is zorblaks")[1][0].read == "Zorblax"
    assert overview.vocabulary(PUBLIC_ONLY).correct("what is zorblaks")[1] == []  # never reveals a staff name
    assert overview.vocabulary(PUBLIC_ONLY).correct("what is pioner")[1][0].read == "PIONEER"


def test_a_named_section_is_answered_from_its_opening(assistant: Assistant) -> None:
    answer = assistant.ask("what's the four ds")
    assert not answer.abstained and answer.citations[0].section == "The four Ds"
    assert answer.text.startswith("The West Midlands possesses nationally recognised strengths in healthcare data")
    assert 0 <= answer.timings["compose"] <= answer.timings["total"]  # timed from when the section was found
    institutes = assistant.ask("Tell me about the regional research institutes")
    assert institutes.citations[0].section == "Regional research institutes"


def test_an_answer_must_speak_of_what_the_question_names(assistant: Assistant) -> None:
    # Each of these used to be answered from a sentence about something else, the first at confidence 0.93.
    for question in ["What is the PIONEER Data Council?", "What is the West Midlands Health Authority?"]:
        assert assistant.ask(question).abstained, question
    authority = assistant.ask("What is the West Midlands Combined Authority?")
    assert authority.abstained or "Combined Authority" in authority.text


def test_a_question_about_now_is_answered_with_the_date_of_what_it_quotes(assistant: Assistant) -> None:
    answer = assistant.ask("Is Babylon still operating?")
    assert answer.text.startswith("As of 25 November 2026, the cluster's documents say: Babylon is a large British")
    assert "does not say whether this is still the case" in answer.text
    assert answer.citations[0].date == "2026-11-25"
    plain = assistant.ask("Who can get access to PIONEER data?")
    assert "As of" not in plain.text and plain.citations[0].date == "2026-11-25"


def test_words_about_now() -> None:
    assert asks_about_present("Does PIONEER currently accept applicants?") and not asks_about_present("What is it?")
    assert without_present("Is Babylon still operating?") == "Is Babylon operating?"
    assert without_present("What is the latest report?") == "What is the latest report?"  # "latest" names it
    assert without_present("still?") == "still?"  # nothing would be left


def test_undated_documents_say_so(assistant: Assistant) -> None:
    chunk = assistant.index.chunks[0]
    undated = type(chunk)(**{**chunk.__dict__, "metadata": {}})
    assert re.search(r"carry no date", as_of("X.", [undated]))
    fetched = type(chunk)(**{**chunk.__dict__, "metadata": {"fetched": "2026-01-02"}})
    assert as_of("X.", [fetched]).startswith("As of 2 January 2026,")


def test_a_question_is_embedded_once_even_when_the_small_talk_check_needed_it(assistant: Assistant) -> None:
    calls: list[list[str]] = []

    class Counting:
        model_id = assistant.embedder.model_id

        def encode(self, texts):  # type: ignore[no-untyped-def]
            calls.append(list(texts))
            return assistant.embedder.encode(texts)

        def count_tokens(self, text: str) -> int:
            return assistant.embedder.count_tokens(text)

    counted = Assistant(assistant.settings, Counting(), assistant.store, assistant.calibration)
    counted.ask("what can you help me with")  # the intent examples are embedded once, on first use
    calls.clear()
    # Names nothing, so the classifier embeds it. ("Which companies are based in the region?" is declined now: its
    # best sentence names no company.)
    answer = counted.ask("What does the region have to offer?")
    assert not answer.abstained and calls == [["What does the region have to offer?"]]


def test_a_follow_up_does_not_quote_again_what_the_previous_answer_said(assistant: Assistant) -> None:
    """Issue 30: follow-ups repeated the PIONEER opener ("A great example of what our region has to offer…")."""
    first = assistant.ask("What is PIONEER?")
    opener = "A great example of what our region has to offer in this space is PIONEER Health Data Research Hub."
    assert opener in first.text
    again = assistant.ask("Who can use its data?", ["What is PIONEER?"], said=first.text)
    assert "data access under license" in again.text and opener not in again.text
    alone = assistant.ask("Who can use its data?", ["What is PIONEER?"])
    assert opener in alone.text  # without the previous answer, the sentence that names the hub comes with it
