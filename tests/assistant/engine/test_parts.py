"""Several questions in one message: splitting (pure rules), and answers per part with one citation numbering."""

import pytest

from assistant.engine.assistant import Assistant
from assistant.engine.followup import resolve
from assistant.engine.guard import is_clinical_advice_request
from assistant.engine.parts import MAX_PARTS, asks_anything, split_message, split_with_context


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "Hi, I run a medtech start-up in Solihull. Two questions: which organisation can give us patient data, "
            "and does the region produce many graduates we could hire?",
            ["Which organisation can give us patient data?", "Does the region produce many graduates we could hire?"],
        ),
        (
            "Could you tell me what the region is known for? Also, which companies are based there?",
            ["Could you tell me what the region is known for?", "Which companies are based there?"],
        ),
        (
            "Does the cluster have links to manufacturing? We need a partner to scale production.",
            ["Does the cluster have links to manufacturing?", "We need a partner to scale production."],
        ),
    ],
)
def test_a_message_is_split_into_its_questions_and_requests(message: str, parts: list[str]) -> None:
    assert split_message(message) == parts


@pytest.mark.parametrize(
    "message",
    [
        "What is PIONEER?",
        "Where and when is the event?",  # too short to be two questions
        "Which trust partnered with a technology company, and with which company?",  # "and with" asks no new thing
        "Hello, we design ventilators and are new to the area. Was the region involved in the challenge?",
        "hi",
        "Tell me about Dignio",
    ],
)
def test_one_question_is_the_message_itself(message: str) -> None:
    assert split_message(message) == [message]


def test_parts_are_bounded() -> None:
    assert len(split_message(" ".join(f"What is item number {i}?" for i in range(20)))) == MAX_PARTS


def test_a_place_named_before_resolves_there_but_not_an_existential_there() -> None:
    earlier = ["Could you tell me what the West Midlands is known for?"]
    assert resolve("Which companies are based there?", earlier) == "Which companies are based in West Midlands?"
    assert resolve("Is there a hub?", earlier) == "Is there a hub?"
    assert resolve("Are there any?", earlier) == "Are there any?"


