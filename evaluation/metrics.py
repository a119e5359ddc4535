"""The metric definitions of `cluster-assistant eval`, as plain functions over per-question records."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

CONTAINMENT_CHARS = 300
_CITATION = re.compile(r"\s*\[\d+\]")
METRIC_KEYS = (
    "recall_at_1",
    "recall_at_5",
    "mrr",
    "containment_300",
    "abstain_unseen",
    "nearmiss_abstained",
    "false_abstain",
    "latency_ms_p50",
    "latency_ms_p95",
)


@dataclass(frozen=True)
class Outcome:
    """What one system did with one question."""

    answerable: bool
    ranking: list[str]  # document ids, best first, each once: the passages the answer was composed from
    gold: str | None  # the document holding the answer (None for unseen questions)
    answers: list[str]  # gold answer strings (empty for unseen questions)
    text: str
    abstained: bool
    latency_ms: float
    nearmiss: bool = False  # an unanswerable question about an indexed article (SQuAD's `is_impossible`)


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text)


def contains_answer(text: str, answers: Sequence[str], limit: int = CONTAINMENT_CHARS) -> bool:
    """A gold answer appears, case-insensitively, in the first `limit` characters of the answer without markers."""
    head = strip_citations(text)[:limit].lower()
    return any(a.strip().lower() in head for a in answers if a.strip())


def gold_rank(ranking: Sequence[str], gold: str | None) -> int | None:
    """1-based rank of the gold document, None when it was not retrieved."""
    for i, doc in enumerate(ranking, 1):
        if doc == gold:
            return i
    return None


def distinct(ids: Sequence[str]) -> list[str]:
    """`ids` in order, each once (several chunks of one document count as one rank)."""
    return list(dict.fromkeys(ids))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, `q` in [0, 1]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The eval keys over answerable and unseen outcomes; rates rounded to 4 places, latencies to 0.01 ms."""
    answerable = [o for o in outcomes if o.answerable]
    unseen = [o for o in outcomes if not o.answerable and not o.nearmiss]
    nearmiss = [o for o in outcomes if o.nearmiss]
    ranks = [gold_rank(o.ranking, o.gold) for o in answerable]
    n = max(len(answerable), 1)
    latencies = [o.latency_ms for o in outcomes]
    return {
        "recall_at_1": round(sum(r == 1 for r in ranks) / n, 4),
        "recall_at_5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
        "containment_300": round(
            sum(not o.abstained and contains_answer(o.text, o.answers) for o in answerable) / n, 4
        ),
        "abstain_unseen": round(sum(o.abstained for o in unseen) / max(len(unseen), 1), 4),
        # Questions written to look answerable from an indexed article, which does not answer them: the hard case.
        "nearmiss_abstained": round(sum(o.abstained for o in nearmiss) / max(len(nearmiss), 1), 4),
        "false_abstain": round(sum(o.abstained for o in answerable) / n, 4),
        "latency_ms_p50": round(percentile(latencies, 0.5), 2),
        "latency_ms_p95": round(percentile(latencies, 0.95), 2),
    }
