"""What the engine makes of one question before it is cited: the assessment of the index, and the outcome."""

from dataclasses import dataclass

from assistant.engine.compose import ScoredSentence
from assistant.models import Hit


@dataclass(frozen=True)
class Assessment:
    """What the index says about one stand-alone question: passages, scored sentences, signals, confidence."""

    hits: list[Hit]
    scored: list[ScoredSentence]
    signals: dict[str, float]
    confidence: float
    retrieve_ms: float
    score_ms: float
    done_at: float  # perf_counter when assessed: the rest of the work counts as composing


ANSWERED, ABSTAINED, SIGNPOSTED = "answered", "abstained", "signposted"


@dataclass(frozen=True)
class Outcome:
    """What the engine made of one question of a message, before citing."""

    asked: str
    resolved: str
    status: str  # answered | abstained | signposted
    chosen: list[ScoredSentence]
    found: Assessment | None
    notes: list[str]
