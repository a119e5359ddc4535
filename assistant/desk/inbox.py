"""The staff inbox: enquiries listed, filtered and opened (as the views in `views.py`), and staff changes applied
to them."""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import insights, triage
from assistant.desk.audit import audit
from assistant.desk.mail.body import read_body
from assistant.desk.mail.outbox import Outbox
from assistant.desk.mail.service import messages_of
from assistant.desk.tables import AuditEvent, Enquiry, Note, PartnerConsent, aware, maybe_aware, utcnow
from assistant.desk.triage import Triage
from assistant.desk.views import (
    AuditEntry,
    ChatTurn,
    Consent,
    EnquiryDetail,
    InboxPage,
    InboxRow,
    MailIn,
    MailOut,
    Message,
    NoteEntry,
    ReplyEntry,
    TimelineEntry,
)
from assistant.desk.views import Note as Note_
from assistant.desk.vocabulary import AuditAction, Channel, EnquiryStatus, MailKind
from assistant.errors import NotFound

INBOX_LIMIT = 500
TITLE_CHARS = 90  # a subject line's worth: what an inbox row shows when the enquiry has no subject
SORTS = ("received", "due")
# Domains of public mailboxes: a shared domain there says nothing about a shared organisation.
FREEMAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "live.com"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class Filters:
    """What the inbox shows: each field narrows it when set; `q` searches the message, subject, reply and notes,
    names, addresses and organisations (case-insensitive), and matches a reference exactly."""

    status: str = ""
    category: str = ""
    priority: str = ""
    channel: str = ""
    partner: str = ""
    breached: bool = False
    unread: bool = False  # only those the enquirer wrote to since staff last opened them
    q: str = ""
    assignee: str = ""
    sort: str = "received"  # received (newest first) | due (soonest first)


@dataclass(frozen=True)
class EnquiryUpdate:
    """A staff change to one enquiry; each field is applied when set."""

    status: str | None = None
    assignee: str | None = None
    category: str | None = None
    note: str | None = None
    reply: str | None = None


