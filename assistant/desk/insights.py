"""What staff learn from the records (`desk.reports`): the knowledge-gap report and the operational figures.

Knowledge gaps are the questions from chat and widget that were abstained on or rated down, grouped by topic:
greedy clustering of their MiniLM vectors (a question joins the first group whose first question it resembles),
each group named by its most frequent question. A written answer closes the questions it answers that were asked
before it was published; asked again and not answered, they come back.
"""

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.answers import published_answers
from assistant.desk.tables import Enquiry, Feedback, QuestionLog, aware, utcnow
from assistant.desk.views import Figures, Gap, PartnerDay, Weekly
from assistant.desk.vocabulary import Channel, Rating
from assistant.engine import Embedder, asks_for_medical_advice
from assistant.models import DOCUMENTS

SAME_TOPIC = 0.55  # cosine between questions on one topic (MiniLM)
MAX_FORM = 10  # questions of a gap carried to the answer form
PUBLIC_CHANNELS = [c for c in Channel if c.public]


def knowledge_gaps(sessions: sessionmaker[Session], embedder: Embedder, days: int = 90, examples: int = 3) -> list[Gap]:
    """Topics the documents fail to answer, most asked first: each named by its most frequent question, with its
    count and example questions. Requests for medical advice are never gaps (they are signposted, not answered);
    a question asked before a written answer to it was published is closed by that answer."""
    since = utcnow() - timedelta(days=days)
    with sessions() as session:
        abstained = session.execute(
            select(QuestionLog.question, QuestionLog.created_at).where(
                QuestionLog.abstained.is_(True),
                QuestionLog.kind == DOCUMENTS,  # small talk and contact requests are not gaps
                QuestionLog.channel.in_(PUBLIC_CHANNELS),
                QuestionLog.created_at >= since,
            )
        ).all()
        rated_down = session.execute(
            select(Feedback.question, Feedback.created_at).where(
                Feedback.rating == Rating.DOWN, Feedback.channel.in_(PUBLIC_CHANNELS), Feedback.created_at >= since
            )
        ).all()
        published = published_answers(session)
    asked = [(q, aware(at)) for q, at in [*abstained, *rated_down] if q.strip() and not asks_for_medical_advice(q)]
    if not asked:
        return []
    vectors = embedder.encode([q for q, _ in asked])
    answered = [(aware(when), embedder.encode(questions)) for when, questions in published]
    open_ = [i for i in range(len(asked)) if not _closed(asked[i][1], vectors[i], answered)]
    return [_gap([asked[i][0] for i in group], examples) for group in _topics(vectors, open_)]


def _closed(at: datetime, vector: np.ndarray, answered: list[tuple[datetime, np.ndarray]]) -> bool:
    """Whether a written answer to this question (one of its questions on the same topic) was published after it
    was asked."""
    return any(when >= at and float(np.max(questions @ vector)) >= SAME_TOPIC for when, questions in answered)


def _topics(vectors: np.ndarray, kept: list[int]) -> list[list[int]]:
    """Greedy grouping: a question joins the first group whose first question it resembles; biggest first."""
    groups: list[list[int]] = []
    for i in kept:
        for group in groups:
            if float(vectors[group[0]] @ vectors[i]) >= SAME_TOPIC:
                group.append(i)
                break
        else:
            groups.append([i])
    return sorted(groups, key=len, reverse=True)


def _gap(questions: list[str], examples: int) -> Gap:
    """A group of questions named by the one asked most often (in any case and spacing; the first asked on a tie)."""
    counted = Counter(" ".join(q.lower().split()) for q in questions)
    top = counted.most_common(1)[0][0]
    topic = next(q for q in questions if " ".join(q.lower().split()) == top)
    distinct = list(dict.fromkeys(q.strip() for q in questions))
    ordered = [topic, *(q for q in distinct if q != topic)]
    return Gap(topic.strip(), len(questions), ordered[:examples], ordered[:MAX_FORM])


def sla_breached(due: datetime | None, responded: datetime | None, now: datetime) -> bool:
    """Answered after the due time, or still unanswered now that it has passed."""
    return due is not None and aware(responded or now) > aware(due)


def breached_clause(now: datetime) -> ColumnElement[bool]:
    """`sla_breached` as SQL, so the inbox can filter before it limits."""
    return and_(Enquiry.due_at.is_not(None), Enquiry.due_at < func.coalesce(Enquiry.first_response_at, now))


def figures(sessions: sessionmaker[Session], days: int = 30, weeks: int = 12) -> Figures:
    """Volume by category, first-response time, SLA breaches, per-partner widget figures over `days`; and
    enquiries by category per week over the last `weeks` weeks."""
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
    return Figures(
        days=days,
        volume_by_category={str(k or "untriaged"): int(v) for k, v in volume.items()},
        first_response_hours_median=round(float(np.median(hours)), 1) if hours else None,
        sla_breaches=breached,
        messages_by_kind={str(k): int(v) for k, v in kinds.items()},
        partners=partner_figures(sessions, days),
        weekly=weekly_volume(sessions, weeks),
    )


def weekly_volume(sessions: sessionmaker[Session], weeks: int) -> Weekly:
    """Enquiries received per category in each of the last `weeks` weeks (Monday to Sunday, UTC), oldest first.
    Counted here, not in SQL, so SQLite and PostgreSQL agree on what a week is."""
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
    return Weekly([start.isoformat() for start in starts], dict(sorted(series.items())))


def partner_figures(sessions: sessionmaker[Session], days: int = 30) -> list[PartnerDay]:
    """Per partner and day, over the last `days`: widget questions (not small talk), abstention rate, hand-offs."""
    since = utcnow() - timedelta(days=days)
    day = func.date(QuestionLog.created_at)
    with sessions() as session:
        asked = session.execute(
            select(QuestionLog.partner_id, day, func.count(), func.sum(case((QuestionLog.abstained, 1), else_=0)))
            .where(
                QuestionLog.channel == Channel.WIDGET, QuestionLog.kind == DOCUMENTS, QuestionLog.created_at >= since
            )
            .group_by(QuestionLog.partner_id, day)
        ).all()
        enquiry_day = func.date(Enquiry.created_at)
        handed = session.execute(
            select(Enquiry.partner_id, enquiry_day, func.count())
            .where(Enquiry.channel == Channel.WIDGET, Enquiry.created_at >= since)
            .group_by(Enquiry.partner_id, enquiry_day)
        ).all()
    figures: dict[tuple[str, str], PartnerDay] = {}
    for partner, when, questions, abstained in asked:
        rate = round(int(abstained or 0) / int(questions), 4)
        figures[(partner or "", str(when))] = PartnerDay(partner or "", str(when), int(questions), rate, 0)
    for partner, when, count in handed:
        key = (partner or "", str(when))
        figures[key] = replace(figures.get(key) or PartnerDay(*key, 0, 0.0, 0), handoffs=int(count))
    return [figures[key] for key in sorted(figures)]