def test_each_part_is_answered_and_cited_with_one_numbering(assistant: Assistant) -> None:
    answer = assistant.ask(
        "Which organisation can give us access to patient data, and does the region produce many graduates?"
    )
    assert not answer.abstained and len(answer.parts) == 2
    assert all(not p.abstained and p.citations for p in answer.parts)
    assert "6,500" in answer.parts[1].text
    numbers = sorted({c.n for p in answer.parts for c in p.citations})
    assert numbers == [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert answer.parts[0].question in answer.text and answer.parts[1].text in answer.text


def test_parts_the_documents_do_not_answer_are_named_for_a_person(assistant: Assistant) -> None:
    answer = assistant.ask("Where does Dignio come from? Also, who won the football world cup in 1966?")
    assert not answer.abstained and [p.abstained for p in answer.parts] == [False, True]
    assert "Norwegian" in answer.text and "a person from the cluster team can help" in answer.text
    assert "world cup" in answer.text  # the open question is named, not answered
    nothing = assistant.ask("Who won the world cup in 1966? And what is the capital of Australia?")
    assert nothing.abstained and not nothing.citations and "couldn't find" in nothing.text


def test_medical_advice_anywhere_is_signposted_first_and_the_rest_answered(assistant: Assistant) -> None:
    answer = assistant.ask("I have a bad rash on my arm, what cream should I use? Also, where does Dignio come from?")
    assert answer.flagged == "clinical_advice" and answer.text.startswith("I can't give medical advice")
    assert "NHS 111" in answer.text and "Norwegian" in answer.text
    assert "cream" not in answer.text.split("NHS 111", 1)[1]  # the medical question is not answered


# E-mail as people write it (issue 29): each of these was one "question" (or none) before.


def test_a_lead_in_of_any_length_ending_in_a_colon_is_dropped() -> None:
    message = (
        "I hope you are keeping well. A couple of questions before we take this to our board: is there a life "
        "sciences community in the region, and what part do the universities play in training?"
    )
    assert split_message(message) == [
        "Is there a life sciences community in the region?",
        "What part do the universities play in training?",
    ]


def test_numbered_and_bulleted_questions_are_each_a_part() -> None:
    message = "Three quick questions:\n1. How good is access to facilities?\n2) What is PIONEER?\n- Who funds it?"
    assert split_message(message) == ["How good is access to facilities?", "What is PIONEER?", "Who funds it?"]


def test_lower_case_text_is_cut_into_sentences() -> None:
    message = "hi there. how will digital tools change things for nurses. and will patients see their own data."
    assert split_message(message) == [
        "How will digital tools change things for nurses.",
        "Will patients see their own data.",
    ]


def test_requests_written_as_statements_are_parts() -> None:
    message = "I'd be grateful for details of the diagnostics programme. I was wondering who runs PIONEER."
    assert len(split_message(message)) == 2


def test_a_sign_off_is_never_joined_to_a_question_and_context_is_kept() -> None:
    parts = split_with_context("You mentioned Dignio. Is it growing? When was it set up? Thanks, Anita")
    assert parts == [("Is it growing?", ["You mentioned Dignio."]), ("When was it set up?", [])]
    assert not asks_anything("Just to let you know we opened an office. Thanks, Anita")


def test_a_pronoun_is_read_as_what_a_sentence_before_named(assistant: Assistant) -> None:
    answer = assistant.ask("You mentioned Dignio in your reply. Is it a big company? And where is it from?")
    assert [p.question for p in answer.parts] == ["Is it a big company?", "Where is it from?"]
    resolved = answer.resolved_question or ""
    assert "Is Dignio a big company?" in resolved and "Where is Dignio from?" in resolved


def test_a_medicine_question_that_points_back_is_guarded() -> None:
    assert is_clinical_advice_request("I was started on amlodipine and my ankles have swollen. Should I stop?")
    assert is_clinical_advice_request("Can my son stop taking azathioprine before his exams?")
    assert not is_clinical_advice_request("Can organisations like ours license linked patient data?")


def test_a_relative_that_points_at_nothing_and_a_turn_that_pointed_back_keeps_its_topic() -> None:
    question = "Is there a life sciences community in the region that our scientists could join?"
    assert resolve(question, ["I lead a team at Tamworth Biosensors."]) == question
    earlier = ["You mentioned Dignio.", "Is it one of the big players like Babylon?"]
    assert resolve("Is it expanding here?", earlier) == "Is Dignio expanding here?"


def test_a_part_that_leans_on_the_sentence_before_is_read_with_it() -> None:
    from assistant.engine.followup import read_parts

    message = "What became a national priority when Covid took hold? Should the progress made then be kept?"
    (first, first_read), (second, second_read) = read_parts(message, [])
    assert first_read == first and second_read == f"{first} {second}"
    assert read_parts("What is PIONEER? Who runs Dignio?", []) == [
        ("What is PIONEER?", "What is PIONEER?"),
        ("Who runs Dignio?", "Who runs Dignio?"),
    ]


def test_an_existential_there_does_not_lean_on_the_sentence_before() -> None:
    from assistant.engine.followup import points_back, read_parts

    statement = "I lead people and culture at Tamworth Biosensors, a company moving to the West Midlands."
    question = "Is there a life sciences community in the region that our scientists could plug into?"
    (first, first_read), _ = read_parts(f"{statement} {question} And where is PIONEER?", [])
    assert first_read == first == question
    assert not points_back("Are there any graduates?")
    assert points_back("Which companies are based there?")


def test_initials_and_capitalised_text_keep_their_sentences_whole() -> None:
    assert split_message("What department in the U.S. spearheaded the efforts?") == [
        "What department in the U.S. spearheaded the efforts?"
    ]
    assert split_message("How much land did John Pell. own in total?") == ["How much land did John Pell. own in total?"]