def title(subject: str | None, message: str) -> str:
    """A subject line: the e-mail's subject, else the message's first sentence, cut on a word at `TITLE_CHARS`."""
    if subject and subject.strip():
        return " ".join(subject.split())
    first = _SENTENCE_END.split(" ".join(message.split()), maxsplit=1)[0]
    if len(first) <= TITLE_CHARS:
        return first
    return first[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def summary(e: Enquiry) -> InboxRow:
    return InboxRow(
        id=e.id,
        received=aware(e.created_at),
        status=e.status,
        category=e.category,
        priority=e.priority,
        due_at=maybe_aware(e.due_at),
        sla_breached=insights.sla_breached(e.due_at, e.first_response_at, utcnow()),
        channel=e.channel,
        partner=e.partner_id,
        name=e.name,
        organisation=e.organisation,
        subject=e.subject,
        preview=e.message[:120],
        needs_review=e.needs_review,
        assignee=e.assignee,
        reference=e.reference,
        title=title(e.subject, e.message),
        replied=e.first_response_at is not None,
        unread=unread(e),
    )


def unread(e: Enquiry) -> bool:
    """The enquirer wrote (the enquiry, or a reply since) after staff last opened it."""
    wrote = maybe_aware(e.enquirer_wrote_at) or aware(e.created_at)
    return e.seen_at is None or aware(e.seen_at) < wrote


def _filtered(filters: Filters, query: Any) -> Any:  # a Select of enquiries or of their counts
    """`query` narrowed by the filters (all but status, which the per-status counts leave out)."""
    for name in ("category", "priority", "channel"):
        if getattr(filters, name):
            query = query.where(getattr(Enquiry, name) == getattr(filters, name))
    if filters.partner:
        query = query.where(Enquiry.partner_id == filters.partner)
    if filters.assignee:
        query = query.where(Enquiry.assignee == filters.assignee)
    if filters.q:
        like = f"%{filters.q}%"
        noted = select(Note.enquiry_id).where(Note.text.ilike(like))
        query = query.where(
            or_(
                Enquiry.message.ilike(like),
                Enquiry.name.ilike(like),
                Enquiry.email.ilike(like),
                Enquiry.organisation.ilike(like),
                Enquiry.subject.ilike(like),
                Enquiry.reply.ilike(like),
                Enquiry.id.in_(noted),
                Enquiry.reference == filters.q.strip().upper(),
            )
        )
    if filters.breached:
        query = query.where(insights.breached_clause(utcnow()))
    if filters.unread:  # `unread` as SQL
        wrote = func.coalesce(Enquiry.enquirer_wrote_at, Enquiry.created_at)
        query = query.where(or_(Enquiry.seen_at.is_(None), Enquiry.seen_at < wrote))
    return query


def _ordered(filters: Filters) -> Select[Any]:
    query = _filtered(filters, select(Enquiry))
    if filters.status:
        query = query.where(Enquiry.status == filters.status)
    if filters.sort == "due":  # soonest first; those without a due time last
        return query.order_by(Enquiry.due_at.is_(None), Enquiry.due_at, Enquiry.id)
    return query.order_by(Enquiry.created_at.desc(), Enquiry.id.desc())


def list_enquiries(sessions: sessionmaker[Session], filters: Filters, reader: str | None = None) -> list[InboxRow]:
    """The newest enquiries (at most `INBOX_LIMIT`) that pass the filters; with `reader`, the read is audited (who
    read how many, with which filters: the staff API hands out personal data in bulk)."""
    with sessions.begin() as session:
        found = [summary(e) for e in session.scalars(_ordered(filters).limit(INBOX_LIMIT))]
        if reader:
            used = {k: v for k, v in vars(filters).items() if v}
            audit(session, None, reader, AuditAction.ENQUIRIES_READ, count=len(found), filters=used)
        return found


def inbox_page(sessions: sessionmaker[Session], filters: Filters, page: int, per_page: int) -> InboxPage:
    """Page `page` (from 1) of the enquiries that pass the filters, and the count per status under the others."""
    by_status = _filtered(filters, select(Enquiry.status, func.count()).group_by(Enquiry.status))
    with sessions() as session:
        counts = {str(status): 0 for status in EnquiryStatus} | {
            str(s): int(n) for s, n in session.execute(by_status).all()
        }
        total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = session.scalars(_ordered(filters).offset((page - 1) * per_page).limit(per_page))
        return InboxPage([summary(e) for e in rows], page, pages, total, counts)


def neighbours(sessions: sessionmaker[Session], filters: Filters, enquiry_id: int) -> tuple[int | None, int | None]:
    """The enquiries before and after this one in the inbox as filtered (within its first `INBOX_LIMIT`)."""
    with sessions() as session:
        ids = list(session.scalars(_ordered(filters).with_only_columns(Enquiry.id).limit(INBOX_LIMIT)))
    if enquiry_id not in ids:
        return None, None
    at = ids.index(enquiry_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


def detail(sessions: sessionmaker[Session], enquiry_id: int) -> EnquiryDetail:
    """Everything about one enquiry for staff; raises `NotFound`."""
    with sessions() as session:
        e = session.get(Enquiry, enquiry_id)
        if e is None:
            raise NotFound(f"No enquiry {enquiry_id}.")
        by_enquiry = Note.enquiry_id == e.id
        notes = [
            Note_(n.author, n.text, aware(n.created_at))
            for n in session.scalars(select(Note).where(by_enquiry).order_by(Note.id))
        ]
        mail = messages_of(session, e.id)
        agreed = select(PartnerConsent).where(PartnerConsent.enquiry_id == e.id).order_by(PartnerConsent.id)
        consents = [Consent(c.partner, c.how, c.recorded_by, aware(c.created_at)) for c in session.scalars(agreed)]
        trail = [AuditEntry(aware(a.created_at), a.actor, a.action, a.detail) for a in audit_trail(session, e.id)]
        others = [summary(r) for r in related(session, e)]
        return EnquiryDetail(
            **vars(summary(e)),
            timeline=conversation(e, notes, mail),
            email=e.email,
            message=e.message,
            transcript=e.transcript,
            route=e.route,
            confidence=e.confidence,
            reasons=e.reasons,
            draft=e.draft,
            draft_citations=e.draft_citations,
            reply=e.reply,
            approved_by=e.approved_by,
            approved_at=maybe_aware(e.approved_at),
            consent_version=e.consent_version,
            notes=notes,
            consents=consents,
            audit=trail,
            related=others,
            duplicates=e.duplicates,
            next_statuses=list(EnquiryStatus(e.status).next),
        )


def conversation(e: Enquiry, notes: list[Note_], mail: list[MailIn | MailOut]) -> list[TimelineEntry]:
    """The enquiry's conversation in order: the chat it came from (the visitor and the assistant), the message,
    then by time: e-mail in and out (with each one's delivery), staff notes, and the reply when it was not mailed
    (from before the outbox)."""
    chat: list[TimelineEntry] = [
        ChatTurn("visitor" if t.get("role") == "user" else "assistant", str(t.get("content", "")))
        for t in e.transcript or []
    ]
    opened_by = e.source_ref  # the e-mail that opened the enquiry is the message itself, not shown twice
    later: list[MailIn | MailOut | NoteEntry | ReplyEntry] = [
        m for m in mail if not (opened_by and isinstance(m, MailIn) and m.message_id == opened_by)
    ]
    later += [NoteEntry(n.author, n.at, n.text) for n in notes]
    if e.reply and not any(isinstance(m, MailOut) and m.mail_kind is MailKind.REPLY for m in mail):
        later.append(ReplyEntry(e.approved_by or "", aware(e.approved_at or e.updated_at), e.reply))
    read = read_body(e.message).text if e.channel == Channel.EMAIL else e.message
    opening = Message(e.name, aware(e.created_at), read, e.message if read != e.message.strip() else None)
    return [*chat, opening, *sorted(later, key=lambda entry: entry.at)]


def apply(
    sessions: sessionmaker[Session],
    classifier: Triage,
    enquiry_id: int,
    update: EnquiryUpdate,
    actor: str,
    mail: Outbox | None = None,
) -> None:
    """Apply a staff change, each part audited, its messages queued (`mail`); raises `NotFound` or
    `InvalidRequest`."""
    if update.category:
        classifier.correct(enquiry_id, update.category, actor)
    if update.assignee is not None:
        triage.assign(sessions, enquiry_id, update.assignee, actor, mail)
    if update.note is not None:  # an empty note is refused, not ignored
        triage.add_note(sessions, enquiry_id, update.note, actor)
    if update.reply is not None:  # an empty reply is refused, not ignored: "sent" would be untrue
        triage.approve_reply(sessions, enquiry_id, update.reply, actor, mail)
    if update.status:
        triage.change_status(sessions, enquiry_id, update.status, actor)


def mark_seen(sessions: sessionmaker[Session], enquiry_id: int) -> None:
    with sessions.begin() as session:
        opened = update_rows(Enquiry).where(Enquiry.id == enquiry_id)
        session.execute(opened.values(seen_at=utcnow(), updated_at=Enquiry.updated_at))  # reading changes nothing


def related(session: Session, enquiry: Enquiry) -> list[Enquiry]:
    """Other enquiries from the same address, or from the same organisation's domain."""
    conditions = [Enquiry.email == enquiry.email]
    if enquiry.email_domain and enquiry.email_domain not in FREEMAIL:
        conditions.append(Enquiry.email_domain == enquiry.email_domain)
    query = select(Enquiry).where(or_(*conditions), Enquiry.id != enquiry.id).order_by(Enquiry.created_at.desc())
    return list(session.scalars(query))


def audit_trail(session: Session, enquiry_id: int) -> list[AuditEvent]:
    """Who did what to the enquiry, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.enquiry_id == enquiry_id).order_by(AuditEvent.id)))
