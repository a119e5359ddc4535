"""Personal data in enquiries: retention, subject-access export, erasure, and CSV export for staff.

Erasing replaces every personal field (name, e-mail, organisation, message, transcript, draft, reply, notes, e-mail
in and out with attachments),
deletes the staff correction made from the enquiry (the classifier's example), and keeps what is not personal
(category, channel, dates, status) so the figures stay right. Audit events keep the
action, never the personal data.
"""

import csv
import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.audit import audit
from assistant.desk.tables import (
    Enquiry,
    Job,
    MailAttachment,
    MailMessage,
    Note,
    OutboxMessage,
    PartnerConsent,
    TriageExample,
    aware,
    utcnow,
)
from assistant.desk.views import SubjectExport
from assistant.desk.vocabulary import AuditAction, EnquiryStatus, JobKind

ERASED = "[erased]"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FIELDS = (
    "id",
    "created_at",
    "channel",
    "partner_id",
    "status",
    "category",
    "priority",
    "route",
    "assignee",
    "due_at",
    "name",
    "email",
    "organisation",
    "subject",
    "message",
)


def _erase(session: Session, enquiry: Enquiry, actor: str, reason: str) -> None:
    _erase_copies(session, enquiry)
    enquiry.name, enquiry.email, enquiry.organisation, enquiry.email_domain = ERASED, ERASED, None, None
    enquiry.message, enquiry.subject, enquiry.transcript = ERASED, None, []
    enquiry.draft, enquiry.draft_citations, enquiry.reply = None, [], None
    enquiry.reasons = {k: v for k, v in (enquiry.reasons or {}).items() if k == "ranked"}
    enquiry.erased_at = utcnow()
    session.execute(delete(Note).where(Note.enquiry_id == enquiry.id))
    session.execute(delete(PartnerConsent).where(PartnerConsent.enquiry_id == enquiry.id))
    # E-mail in and out, attachments included (a message not yet sent is not sent: its job finds nothing).
    messages = select(MailMessage.id).where(MailMessage.enquiry_id == enquiry.id)
    session.execute(delete(MailAttachment).where(MailAttachment.message_id.in_(messages)))
    session.execute(delete(MailMessage).where(MailMessage.enquiry_id == enquiry.id))
    _erase_outbox(session, OutboxMessage.enquiry_id == enquiry.id)
    audit(session, enquiry.id, actor, AuditAction.ERASED, reason=reason)


def _erase_mail_elsewhere(session: Session, email: str, actor: str) -> None:
    """The subject's own mail threaded into enquiries that are not theirs: what they sent (and its attachments)
    and what we sent them, with its send jobs."""
    theirs = select(MailMessage.id).where(func.lower(MailMessage.from_addr) == email)
    session.execute(delete(MailAttachment).where(MailAttachment.message_id.in_(theirs)))
    received = session.execute(delete(MailMessage).where(func.lower(MailMessage.from_addr) == email)).rowcount  # type: ignore[attr-defined]
    sent = _erase_outbox(session, func.lower(OutboxMessage.to_addr) == email)
    if received or sent:
        audit(session, None, actor, AuditAction.ERASED_MAIL_ELSEWHERE, received=int(received or 0), sent=sent)


def _erase_outbox(session: Session, which: ColumnElement[bool]) -> int:
    """Delete these outbox rows and the jobs that send (or sent) them: a job names its row, whose id SQLite may
    give a later message. Returns how many rows."""
    rows = set(session.scalars(select(OutboxMessage.id).where(which)))
    if rows:
        sending = session.execute(select(Job.id, Job.payload).where(Job.kind == JobKind.SEND_MAIL)).all()
        doomed = [job_id for job_id, payload in sending if (payload or {}).get("outbox_id") in rows]
        session.execute(delete(Job).where(Job.id.in_(doomed)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(rows)))
    return len(rows)


def _erase_copies(session: Session, enquiry: Enquiry) -> None:
    """Remove what was copied from the enquiry's text: the staff correction made from it, and (from before
    corrections were tied to their enquiry) quotes of it in other enquiries' triage evidence."""
    text = enquiry.message[:2000]
    session.execute(
        delete(TriageExample).where(
            or_(
                TriageExample.enquiry_id == enquiry.id,
                and_(TriageExample.enquiry_id.is_(None), TriageExample.text == text),
            )
        )
    )
    if not text.strip() or text == ERASED:
        return
    for other in session.scalars(select(Enquiry).where(Enquiry.id != enquiry.id, Enquiry.erased_at.is_(None))):
        evidence = (other.reasons or {}).get("evidence") or []
        if any(text in item for item in evidence):
            kept = [item if text not in item else "a staff correction (erased)" for item in evidence]
            other.reasons = {**other.reasons, "evidence": kept}


def purge_resolved(
    sessions: sessionmaker[Session],
    retention_days: int,
    by_category: dict[str, int] | None = None,
    actor: str = "system",
) -> int:
    """Erase the personal fields of enquiries resolved more than their retention ago: `by_category` days for
    those categories, `retention_days` for the rest. Returns how many were erased."""
    by_category = by_category or {}
    now = utcnow()
    shortest = min([retention_days, *by_category.values()])
    erased = 0
    with sessions.begin() as session:
        candidates = session.scalars(
            select(Enquiry).where(
                Enquiry.status == EnquiryStatus.RESOLVED,
                Enquiry.resolved_at < now - timedelta(days=shortest),
                Enquiry.erased_at.is_(None),
            )
        ).all()
        for enquiry in candidates:
            days = by_category.get(enquiry.category or "", retention_days)
            if enquiry.resolved_at is not None and aware(enquiry.resolved_at) < now - timedelta(days=days):
                _erase(session, enquiry, actor, f"retention: resolved over {days} days ago")
                erased += 1
        return erased


