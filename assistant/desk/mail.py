"""The desk's mail as staff and the rest of the desk see it: a received message stored, threaded or ignored; the
outbox listed and retried; attachments fetched for download; and how mail is doing (for the console and /healthz).
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import imap
from assistant.desk.audit import audit
from assistant.desk.imap import PollReport
from assistant.desk.inbound import Inbound, parse, seen, store, thread_of
from assistant.desk.outbox import Outbox, enqueue_send, normal_mailbox
from assistant.desk.records import NewEnquiry, Receipt
from assistant.desk.tables import Enquiry, MailAttachment, MailboxState, MailMessage, OutboxMessage, utcnow
from assistant.errors import Conflict, InvalidRequest, NotFound

log = logging.getLogger(__name__)

REOPENS = ("resolved", "waiting")  # a reply from the enquirer puts these back in front of staff


def receive(
    sessions: sessionmaker[Session], inbound: Inbound, via: str, create: Callable[[NewEnquiry], Receipt]
) -> str:
    """What became of a received message: ignored (a robot's), duplicate, reply (added to its enquiry, which
    reopens), or created (a new enquiry, triaged and acknowledged by `create`). A message threaded by its headers
    onto an enquiry that is not its sender's is a new enquiry linked to that one: anyone who saw a Message-ID
    must not be able to add to someone else's enquiry, or reopen it."""
    if inbound.robot:
        return "ignored"
    with sessions() as session:
        if seen(session, inbound):
            return "duplicate"
        enquiry_id = thread_of(session, inbound)
        owner = session.get(Enquiry, enquiry_id) if enquiry_id is not None else None
        linked = owner is not None and normal_mailbox(owner.email) != normal_mailbox(inbound.address)
    try:
        if enquiry_id is not None and not linked:
            _add_reply(sessions, enquiry_id, inbound, via)
            return "reply"
        receipt = create(inbound.as_enquiry())
        with sessions.begin() as session:
            store(session, receipt.id, inbound, via)
            if linked and owner is not None:
                audit(session, receipt.id, "system", "linked", to=owner.reference, why="replied from another address")
                audit(session, owner.id, "system", "linked", to=receipt.reference, why="a reply from another address")
    except IntegrityError:  # the same message, stored meanwhile by another worker
        return "duplicate"
    return "created"


def receive_raw(
    sessions: sessionmaker[Session], settings: Settings, raw: bytes, via: str, create: Callable[[NewEnquiry], Receipt]
) -> str:
    """Read and store one received e-mail (see `receive`); one that cannot be read is recorded as refused and
    raises `InvalidRequest`; one past its sender's hourly allowance is recorded as refused."""
    try:
        inbound = parse(raw, settings.max_attachment_kb * 1024)
    except InvalidRequest as exc:
        record_refusal(sessions, raw, via, str(exc))
        raise
    if not inbound.robot and _recent_from(sessions, inbound.address) >= settings.mail_per_sender_per_hour:
        record_refusal(sessions, raw, via, f"over {settings.mail_per_sender_per_hour} messages an hour from its sender")
        return "refused"
    return receive(sessions, inbound, via, create)


def _recent_from(sessions: sessionmaker[Session], address: str) -> int:
    """Messages taken in from this mailbox (+tags aside) in the last hour: each is stored, new or a reply."""
    mailbox, domain, since = normal_mailbox(address), f"@{address.rpartition('@')[2]}", utcnow() - timedelta(hours=1)
    with sessions() as session:
        stored = session.scalars(select(MailMessage.from_addr).where(MailMessage.created_at >= since,
                                 func.lower(MailMessage.from_addr).endswith(domain, autoescape=True)))  # fmt: skip
        return sum(normal_mailbox(a) == mailbox for a in stored)


def receive_polled(
    sessions: sessionmaker[Session], settings: Settings, raw: bytes, create: Callable[[NewEnquiry], Receipt]
) -> str:
    """One message from the mailbox poll. One that breaks storing (a bug meeting odd mail) is recorded as refused
    and the poll moves past it; only when even that record cannot be written (the database away) does the error
    stop the poll, so the message is tried again next time."""
    try:
        return receive_raw(sessions, settings, raw, "imap", create)
    except InvalidRequest:
        raise
    except Exception as exc:
        log.exception("a polled message could not be stored")
        record_refusal(sessions, raw, "imap", f"could not be stored ({type(exc).__name__})")
        return "refused"


def poll(sessions: sessionmaker[Session], settings: Settings, create: Callable[[NewEnquiry], Receipt]) -> PollReport:
    """Read the configured mailbox's new messages (see `imap.poll`): each taken in as `receive_polled` does, one
    too large for `max_inbound_mail_kb` refused unread."""
    return imap.poll(
        sessions,
        settings,
        lambda raw: receive_polled(sessions, settings, raw, create),
        lambda size: record_refusal(sessions, b"", "imap", f"{size:,} bytes, over max_inbound_mail_kb"),
    )


