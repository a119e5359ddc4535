"""The knowledge-gap report and the figures page."""

from dataclasses import dataclass

# Reports -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """A topic the documents fail to answer (most asked first), named by its most frequent question."""

    topic: str
    count: int
    examples: list[str]
    questions: list[str]  # every distinct question of the group, for the answer form (at most `MAX_FORM`)


@dataclass(frozen=True)
class PartnerDay:
    """A partner's widget on one day: questions for the documents, the share abstained on, hand-offs."""

    partner: str
    day: str
    questions: int
    abstention_rate: float
    handoffs: int


@dataclass(frozen=True)
class Weekly:
    """Enquiries per category in each of the last weeks, oldest first (each week's Monday)."""

    weeks: list[str]
    series: dict[str, list[int]]


@dataclass(frozen=True)
class Figures:
    days: int
    volume_by_category: dict[str, int]
    first_response_hours_median: float | None
    sla_breaches: int
    messages_by_kind: dict[str, int]
    partners: list[PartnerDay]
    weekly: Weekly
