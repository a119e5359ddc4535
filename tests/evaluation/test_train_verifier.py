"""The verifier's training data (no training here: CI never trains): pairs of the right kinds, folds by file."""

import random

from evaluation.train_verifier import FILES, article_pairs, candidate_text, perturbed, sentences_of

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
    changed = perturbed("When did the first clinic open in Lowton?", "The first clinic opened in 1998 in Lowton.",
                        pool, random.Random(1))  # fmt: skip
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


def test_the_shipped_model_learns_from_the_articles_eval_squad_does_not_index() -> None:
    assert FILES == ("squad2-dev-corpus.json", "squad2-dev-unseen.json")  # main() trains on FILES[1]
