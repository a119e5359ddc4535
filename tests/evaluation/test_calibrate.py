"""Calibration on tiny hand-made SQuAD files: it sees what `ask` sees and keeps false abstention at the target."""

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.engine import SIGNALS
from assistant.engine.assistant import Calibration
from assistant.errors import InvalidRequest
from evaluation.calibrate import Rows, article_folds, calibrate, cross_validate
from tests.helpers import make_squad, settings_for


def _squad(path: Path, articles: dict[str, list[tuple[str, list[str]]]]) -> Path:
    """Every question answerable (the answer text does not matter to calibration)."""
    return make_squad(path, {t: [(c, [(q, "x") for q in qs]) for c, qs in ps] for t, ps in articles.items()})


def test_calibration_fits_and_separates_seen_from_unseen(tmp_path: Path, model_cache: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = _squad(
        tmp_path / "corpus.json",
        {
            "Hub": [
                (
                    "PIONEER is a health data research hub that links patient records across hospitals.",
                    [
                        "What does PIONEER link?",
                        "What kind of hub is PIONEER?",
                        "What does the hub link across?",
                        "Which records does PIONEER link?",
                    ],
                )
            ],
            "Dignio": [
                (
                    "Dignio is a Norwegian company that set up a base in Birmingham to support remote care.",
                    [
                        "Where is Dignio from?",
                        "Where did Dignio set up a base?",
                        "What does Dignio support?",
                        "Which city has a Dignio base?",
                    ],
                )
            ],
        },
    )
    unseen = _squad(
        tmp_path / "unseen.json",
        {
            "Volcanoes": [
                (
                    "Lava flows from volcanoes.",
                    [
                        "How hot is lava from Mount Etna?",
                        "When did Vesuvius erupt?",
                        "What is the tallest volcano on Mars?",
                        "Why do volcanoes form?",
                    ],
                )
            ],
            "Tides": [
                (
                    "The Moon pulls the sea.",
                    [
                        "How high are spring tides at Bristol?",
                        "When was the Severn bore highest?",
                    ],
                )
            ],
        },
    )
    out = tmp_path / "calibration.json"
    settings = settings_for(tmp_path / "data", model_cache)
    result = calibrate(corpus, unseen, settings, embedder=embedder, out=out)
    loaded = Calibration.load(out)
    assert loaded.threshold == result["threshold"] and set(loaded.weights) == set(result["weights"])
    details = result["details"]
    fitted, held = details["fitted_on"]["small"], details["held_out"]["small"]
    assert details["folds"] == 2  # one article of each file held out at a time
    assert (fitted["answerable"], fitted["unseen"], held["answerable"], held["unseen"]) == (8, 6, 8, 6)
    assert fitted["false_abstain"] <= 0.02  # the threshold is chosen to keep this
    assert fitted["abstain_unseen"] == 1.0  # volcanoes and tides are far from the index


def test_folds_are_whole_articles_dealt_evenly() -> None:
    folds = article_folds(["A", "B", "A", "C", "B", "D"], 2, random.Random(1))
    assert set(folds) == {"A", "B", "C", "D"} and sorted(folds.values()) == [0, 0, 1, 1]


def test_held_out_rows_are_decided_by_a_model_that_never_saw_them() -> None:
    """Fold 1's questions look like fold 0's unanswerable ones: a model fitted on fold 0 alone abstains on them,
    while one that had seen them would answer (they are labelled answerable)."""
    x = np.array([[0.9], [0.8], [0.85], [0.1], [0.2], [0.15], [0.1], [0.2], [0.15], [0.9], [0.8], [0.85]])
    answerable = np.array([True] * 3 + [False] * 3 + [True] * 3 + [False] * 3)
    rows = Rows(
        np.hstack([x, np.zeros((12, len(SIGNALS) - 1))]),
        answerable,
        np.array([0] * 6 + [1] * 6),
        np.full(12, "small"),
        np.zeros(12, dtype=bool),
    )
    held, levels = cross_validate(rows)
    assert held["small"]["false_abstain"] == 1.0 and len(levels) == 2


def test_calibration_refuses_a_file_with_one_article(tmp_path: Path, model_cache: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    one = _squad(tmp_path / "one.json", {"Hub": [("PIONEER is a hub.", ["What is PIONEER?"])]})
    with pytest.raises(InvalidRequest, match="two articles"):
        calibrate(one, one, settings_for(tmp_path / "data", model_cache), embedder=embedder, out=tmp_path / "c.json")
