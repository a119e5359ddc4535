"""The staff inbox: enquiries listed, filtered and opened as plain dicts, and staff changes applied to them."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import insights, triage
from assistant.desk.tables import Enquiry, Note, utcnow
from assistant.desk.triage import Triage
from assistant.errors import InvalidRequest, NotFound

INBOX_LIMIT = 500


@dataclass(frozen=True)
class Filters:
    """What the inbox shows: each field narrows it when set; `q` searches text, names, addresses and references."""

    status: str = ""
    category: str = ""
    priority: str = ""
    channel: str = ""
    partner: str = ""
    breached: bool = False
    q: str = ""


@dataclass(frozen=True)
class EnquiryUpdate:
    """A staff change to one enquiry; each field is applied when set."""

    status: str | None = None
    assignee: str | None = None
    category: str | None = None
    note: str | None = None
    reply: str | None = None


def summary(e: Enquiry) -> dict[str, Any]:
    breached = insights.sla_breached(e.due_at, e.first_response_at, utcnow())
    return {
        "id": e.id, "received": e.created_at.isoformat(), "status": e.status, "category": e.category,
        "priority": e.priority, "due_at": e.due_at.isoformat() if e.due_at else None, "sla_breached": breached,
        "channel": e.channel, "partner": e.partner_id, "name": e.name, "organisation": e.organisation,
        "subject": e.subject, "preview": e.message[:120], "needs_review": e.needs_review, "assignee": e.assignee,
        "reference": e.reference,
    }  # fmt: skip


def list_enquiries(sessions: sessionmaker[Session], filters: Filters) -> list[dict[str, Any]]:
    """The newest enquiries (at most `INBOX_LIMIT`) that pass the filters."""
    query = select(Enquiry).order_by(Enquiry.created_at.desc())
    for name in ("status", "category", "priority", "channel"):
        if getattr(filters, name):
            query = query.where(getattr(Enquiry, name) == getattr(filters, name))
    if filters.partner:
        query = query.where(Enquiry.partner_id == filters.partner)
    if filters.q:
        like = f"%{filters.q}%"
        query = query.where(or_(Enquiry.message.ilike(like), Enquiry.name.ilike(like), Enquiry.email.ilike(like),
                                Enquiry.organisation.ilike(like), Enquiry.subject.ilike(like),
                                Enquiry.reference == filters.q.strip().upper()))  # fmt: skip
    if filters.breached:
        query = query.where(insights.breached_clause(utcnow()))
    with sessions() as session:
        return [summary(e) for e in session.scalars(query.limit(INBOX_LIMIT))]


def detail(sessions: sessionmaker[Session], enquiry_id: int) -> dict[str, Any]:
    """Everything about one enquiry for staff; raises `NotFound`."""
    with sessions() as session:
        e = session.get(Enquiry, enquiry_id)
        if e is None:
            raise NotFound(f"No enquiry {enquiry_id}.")
        notes = [{"author": n.author, "text": n.text, "at": n.created_at.isoformat()}
                 for n in session.scalars(select(Note).where(Note.enquiry_id == e.id).order_by(Note.id))]  # fmt: skip
    trail = [{"at": a.created_at.isoformat(), "who": a.actor, "what": a.action, "detail": a.detail}
             for a in triage.audit_trail(sessions, enquiry_id)]  # fmt: skip
    related = [summary(r) for r in triage.related(sessions, e)]
    return {**summary(e), "email": e.email, "message": e.message, "transcript": e.transcript, "route": e.route,
            "confidence": e.confidence, "reasons": e.reasons, "draft": e.draft, "draft_citations": e.draft_citations,
            "reply": e.reply, "approved_by": e.approved_by, "consent_version": e.consent_version, "notes": notes,
            "audit": trail, "related": related, "duplicates": e.duplicates}  # fmt: skip


def apply(
    sessions: sessionmaker[Session], classifier: Triage | None, enquiry_id: int, update: EnquiryUpdate, actor: str
) -> None:
    """Apply a staff change, each part audited; raises `NotFound` or `InvalidRequest`."""
    if update.category:
        if classifier is None:
            raise InvalidRequest("Triage is not configured.")
        classifier.correct(sessions, enquiry_id, update.category, actor)
    if update.assignee is not None:
        triage.assign(sessions, enquiry_id, update.assignee, actor)
    if update.note:
        triage.add_note(sessions, enquiry_id, update.note, actor)
    if update.reply:
        triage.approve_reply(sessions, enquiry_id, update.reply, actor)
    if update.status:
        triage.change_status(sessions, enquiry_id, update.status, actor)
