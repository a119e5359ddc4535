"""What staff learn from the records: the knowledge-gap report and the operational figures.

Knowledge gaps are the questions from chat and widget that were abstained on or rated down, grouped by topic:
greedy clustering of their MiniLM vectors (a question joins the first group whose first question it resembles),
each group named by its most frequent content words.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.records import partner_figures
from assistant.desk.tables import Enquiry, Feedback, QuestionLog, aware, utcnow
from assistant.engine import Embedder, terms
from assistant.models import DOCUMENTS

SAME_TOPIC = 0.55  # cosine between questions on one topic (MiniLM)
PUBLIC_CHANNELS = ("chat", "widget")


def knowledge_gaps(
    sessions: sessionmaker[Session], embedder: Embedder, days: int = 90, examples: int = 3
) -> list[dict[str, Any]]:
    """Topics the documents fail to answer, most asked first: label, count, example questions."""
    since = utcnow() - timedelta(days=days)
    with sessions() as session:
        abstained = session.scalars(
            select(QuestionLog.question).where(
                QuestionLog.abstained.is_(True),
                QuestionLog.kind == DOCUMENTS,  # small talk and contact requests are not gaps
                QuestionLog.channel.in_(PUBLIC_CHANNELS),
                QuestionLog.created_at >= since,
            )
        ).all()
        rated_down = session.scalars(
            select(Feedback.question).where(
                Feedback.rating == "down", Feedback.channel.in_(PUBLIC_CHANNELS), Feedback.created_at >= since
            )
        ).all()
    questions = [q for q in [*abstained, *rated_down] if q.strip()]
    if not questions:
        return []
    vectors = embedder.encode(questions)
    groups: list[list[int]] = []
    for i, vector in enumerate(vectors):
        for group in groups:
            if float(vectors[group[0]] @ vector) >= SAME_TOPIC:
                group.append(i)
                break
        else:
            groups.append([i])
    report = []
    for group in sorted(groups, key=len, reverse=True):
        words = Counter(t for i in group for t in set(terms(questions[i])))
        distinct = list(dict.fromkeys(questions[i] for i in group))
        report.append(
            {
                "topic": ", ".join(w for w, _ in words.most_common(3)) or "(no content words)",
                "count": len(group),
                "examples": distinct[:examples],
            }
        )
    return report


def sla_breached(due: datetime | None, responded: datetime | None, now: datetime) -> bool:
    """Answered after the due time, or still unanswered now that it has passed."""
    return due is not None and aware(responded or now) > aware(due)


def breached_clause(now: datetime) -> ColumnElement[bool]:
    """`sla_breached` as SQL, so the inbox can filter before it limits."""
    return and_(Enquiry.due_at.is_not(None), Enquiry.due_at < func.coalesce(Enquiry.first_response_at, now))


def figures(sessions: sessionmaker[Session], days: int = 30) -> dict[str, Any]:
    """Volume by category, first-response time, SLA breaches, per-partner widget figures."""
    since = utcnow() - timedelta(days=days)
    now = utcnow()
    with sessions() as session:
        volume = dict(
            session.execute(
                select(Enquiry.category, func.count()).where(Enquiry.created_at >= since).group_by(Enquiry.category)
            ).all()
        )
        kinds = dict(
            session.execute(
                select(QuestionLog.kind, func.count()).where(QuestionLog.created_at >= since).group_by(QuestionLog.kind)
            ).all()
        )
        rows = session.execute(
            select(Enquiry.created_at, Enquiry.first_response_at, Enquiry.due_at, Enquiry.status).where(
                Enquiry.created_at >= since
            )
        ).all()
    hours = [
        (aware(responded) - aware(created)).total_seconds() / 3600 for created, responded, _, _ in rows if responded
    ]
    breached = sum(sla_breached(due, responded, now) for _, responded, due, _ in rows)
    return {
        "days": days,
        "volume_by_category": {str(k or "untriaged"): int(v) for k, v in volume.items()},
        "first_response_hours_median": round(float(np.median(hours)), 1) if hours else None,
        "sla_breaches": breached,
        "messages_by_kind": {str(k): int(v) for k, v in kinds.items()},
        "partners": partner_figures(sessions, days),
    }


def weekly_volume(sessions: sessionmaker[Session], weeks: int) -> dict[str, Any]:
    """Enquiries received per category in each of the last `weeks` weeks (Monday to Sunday, UTC), oldest first:
    `{"weeks": ["2026-11-02", …], "series": {category: [count per week]}}`. Counted here, not in SQL, so SQLite
    and PostgreSQL agree on what a week is."""
    today = utcnow().date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    with sessions() as session:
        rows = session.execute(
            select(Enquiry.created_at, Enquiry.category).where(
                Enquiry.created_at >= datetime.combine(first, datetime.min.time(), tzinfo=UTC)
            )
        ).all()
    series: dict[str, list[int]] = {}
    for created, category in rows:
        week = (aware(created).date() - first).days // 7
        if 0 <= week < weeks:
            series.setdefault(str(category or "untriaged"), [0] * weeks)[week] += 1
    return {"weeks": [start.isoformat() for start in starts], "series": dict(sorted(series.items()))}
