"""The verifier's training data (no training here: CI never trains): pairs of the right kinds, folds by file."""

import json
import random
from pathlib import Path

import pytest

from evaluation import train_verifier as tv
from evaluation.train_verifier import FILES
from evaluation.verifier_pairs import article_pairs, candidate_text, perturbed, sentences_of

ARTICLE = {
    "title": "Quexbury",
    "paragraphs": [
        {
            "context": "The Quexbury clinic opened in 1998 in Lowton. It was founded by Ada Price. Its first patients "
            "came in spring.",
            "qas": [
                {
                    "question": "When did the Quexbury clinic open in Lowton?",
                    "answers": [{"text": "1998", "answer_start": 30}],
                    "is_impossible": False,
                },
                {
                    "question": "When did the Quexbury clinic close?",
                    "answers": [],
                    "plausible_answers": [{"text": "1998", "answer_start": 30}],
                    "is_impossible": True,
                },
            ],
        },
        {"context": "Marsh Hall opened in 2004 in Denby. Ben Ross ran it.", "qas": []},
    ],
}


def test_a_question_is_changed_so_that_its_sentence_no_longer_answers_it() -> None:
    pool = {"year": ["1998", "2004"], "number": ["1998", "2004"], "name": ["Lowton", "Denby", "Marsh Hall"]}
    changed = perturbed(
        "When did the first clinic open in Lowton?",
        "The first clinic opened in 1998 in Lowton.",
        pool,
        random.Random(1),
    )
    assert changed[0] in {"When did the first clinic open in Denby?", "When did the first clinic open in Marsh Hall?"}
    assert changed[1] == "When did the last clinic open in Lowton?"  # an opposite the sentence's word has


def test_an_article_gives_a_positive_and_negatives_of_every_kind() -> None:
    pairs = article_pairs(ARTICLE, random.Random(3))
    sentences = sentences_of(ARTICLE["paragraphs"][0]["context"])  # type: ignore[index]
    gold = sentences[0][1]
    assert [p.sentence for p in pairs if p.label == 1.0] == [gold]
    negatives = [(p.question, p.sentence) for p in pairs if p.label == 0.0]
    assert ("When did the Quexbury clinic close?", gold) in negatives  # the near miss, twice
    assert negatives.count(("When did the Quexbury clinic close?", gold)) == 2
    assert any(s == gold and q != "When did the Quexbury clinic open in Lowton?" for q, s in negatives)  # perturbed
    assert any("2004" in s and "Quexbury" in s for _, s in negatives)  # the answer swapped in its sentence
    assert {p.article for p in pairs} == {"Quexbury"}


def test_a_sentence_that_refers_back_is_read_after_the_one_before() -> None:
    sentences = sentences_of("The clinic opened in 1998. It was founded by Ada Price.")
    assert candidate_text(sentences, 1) == "The clinic opened in 1998. It was founded by Ada Price."
    assert candidate_text(sentences, 0) == "The clinic opened in 1998."


def test_the_shipped_model_learns_from_the_articles_eval_squad_does_not_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() with the training, measuring and export stubbed (CI never trains): which articles each round learns
    from and is measured on, and which round's model is written."""
    files = {
        FILES[0]: {"data": [{**ARTICLE, "title": "Indexed"}]},
        FILES[1]: {"data": [{**ARTICLE, "title": "Unseen"}]},
    }
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    trained: list[set[str]] = []
    exported: list[object] = []
    monkeypatch.setattr(tv, "EVAL", tmp_path)
    monkeypatch.setattr(
        tv, "train", lambda pairs, *_: (trained.append({p.article for p in pairs}) or len(trained), None)
    )
    monkeypatch.setattr(tv, "held_out", lambda model, tokenizer, held: {"model": model})
    monkeypatch.setattr(tv, "export", lambda model, target: exported.append(model))
    tv.main(["--reverse", "--out", str(tmp_path)])
    figures = json.loads((tmp_path / "verifier.json").read_text(encoding="utf-8"))
    assert trained == [{"Unseen"}, {"Indexed"}] and exported == [1]  # the model written never saw the indexed file
    assert [f["held_out_articles"] for f in figures["folds"]] == [["Indexed"], ["Unseen"]]
    assert figures["trained_on"] == FILES[1] == "squad2-dev-unseen.json"
