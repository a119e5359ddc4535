"""Answer types: what a question asks for and whether a sentence holds it; and the engine declining a question
whose answer sentences hold none (real model, a real Chroma store of a small made-up corpus)."""

from pathlib import Path

import pytest

from assistant.engine.answer_types import AMOUNT, DATE, MONTH, NAME, NUMBER, PLACE, asked_type, holds, missing_type
from assistant.engine.assistant import Assistant
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from ingest.pipeline import ingest
from tests.helpers import settings_for


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the Quexbury clinic open?", DATE),
        ("In what year was it founded?", DATE),
        ("What happens when a trial ends early?", None),  # "when" as a condition asks for no date
        ("When a trial ends early, what is published?", None),
        ("And when was it agreed?", DATE),
        ("How much does a membership cost?", AMOUNT),
        ("What does the licence cost?", AMOUNT),
        ("How many trusts take part?", NUMBER),
        ("How long does a pilot last?", NUMBER),
        ("How long ago was it founded?", DATE),
        ("Who runs the Quexbury clinic?", NAME),
        ("Which organisation funds the trial?", NAME),
        ("Where is the company based?", PLACE),
        ("In which city is the hub?", PLACE),
        ("What is the Quexbury clinic?", None),
        ("Why did they join?", None),
        ("Which British city is the firm based in?", PLACE),  # a word or two before the noun
        ("Which local NHS trust signed?", NAME),
        ("What kind of company is Quexbury?", None),  # asks for a description, not a name
        ("In which month of 2020 was it signed?", MONTH),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "sentence", "question", "held"),
    [
        (DATE, "The clinic opened in March 2019.", "When did the clinic open?", True),
        (DATE, "It was set up in the 19th century.", "When was it set up?", True),
        (DATE, "The clinic opened to great interest.", "When did the clinic open?", False),
        (DATE, "The old town was razed during the Second World War.", "When was the old town razed?", True),
        (PLACE, "Dunes are found on the plain terraces.", "Where are the dunes found?", True),
        (AMOUNT, "Membership is free of charge for NHS organisations.", "How much does membership cost?", True),
        (AMOUNT, "A licence costs £1,200 a year.", "What does a licence cost?", True),
        (AMOUNT, "Data access is provided under licence.", "What does a licence cost?", False),
        (NUMBER, "Twelve trusts take part.", "How many trusts take part?", True),
        (NUMBER, "Several trusts take part.", "How many trusts take part?", False),
        (NAME, "It is run by Larkspur Health Ltd.", "Who runs the Quexbury clinic?", True),
        (NAME, "One hospital trust came up in every interview.", "Which trust came up?", False),
        (NAME, "The Hub has a single Data Controller.", "Which organisation is the Hub's data controller?", False),
        (NAME, "Quexbury is run by a small team.", "Who runs Quexbury?", False),  # only the name it was asked about
        (PLACE, "The company is based in Coventry.", "Where is the company based?", True),
    ],
)
def test_whether_a_sentence_holds_that_kind_of_answer(kind: str, sentence: str, question: str, held: bool) -> None:
    assert holds(kind, sentence, question) is held


def test_an_open_question_is_held_by_any_sentence() -> None:
    assert missing_type("What is the Quexbury clinic?", ["Anything at all."]) is None
    assert missing_type("When did it open?", ["It opened to great interest.", "It opened in 2019."]) is None
    assert missing_type("When did it open?", ["It opened to great interest."]) == DATE


@pytest.fixture(scope="module")
def made_up(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: OnnxEmbedder) -> Assistant:
    root = tmp_path_factory.mktemp("answer-types")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "quexbury.md").write_text(
        "---\ntitle: The Quexbury clinic\n---\n# The Quexbury clinic\n\n"
        "The Quexbury clinic is a community diagnostics centre for people with long-term lung conditions. "
        "The clinic opened to great interest from patients and local doctors. "
        "It is run by a small team of nurses and physiologists. "
        "Patients are referred by their doctor and seen within a fortnight.\n",
        encoding="utf-8",
    )
    settings = settings_for(root / "data", model_cache, corpus_dir=corpus)
    ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    return Assistant.load(settings, embedder)


def test_a_question_whose_answer_sentences_hold_no_such_answer_is_declined(made_up: Assistant) -> None:
    assert not made_up.ask("What is the Quexbury clinic?").abstained
    for question in ("When did the Quexbury clinic open?", "How much does the Quexbury clinic cost?"):
        answer = made_up.ask(question)
        assert answer.abstained, (question, answer.text)


@pytest.mark.parametrize(
    "sentence",
    [
        "The library opens at nine on Mondays.",
        "The ferry leaves at 07:15.",
        "It meets every week.",
        "It opens in spring.",
    ],
)
def test_a_time_a_day_or_a_season_answers_when(sentence: str) -> None:
    assert holds(DATE, sentence, "When does it open?")


def test_a_year_does_not_say_which_month() -> None:
    question = "In which month of 2020 was the agreement signed?"
    assert missing_type(question, ["In 2020, the trust and the firm agreed a partnership."]) == MONTH
    assert missing_type(question, ["The agreement was signed in March 2020."]) is None
