"""Figures, SLA breaches and the knowledge-gap report, from records written for the test."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import insights
from assistant.desk.records import (
    CONSENT_VERSION,
    NewEnquiry,
    NewFeedback,
    create_enquiry,
    record_feedback,
)
from assistant.desk.tables import Enquiry, utcnow
from assistant.models import Answer
from tests.helpers import log_now


@pytest.fixture
def sessions(both_databases: sessionmaker[Session]) -> sessionmaker[Session]:
    return both_databases


def enquiry(sessions: sessionmaker[Session], email: str, category: str, due_h: float, answered_h: float | None) -> int:
    enquiry_id = create_enquiry(sessions, NewEnquiry("A", email, f"text {email}", "api", CONSENT_VERSION)).id
    now = utcnow()
    with sessions.begin() as session:
        row = session.get_one(Enquiry, enquiry_id)
        row.created_at, row.category = now - timedelta(hours=10), category
        row.due_at = row.created_at + timedelta(hours=due_h)
        row.first_response_at = row.created_at + timedelta(hours=answered_h) if answered_h is not None else None
    return enquiry_id


def test_sla_breaches_count_late_and_overdue_alike_in_python_and_sql(sessions: sessionmaker[Session]) -> None:
    on_time = enquiry(sessions, "a@x.example", "press", due_h=24, answered_h=2)
    late = enquiry(sessions, "b@x.example", "press", due_h=4, answered_h=6)
    overdue = enquiry(sessions, "c@x.example", "investment", due_h=5, answered_h=None)
    pending = enquiry(sessions, "d@x.example", "investment", due_h=48, answered_h=None)
    with sessions() as session:
        breached = set(session.scalars(select(Enquiry.id).where(insights.breached_clause(utcnow()))))
    assert breached == {late, overdue} and on_time not in breached and pending not in breached
    figures = insights.figures(sessions)
    assert figures.sla_breaches == 2
    assert figures.volume_by_category == {"press": 2, "investment": 2}
    assert figures.first_response_hours_median == 4.0  # replies after 2 h and 6 h


def test_weekly_volume_counts_each_category_in_its_week(sessions: sessionmaker[Session]) -> None:
    """A week is Monday to Sunday: whatever today is, 7 days ago is last week and 14 days ago the week before."""
    made = {}
    for email, category, days_ago in [
        ("a@x.example", "press", 0),
        ("b@x.example", "press", 7),
        ("c@x.example", None, 14),
        ("d@x.example", "press", 14),
        ("e@x.example", "investment", 30),
    ]:
        made[email] = enquiry(sessions, email, category or "", due_h=24, answered_h=None)
        with sessions.begin() as session:
            row = session.get_one(Enquiry, made[email])
            row.created_at, row.category = utcnow() - timedelta(days=days_ago), category
    weekly = insights.weekly_volume(sessions, 3)
    monday = utcnow().date() - timedelta(days=utcnow().weekday())
    assert weekly.weeks == [(monday - timedelta(weeks=w)).isoformat() for w in (2, 1, 0)]
    assert weekly.series == {"press": [1, 1, 1], "untriaged": [1, 0, 0]}  # 30 days ago is outside


def test_knowledge_gaps_group_unanswered_and_disliked_questions(sessions: sessionmaker[Session], embedder) -> None:  # type: ignore[no-untyped-def]
    abstained = Answer("I couldn't find…", [], True, 0.1, {})
    answered = Answer("An answer [1]", [], False, 0.9, {})
    for question in ("When are your offices open on Saturday?", "What are the office opening hours at weekends?"):
        log_now(sessions, "chat", question, abstained, 3.0)
    log_now(sessions, "widget", "How much does membership cost?", abstained, 3.0, partner_id="p")
    log_now(sessions, "api", "What are your opening hours on Sunday?", abstained, 3.0)  # not a public channel
    log_now(sessions, "chat", "What is PIONEER?", answered, 3.0)
    record_feedback(sessions, NewFeedback("chat", "What are the office opening times?", "…", "down"))
    gaps = insights.knowledge_gaps(sessions, embedder)
    assert [g.count for g in gaps] == [3, 1], gaps
    assert "office" in gaps[0].topic or "open" in gaps[0].topic
    assert all("PIONEER" not in e for g in gaps for e in g.examples)
    assert not any("Sunday" in e for g in gaps for e in g.examples)
