"""Abstention: the signals of how well the retrieved passages answer a question, and the fitted model over them.

The logistic weights and the threshold below which the engine abstains are fitted by `make calibrate`
(evaluation/calibrate.py, cross-validated by article) into calibration.json beside this file.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from assistant.engine.answer_types import asked_type, holds
from assistant.engine.compose import ScoredSentence, coverage, definition_subject
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.terms import names, terms
from assistant.models import Hit

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SIGNALS = (
    "top_dense",
    "best_dense",
    "best_coverage",
    "passage_coverage",
    "best_score",
    "name_coverage",
    "verified",
    "answer_type",
)


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over the signals and the confidence below which we abstain."""

    weights: dict[str, float]
    bias: float
    threshold: float
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], float(data["bias"]), float(data["threshold"]), data.get("details", {}))


def asked_names(question: str) -> list[frozenset[str]]:
    """What a question names, as term sets: its capitalised names and its numbers ("Super Bowl 50", "1966")."""
    found = [frozenset(terms(n)) for n in names(question)]
    return found + [frozenset([t]) for t in terms(question) if t.isdigit()]


def names_answered(question: str, best: ScoredSentence, index: AnswerIndex) -> bool:
    """Whether the sentence an answer rests on speaks of everything the question names: in its own words, through
    the entity it refers back to ("This is a major research database" is about PIONEER), or through its document's
    title and section (a list of universities under "Health Tech in the West Midlands" is the West Midlands').
    Without this, a sentence near the name ("The value of fast and accurate diagnoses…", two sentences from "West
    Midlands Combined Authority") can score high on similarity and be given, confidently wrong."""
    chunk = best.chunk
    said = index.sentence_terms[chunk.id][best.index] | index.entity_terms[chunk.id][best.index]
    context = frozenset(terms(f"{chunk.title} {chunk.section}"))  # what the whole document or section is about
    # Each name whole in one place: "West Midlands Health Authority" is not "Health Tech in the West Midlands"
    # plus "… the West Midlands Combined Authority".
    return all(name <= said or name <= context for name in asked_names(question))


UNSURE = 0.5  # the most an answer whose sentence misses a name of the question may be trusted


def trusted_at_most(question: str, asking: str, scored: list[ScoredSentence], index: AnswerIndex) -> float | None:
    """The highest confidence an answer may have, given whether its best sentence speaks of what the question
    (`asking`: its asking sentences) names: 1.0 when it does. When it does not, None for "What is <a name>?" (a
    sentence not about the name is wrong however similar it is: abstain), and `UNSURE` for any other question (the
    sentence may still answer, as "In 1596…" does "When did Warsaw become the capital?")."""
    if not scored or names_answered(asking, scored[0], index):
        return 1.0
    return None if definition_subject(question) in asked_names(question) else UNSURE


def name_coverage(question: str, passage: Hit, index: AnswerIndex) -> float:
    """The share of what the question names that the passage speaks of (1.0 when it names nothing).

    Unlike similarity and term coverage, this does not rise as the index grows: a question about "Mount Etna" is
    not answered by a passage about volcanoes, however many such passages there are.
    """
    asked = asked_names(question)
    if not asked:
        return 1.0
    chunk = passage.chunk
    spoken = frozenset(terms(f"{chunk.title} {chunk.section}")).union(
        *index.sentence_terms[chunk.id], *index.entity_terms[chunk.id]
    )
    return sum(name <= spoken for name in asked) / len(asked)


def signals(
    question: str, question_terms: set[str], hits: list[Hit], scored: list[ScoredSentence], index: AnswerIndex
) -> dict[str, float]:
    """The evidence abstention is calibrated on."""
    if not hits or not scored:
        return dict.fromkeys(SIGNALS, 0.0)
    best = scored[0]
    passage_terms = frozenset().union(*index.sentence_terms[hits[0].chunk.id])
    return {
        "top_dense": hits[0].dense_similarity,
        "best_dense": max(s.dense for s in scored),
        "best_coverage": best.coverage,
        "passage_coverage": coverage(question_terms, passage_terms, index),
        "best_score": best.score,
        "name_coverage": name_coverage(question, hits[0], index),
        "verified": log_odds(best.verified),  # the verifier's, that the lead answers: log-odds add up in the model
        "answer_type": float(holds(asked_type(question), best.text, question)),  # true when no kind is asked
    }


def log_odds(probability: float) -> float:
    """log(p / (1 - p)), bounded to ±10 (a probability of exactly 0 or 1 says no more than 0.99995 does)."""
    p = min(max(probability, 4.5e-5), 1 - 4.5e-5)
    return math.log(p / (1 - p))


def confidence(values: dict[str, float], weights: dict[str, float], bias: float) -> float:
    """Calibrated probability that the passages answer the question (logistic over the signals)."""
    z = bias + sum(weights.get(name, 0.0) * values.get(name, 0.0) for name in SIGNALS)
    return 1.0 / (1.0 + math.exp(-z))
