"""What the engine makes of one question before it is cited: the assessment of the index, and the outcome."""

import time
from dataclasses import dataclass

import numpy as np

from assistant.engine.compose import ScoredSentence
from assistant.models import Correction, Hit


@dataclass(frozen=True)
class Assessment:
    """What the index says about one stand-alone question: passages, scored sentences, signals, confidence."""

    question: str  # as assessed: the resolved question without its words about now
    hits: list[Hit]
    scored: list[ScoredSentence]
    signals: dict[str, float]
    confidence: float
    retrieve_ms: float
    score_ms: float
    done_at: float  # perf_counter when assessed: the rest of the work counts as composing


ANSWERED, ABSTAINED, SIGNPOSTED = "answered", "abstained", "signposted"
Encoded = dict[str, np.ndarray]  # the texts of one message already embedded, by text
Read = tuple[str, list[Correction], Encoded]  # a message as read: the question, its corrections, what was embedded


@dataclass(frozen=True)
class Outcome:
    """What the engine made of one question of a message, before citing."""

    asked: str
    resolved: str
    status: str  # answered | abstained | signposted
    chosen: list[ScoredSentence]
    found: Assessment | None
    notes: list[str]


def timings(started: float, found: list[Assessment]) -> dict[str, float]:
    """Where the time of one `ask` went: retrieval, composing (scoring, selection, writing, citing), in total."""
    now = time.perf_counter()
    compose = sum(f.score_ms for f in found) + ((now - found[-1].done_at) * 1000 if found else 0.0)
    return {"retrieve": sum(f.retrieve_ms for f in found), "compose": compose, "total": (now - started) * 1000}


def quoted(asked: str, resolved: str, chosen: list[ScoredSentence], sureness: float, note: str) -> Outcome:
    """An answer that is these sentences as they stand (a named section's opening, a staff answer), cited."""
    hit = Hit(chosen[0].chunk, 1.0, sureness, None, None)
    found = Assessment(resolved, [hit], chosen, {}, sureness, 0.0, 0.0, time.perf_counter())
    return Outcome(asked, resolved, ANSWERED, chosen, found, [note])
