"""The answer verifier: the packaged cross-encoder reads a question with a sentence (real model file)."""

import math
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.engine import Assistant
from assistant.engine.compose import ScoredSentence
from assistant.engine.verifier import CANDIDATES, VERIFIER_FILE, Verifier, answering_passages, shared_verifier
from assistant.errors import ModelUnavailable
from assistant.models import Chunk, Hit


def test_the_verifier_ships_in_the_package_as_a_small_int8_file() -> None:
    assert VERIFIER_FILE.is_file()
    assert 5_000_000 < VERIFIER_FILE.stat().st_size < 40_000_000  # int8: tens of MB at most, never the fp32 model


def test_a_missing_verifier_is_a_clear_error_at_start(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="missing: reinstall"):
        Verifier(tmp_path / "verifier-int8.onnx")


def test_a_corrupt_verifier_is_a_clear_error_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "verifier-int8.onnx"
    broken.write_bytes(VERIFIER_FILE.read_bytes()[:4096])  # a truncated download or copy
    with pytest.raises(ModelUnavailable, match="cannot be read"):
        Verifier(broken)


def test_the_sentence_that_says_what_is_asked_scores_above_one_that_only_names_it() -> None:
    verifier = shared_verifier()
    question = "In what year was the Royal Society founded?"
    found = verifier.probabilities(
        question,
        [
            "The Royal Society was founded in 1660 by a group of natural philosophers.",
            "The Royal Society is the oldest scientific academy in continuous existence.",
            "Bananas are grown in many tropical countries.",
        ],
    )
    assert found.shape == (3,) and found[0] > max(found[1:])
    who = verifier.probabilities(
        "Who founded Microsoft?",
        ["Microsoft was founded by Bill Gates and Paul Allen.", "Microsoft is a large software company."],
    )
    assert who[0] > 0.5 > who[1]
    assert verifier.probabilities(question, []).shape == (0,)


def test_the_assistant_reads_its_best_sentences_with_the_verifier(assistant: Assistant) -> None:
    found = assistant.assess("What is PIONEER?")
    read = found.scored[:CANDIDATES]
    assert all(s.verified > 0 for s in read) and not any(s.verified for s in found.scored[CANDIDATES:])
    assert found.signals["verified"] == pytest.approx(
        math.log(found.scored[0].verified / (1 - found.scored[0].verified))
    )
    assert [s.score for s in read] == sorted((s.score for s in read), reverse=True)


def test_a_sentence_without_the_kind_of_answer_asked_gets_nothing_from_the_verifier(assistant: Assistant) -> None:
    """ "Which universities…?" is answered by the list that names them, not by the sentence that counts them."""
    found = assistant.assess("Which universities are in the West Midlands?")
    counted = next(s for s in found.scored if s.text.startswith("We have 7 research led universities"))
    listed = next(s for s in found.scored if s.text.startswith("Aston University"))
    assert counted.verified > listed.verified  # the verifier alone would lead with the count
    assert found.scored[0] is listed


def test_a_question_longer_than_the_verifier_reads_is_still_read() -> None:
    found = shared_verifier().probabilities("Which " + "very " * 200 + "old hub?", ["PIONEER is a hub."])
    assert found.shape == (1,)


def test_a_sentence_of_the_document_that_asks_never_leads(assistant: Assistant) -> None:
    # "What is the incidence of a particular condition in the region?" led this answer before.
    found = assistant.assess("What is the region strong in?")
    asking = [i for i, s in enumerate(found.scored) if s.text.endswith("?")]
    assert asking and min(asking) > 0 and not found.scored[0].text.endswith("?")
    assert all(found.scored[i].text.endswith("?") for i in range(min(asking), len(found.scored)))


def test_the_writer_gets_only_the_passages_of_sentences_the_verifier_kept() -> None:
    def passage(id_: str, text: str) -> Chunk:
        return Chunk(id_, text, (text,), "T", "", f"{id_}.md", None, None, "h", 0)

    answers, about = passage("a", "PIONEER is run by the Hub."), passage("b", "PIONEER is big.")
    hits = [Hit(about, 0.9, 0.9, 1, 1), Hit(answers, 0.8, 0.8, 2, 2)]
    scored = [
        ScoredSentence(answers, 0, answers.text, 1, 1.0, 0.8, 1.0, verified=0.9),
        ScoredSentence(about, 0, about.text, 0, 0.9, 0.9, 1.0, verified=0.2),  # under half the best: not kept
    ]
    assert answering_passages(hits, scored) == [hits[1]]
    unread = [replace(s, verified=0.0) for s in scored]
    assert answering_passages(hits, unread) == hits  # nothing read (a named section): every passage