def record_refusal(sessions: sessionmaker[Session], raw: bytes, via: str, reason: str) -> None:
    """Keep a trace of a message we could not take (the mailbox or the provider still holds it): its size, a
    digest to find it by, and why. The sender's address and text are not kept: we could not read them safely."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    with sessions.begin() as session:
        audit(session, None, "system", "mail_refused", via=via, reason=reason[:300], size=len(raw), sha256=digest)


def _add_reply(sessions: sessionmaker[Session], enquiry_id: int, inbound: Inbound, via: str) -> None:
    with sessions.begin() as session:
        enquiry = session.get_one(Enquiry, enquiry_id)
        store(session, enquiry_id, inbound, via)
        before = enquiry.status
        if before in REOPENS:
            enquiry.status, enquiry.resolved_at = "in_progress", None
        detail = {"via": via} | ({"before": before, "after": enquiry.status} if before in REOPENS else {})
        audit(session, enquiry_id, "system", "mail_received", **detail)


def acknowledge(sessions: sessionmaker[Session], outbox: Outbox, enquiry_id: int) -> None:
    """Acknowledge an enquiry that was not triaged (triage off, or failed): the reference, without a due time."""
    with sessions.begin() as session:
        outbox.acknowledge(session, session.get_one(Enquiry, enquiry_id))


def messages_of(session: Session, enquiry_id: int) -> list[dict[str, Any]]:
    """The enquiry's e-mail, in and out, for its conversation: kind, who, at, text, and the delivery state or the
    attachments."""
    entries: list[dict[str, Any]] = []
    for m in session.scalars(select(MailMessage).where(MailMessage.enquiry_id == enquiry_id)):
        files = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                  "kept": a.data is not None}
                 for a in session.scalars(select(MailAttachment).where(MailAttachment.message_id == m.id))]  # fmt: skip
        entries.append({"kind": "mail_in", "who": m.from_addr, "at": m.created_at.isoformat(), "text": m.text,
                        "subject": m.subject, "attachments": files, "message_id": m.message_id})  # fmt: skip
    for o in session.scalars(select(OutboxMessage).where(OutboxMessage.enquiry_id == enquiry_id)):
        entries.append({"kind": "mail_out", "who": o.created_by, "at": o.created_at.isoformat(), "text": o.body,
                        "subject": o.subject, "to": o.to_addr, "mail_kind": o.kind, **delivery(o)})  # fmt: skip
    return entries


def delivery(row: OutboxMessage) -> dict[str, Any]:
    return {"outbox_id": row.id, "status": row.status, "error": row.last_error, "attempts": row.attempts,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None}  # fmt: skip


def outbox(sessions: sessionmaker[Session], limit: int = 100) -> list[dict[str, Any]]:
    """The latest outgoing messages, not sent ones first (failed, unsent, queued), for the console."""
    order = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by((OutboxMessage.status == "sent"), order.desc())
                               .limit(limit))  # fmt: skip
        return [{"id": r.id, "enquiry_id": r.enquiry_id, "kind": r.kind, "to": r.to_addr, "subject": r.subject,
                 "created_at": r.created_at.isoformat(), **delivery(r)} for r in rows]  # fmt: skip


def retry(sessions: sessionmaker[Session], settings: Settings, outbox_id: int, actor: str) -> None:
    """Queue a failed or unsent message again (after the mail server is fixed, or configured)."""
    with sessions.begin() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is None:
            raise NotFound(f"No outgoing message {outbox_id}.")
        if row.status not in ("failed", "unsent"):
            raise Conflict(f"The message is {row.status}: only a failed or unsent one can be sent again.")
        row.status, row.last_error = "queued", None
        enqueue_send(session, row, settings.mail_max_attempts)
        audit(session, row.enquiry_id, actor, "mail_retried", kind=row.kind)


def attachment(sessions: sessionmaker[Session], attachment_id: int) -> tuple[str, bytes]:
    """(file name, bytes) of a kept attachment; raises `NotFound`."""
    with sessions() as session:
        found = session.get(MailAttachment, attachment_id)
        if found is None or found.data is None:
            raise NotFound("No such attachment, or it was over the size limit and not kept.")
        return found.filename, found.data


def health(sessions: sessionmaker[Session], settings: Settings) -> dict[str, Any]:
    """Mail at a glance: configured or not, the last poll, and messages queued, failed or unsent."""
    with sessions() as session:
        counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        polls = session.scalars(select(MailboxState).order_by(MailboxState.last_poll_at.desc()).limit(1)).all()
    last = polls[0] if polls else None
    return {
        "sending": bool(settings.smtp_url),
        "receiving": bool(settings.imap_url),
        "webhook": bool(settings.inbound_mail_secret),
        "last_poll_at": last.last_poll_at.isoformat() if last and last.last_poll_at else None,
        "last_poll_error": last.last_error if last else None,
        "last_poll_messages": last.last_count if last else 0,
        **{status: int(counts.get(status, 0)) for status in ("queued", "sent", "failed", "unsent")},
    }
