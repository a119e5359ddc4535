"""Calibration on tiny hand-made SQuAD files: it sees what `ask` sees and keeps false abstention at the target."""

from pathlib import Path

from assistant.engine.assistant import Calibration
from evaluation.calibrate import calibrate
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
        },
    )
    out = tmp_path / "calibration.json"
    settings = settings_for(tmp_path / "data", model_cache)
    result = calibrate(corpus, unseen, settings, embedder=embedder, out=out)
    loaded = Calibration.load(out)
    assert loaded.threshold == result["threshold"] and set(loaded.weights) == set(result["weights"])
    fitted, held = result["details"]["fitted_on"], result["details"]["held_out"]
    assert (fitted["answerable"], fitted["unseen"], held["answerable"], held["unseen"]) == (4, 2, 4, 2)
    assert fitted["false_abstain"] <= 0.02  # the threshold is chosen to keep this
    assert fitted["abstain_unseen"] == 1.0 and held["abstain_unseen"] == 1.0  # volcanoes are far from the index
