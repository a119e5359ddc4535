"""The eval harness: metric definitions on hand-made outcomes, and both commands on tiny files with known answers."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.models import Part
from evaluation.enquiries import load_enquiry_cases
from evaluation.golden import evaluate_golden, load_cases, parts_pass
from evaluation.metrics import METRIC_KEYS, Outcome, contains_answer, gold_rank, summarize
from evaluation.report import squad_table
from evaluation.squad import evaluate_squad
from tests.helpers import REPO, SHARED_EVAL, make_squad, settings_for
from tests.helpers import run_cli as run


def outcome(answerable: bool, ranking: list[str], text: str = "", abstained: bool = False, ms: float = 1.0) -> Outcome:
    return Outcome(
        answerable, ranking, "g" if answerable else None, ["Perforin"] if answerable else [], text, abstained, ms
    )


def test_containment_ignores_case_and_citation_markers_and_stops_at_300_characters() -> None:
    assert contains_answer("It releases PERFORIN. [1]", ["perforin"])
    assert contains_answer("Cells [1] release perforin [2]", ["release perforin"])
    assert contains_answer("x" * 295 + " perforin", ["perforin"]) is False
    assert contains_answer("x" * 290 + " perforin", ["perforin"])
    assert contains_answer("anything", ["", "  "]) is False


def test_ranks_count_each_document_once_and_misses_count_zero() -> None:
    assert gold_rank(["a", "g"], "g") == 2 and gold_rank(["a"], "g") is None
    outcomes = [
        outcome(True, ["g", "b"], "Perforin [1]"),
        outcome(True, ["a", "g"], "It releases perforin."),
        outcome(True, ["a", "b", "c", "d", "e", "g"], "perforin", abstained=True),  # rank 6, abstained: misses
        outcome(True, ["a"], "no"),
        outcome(False, ["a"], abstained=True),
        outcome(False, ["a"], "an answer"),
    ]
    report = summarize(outcomes)
    assert list(report) == list(METRIC_KEYS)
    assert report["recall_at_1"] == 0.25 and report["recall_at_5"] == 0.5
    assert report["mrr"] == round((1 + 1 / 2 + 1 / 6) / 4, 4)
    assert report["containment_300"] == 0.5  # the abstained one holds the answer but does not count
    assert report["false_abstain"] == 0.25 and report["abstain_unseen"] == 0.5


def test_near_misses_are_counted_apart_from_unseen_questions() -> None:
    near = [replace(outcome(False, ["g"], abstained=a), nearmiss=True) for a in (True, False, False, False)]
    report = summarize([outcome(False, ["a"], abstained=True), *near])
    assert report["abstain_unseen"] == 1.0 and report["nearmiss_abstained"] == 0.25


def test_parts_are_judged_each_in_its_own_answer() -> None:
    given = [Part("Who can use it?", "NHS and academic organisations [1]", False), Part("What does it cost?", "", True)]
    assert parts_pass([["academic"], []], given)
    assert not parts_pass([["academic"], ["free"]], given)  # the second was declined
    assert not parts_pass([[], ["academic"]], given)  # the right words under the wrong question
    assert not parts_pass([["academic"]], given)  # read as a different number of questions


def test_latency_percentiles_are_over_every_question() -> None:
    report = summarize([outcome(True, ["g"], ms=float(ms)) for ms in range(1, 101)])
    assert report["latency_ms_p50"] == 51.0 and report["latency_ms_p95"] == 95.0


ARTICLES = {
    "Hub": [
        (
            "PIONEER is a health data research hub that links patient records across hospitals in Birmingham.",
            [("What does PIONEER link across hospitals?", "patient records"), ("What kind of hub is PIONEER?", "")],
        ),
        (
            "Dignio is a Norwegian company that set up a base in Birmingham to support remote care at home.",
            [("Which country does Dignio come from?", "Norwegian")],
        ),
    ],
    "Lab": [
        (
            "The Binding Site Group makes diagnostic tests for blood cancers and immune disorders.",
            [("What does The Binding Site Group make?", "diagnostic tests")],
        )
    ],
}
UNSEEN = {
    "Volcanoes": [
        (
            "Lava flows from volcanoes.",
            [("How hot is lava from Mount Etna?", "very"), ("When did Vesuvius last erupt?", "")],
        )
    ],
}


def test_squad_eval_on_tiny_files_finds_every_gold_paragraph(tmp_path: Path, model_cache: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = make_squad(tmp_path / "corpus.json", ARTICLES)
    unseen = make_squad(tmp_path / "unseen.json", UNSEEN)
    settings = settings_for(tmp_path / "data", model_cache)
    report = evaluate_squad(corpus, unseen, settings, embedder, n=10, seed=1)
    assert list(report) == [*METRIC_KEYS, "peer"] and list(report["peer"]) == list(METRIC_KEYS)
    assert report["recall_at_1"] == 1.0 and report["mrr"] == 1.0  # three paragraphs, three distinct questions
    assert report["peer"]["recall_at_1"] == 1.0
    assert report["peer"]["containment_300"] == 1.0  # the whole paragraph is the peer's answer here
    assert report["containment_300"] + report["false_abstain"] >= 1.0  # answered questions quote the right sentence
    assert report["abstain_unseen"] == 1.0  # lava and Vesuvius are not in the index
    assert report["latency_ms_p95"] >= report["latency_ms_p50"] > 0
    assert "| recall_at_1 | 1.0 | 1.0 | >= 0.92 |" in squad_table(report)
    assert not (tmp_path / "data" / "chroma").exists()  # a fresh temporary index, not the configured one


NORWEGIAN = ["Norwegian"]


def test_golden_cases_judge_the_last_turn_and_abstentions(tmp_path: Path, embedder, corpus_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    cases_file = tmp_path / "cases.jsonl"
    cases_file.write_text(
        "\n".join(
            json.dumps(c)
            for c in [
                {"id": "hit", "question": "Where does Dignio come from?", "expect_any": ["NORWEGIAN"]},
                {"id": "miss", "question": "Where does Dignio come from?", "expect_any": ["Swedish"]},
                {
                    "id": "turns",
                    "turns": ["What is Dignio?", "Who is it for?"],
                    "expect_any": ["longterm conditions", "healthcare professionals"],
                },
                {"id": "abstain", "question": "Who is the prime minister of Norway?", "expect_abstain": True},
                {"id": "not-abstain", "question": "What is PIONEER?", "expect_abstain": True},
                {"id": "hello", "question": "hello", "expect_smalltalk": True},
                {"id": "searched", "question": "What is PIONEER?", "expect_smalltalk": True},  # cited: not small talk
                {
                    "id": "dated",
                    "question": "Is Dignio still Norwegian?",
                    "expect_any": ["Norwegian"],
                    "expect_dated": True,
                },
                {
                    "id": "undated",
                    "question": "Is Dignio Norwegian?",
                    "expect_any": ["Norwegian"],
                    "expect_dated": True,
                },
            ]
        )
        + "\n\n"
    )
    report = evaluate_golden(load_cases(cases_file), REPO / "corpus", corpus_settings, embedder)
    assert {c["id"]: c["passed"] for c in report["cases"]} == {
        "hit": True,
        "miss": False,
        "turns": True,
        "abstain": True,
        "not-abstain": False,
        "hello": True,
        "searched": False,
        "dated": True,
        "undated": False,
    }
    assert report["passed"] == 5 and report["total"] == 9
    assert "Norwegian" in report["cases"][1]["answer"]  # the failure shows the answer given


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"id": "x"}',
        '{"id": "x", "turns": [], "expect_any": ["a"]}',
        '{"id": "x", "question": "q", "expect_dated": true, "expect_abstain": true}',
    ],
)
def test_malformed_golden_line_names_the_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "question": "q", "expect_abstain": true}\n' + line + "\n")
    with pytest.raises(AssistantError, match=r"bad.jsonl:2: not a golden case"):
        load_cases(path)


def test_eval_commands_print_the_documented_json(tmp_path: Path, corpus_settings: Settings) -> None:
    golden = run(corpus_settings, "eval", "golden", str(SHARED_EVAL / "seed-dev.jsonl"), "--json")
    payload = json.loads(golden.stdout)
    cases = sum(1 for line in (SHARED_EVAL / "seed-dev.jsonl").read_text().splitlines() if line.strip())
    assert set(payload) == {"passed", "total", "cases"} and payload["total"] == cases
    conversation = run(corpus_settings, "eval", "golden", str(SHARED_EVAL / "conversation-dev.jsonl"), "--json")
    count = sum(1 for line in (SHARED_EVAL / "conversation-dev.jsonl").read_text().splitlines() if line.strip())
    assert json.loads(conversation.stdout)["total"] == count  # its new case kinds are understood
    assert set(payload["cases"][0]) == {"id", "passed", "answer"}
    assert golden.returncode == (0 if payload["passed"] == cases else 1)
    corpus = make_squad(tmp_path / "corpus.json", ARTICLES)
    unseen = make_squad(tmp_path / "unseen.json", UNSEEN)
    distractors = make_squad(tmp_path / "distractors.json", {"Rivers": [("The Severn is the longest river.", [])]})
    squad = run(
        corpus_settings,
        "eval",
        "squad",
        str(corpus),
        "--unseen",
        str(unseen),
        "--questions",
        "2",
        "--json",
        "--distractors",
        str(distractors),
    )
    assert squad.returncode == 0, squad.stderr
    assert set(json.loads(squad.stdout)) == {*METRIC_KEYS, "peer"}
    missing = run(corpus_settings, "eval", "squad", str(tmp_path / "nope.json"), "--unseen", str(unseen))
    assert missing.returncode == 1 and "No such SQuAD file" in missing.stderr


ENQUIRIES = [
    {"id": "a", "text": "Hello. Where does Dignio come from?", "expect": "answer", "parts": [["Norwegian"]]},
    {"id": "b", "text": "Where does Dignio come from?", "expect": "answer", "parts": [["Norwegian"], ["Mars"]]},
    {"id": "n", "text": "What's the capital of Australia?", "expect": "none"},
    {"id": "s", "text": "I have had chest pain for two days, what medication should I take?", "expect": "signpost"},
]


def test_eval_enquiries_judges_the_desks_drafts(tmp_path: Path, corpus_settings: Settings) -> None:
    path = tmp_path / "enquiries.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in ENQUIRIES) + "\n", encoding="utf-8")
    result = run(corpus_settings, "eval", "enquiries", str(path), "--json")
    assert result.returncode == 1, result.stderr  # case b asks for a part the documents cannot answer
    report = json.loads(result.stdout)
    assert set(report) == {"parts_answered", "parts_total", "none_ok", "signpost_ok", "cases"}
    assert (report["parts_answered"], report["parts_total"], report["none_ok"], report["signpost_ok"]) == (2, 3, 1, 1)
    assert {c["id"]: c["passed"] for c in report["cases"]} == {"a": True, "b": False, "n": True, "s": True}
    assert "From the cluster's documents:" in report["cases"][0]["draft"]  # the draft itself, as staff see it


@pytest.mark.parametrize(
    "line", ["not json", '{"id": "x", "text": "t", "expect": "maybe"}', '{"id": "x", "text": "t", "expect": "answer"}']
)
def test_malformed_enquiry_line_names_the_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "t", "expect": "none"}\n' + line + "\n")
    with pytest.raises(AssistantError, match=r"bad.jsonl:2: not an enquiry case"):
        load_enquiry_cases(path)


def test_each_part_is_judged_in_the_answer_given_to_it() -> None:
    from evaluation.enquiries import matched_parts

    answers = [("Who runs it?", "Babylon runs it."), ("Where is it?", "In Wolverhampton.")]
    assert matched_parts([["Babylon"], ["Wolverhampton"]], answers) == [True, True]
    assert matched_parts([["Wolverhampton"], ["Babylon"]], answers) == [True, False]  # in order, each answer once
    assert matched_parts([["Babylon"], ["Babylon"]], answers) == [True, False]  # one answer is not two parts
    assert matched_parts([["Babylon"], ["Wolverhampton"]], [("q", "Babylon, in Wolverhampton")]) == [True, True]