def erase_subject(sessions: sessionmaker[Session], email: str, actor: str) -> int:
    """Erase everything about one e-mail address (a right-to-erasure request); returns how many enquiries."""
    with sessions.begin() as session:
        found = session.scalars(select(Enquiry).where(Enquiry.email == email.strip().lower())).all()
        for enquiry in found:
            _erase(session, enquiry, actor, "erasure request")
        _erase_mail_elsewhere(session, email.strip().lower(), actor)
        return len(found)


def export_subject(sessions: sessionmaker[Session], email: str, actor: str) -> SubjectExport:
    """Everything held about one e-mail address (a subject-access request), as plain JSON-ready data. The export is
    an audit event on each enquiry it covers (who and when; the address itself is not repeated in the trail)."""
    email = email.strip().lower()
    with sessions.begin() as session:
        enquiries = session.scalars(select(Enquiry).where(Enquiry.email == email).order_by(Enquiry.id)).all()
        out = []
        for e in enquiries:
            notes = session.scalars(select(Note).where(Note.enquiry_id == e.id)).all()
            consents = session.scalars(select(PartnerConsent).where(PartnerConsent.enquiry_id == e.id)).all()
            out.append(
                {
                    **{c: _plain(getattr(e, c)) for c in CSV_FIELDS},
                    "transcript": e.transcript,
                    "consent_version": e.consent_version,
                    "consented_at": _plain(e.consented_at),
                    "draft": e.draft,
                    "reply": e.reply,
                    "notes": [{"author": n.author, "text": n.text, "at": _plain(n.created_at)} for n in notes],
                    "partner_consents": [
                        {"partner": p.partner, "how": p.how, "at": _plain(p.created_at)} for p in consents
                    ],
                    **_mail_of(session, e.id),
                }
            )
            audit(session, e.id, actor, AuditAction.SUBJECT_EXPORTED)
        if not enquiries:
            audit(session, None, actor, AuditAction.SUBJECT_EXPORTED, enquiries=0)
        elsewhere = _mail_elsewhere(session, email, [e.id for e in enquiries])
    return SubjectExport(email, utcnow(), out, elsewhere)


def _mail_elsewhere(session: Session, email: str, own: list[int]) -> dict[str, Any]:
    """The subject's mail in enquiries that are not theirs (a reply on someone else's thread, a copy to them)."""
    received = [
        {"enquiry_id": m.enquiry_id, "subject": m.subject, "text": m.text, "at": _plain(m.created_at)}
        for m in session.scalars(
            select(MailMessage).where(func.lower(MailMessage.from_addr) == email, MailMessage.enquiry_id.not_in(own))
        )
    ]
    sent = [
        {"enquiry_id": o.enquiry_id, "subject": o.subject, "text": o.body, "at": _plain(o.created_at)}
        for o in session.scalars(
            select(OutboxMessage).where(
                func.lower(OutboxMessage.to_addr) == email, OutboxMessage.enquiry_id.not_in(own)
            )
        )
    ]
    return {"received": received, "sent": sent}


def _mail_of(session: Session, enquiry_id: int) -> dict[str, Any]:
    """The enquiry's e-mail for a subject-access export: received (with attachments' names) and sent."""
    received = []
    for m in session.scalars(select(MailMessage).where(MailMessage.enquiry_id == enquiry_id).order_by(MailMessage.id)):
        files = session.scalars(select(MailAttachment).where(MailAttachment.message_id == m.id)).all()
        received.append(
            {
                "from": m.from_addr,
                "subject": m.subject,
                "text": m.text,
                "at": _plain(m.created_at),
                "attachments": [{"filename": f.filename, "size": f.size} for f in files],
            }
        )
    sent = [
        {"to": o.to_addr, "subject": o.subject, "text": o.body, "status": o.status, "at": _plain(o.created_at)}
        for o in session.scalars(
            select(OutboxMessage).where(OutboxMessage.enquiry_id == enquiry_id).order_by(OutboxMessage.id)
        )
    ]
    return {"mail_received": received, "mail_sent": sent}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting = + - @ tab or CR would run as a formula, so it gets a
    leading apostrophe (OWASP's advice for CSV injection)."""
    plain = _plain(value)
    if isinstance(plain, str) and plain.startswith(FORMULA_STARTS):
        return "'" + plain
    return plain


def enquiries_csv(sessions: sessionmaker[Session], actor: str) -> str:
    """Every enquiry as CSV; the export is an audit event (who, when, how many rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    with sessions.begin() as session:
        rows = 0
        for enquiry in session.scalars(select(Enquiry).order_by(Enquiry.id)):
            writer.writerow([csv_cell(getattr(enquiry, c)) for c in CSV_FIELDS])
            rows += 1
        audit(session, None, actor, AuditAction.EXPORTED_CSV, enquiries=rows)
    return buffer.getvalue()


def write_private(path: Path, text: str) -> None:
    """Write `text` to a new file only its owner can read (0600): exports hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
