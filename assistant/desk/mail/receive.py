"""Mail coming in, from the mailbox poll or the webhook: one message read, within its sender's allowance, then
stored as a new enquiry, a reply to one (which reopens it), a duplicate, or a robot's (ignored); what cannot be
taken is recorded as refused."""

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.audit import audit
from assistant.desk.mail import imap
from assistant.desk.mail.imap import PollReport
from assistant.desk.mail.message import Inbound, parse, seen, store, thread_of
from assistant.desk.mail.outbox import normal_mailbox
from assistant.desk.records import NewEnquiry, Receipt
from assistant.desk.tables import Enquiry, MailMessage, utcnow
from assistant.desk.vocabulary import AuditAction, EnquiryStatus, Received
from assistant.errors import InvalidRequest

log = logging.getLogger(__name__)

IMPORTED = "import"  # `via` of mail from an .eml or .mbox file staff import
REOPENS = (EnquiryStatus.RESOLVED, EnquiryStatus.WAITING)  # a reply from the enquirer puts these back in front of staff


def receive(
    sessions: sessionmaker[Session], inbound: Inbound, via: str, create: Callable[[NewEnquiry], Receipt]
) -> Received:
    """What became of a received message: ignored (a robot's), duplicate, reply (added to its enquiry, which
    reopens), or created (a new enquiry, triaged and acknowledged by `create`). A message threaded by its headers
    onto an enquiry that is not its sender's is a new enquiry linked to that one: anyone who saw a Message-ID
    must not be able to add to someone else's enquiry, or reopen it."""
    if inbound.robot:
        return Received.IGNORED
    with sessions() as session:
        if seen(session, inbound):
            return Received.DUPLICATE
        enquiry_id = thread_of(session, inbound)
        owner = session.get(Enquiry, enquiry_id) if enquiry_id is not None else None
        linked = owner is not None and normal_mailbox(owner.email) != normal_mailbox(inbound.address)
    try:
        if enquiry_id is not None and not linked:
            _add_reply(sessions, enquiry_id, inbound, via)
            return Received.REPLY
        receipt = create(inbound.as_enquiry(acknowledge=via != IMPORTED))  # old mail, imported: no acknowledgement
        with sessions.begin() as session:
            store(session, receipt.id, inbound, via)
            if linked and owner is not None:
                audit(
                    session,
                    receipt.id,
                    "system",
                    AuditAction.LINKED,
                    to=owner.reference,
                    why="replied from another address",
                )
                audit(
                    session,
                    owner.id,
                    "system",
                    AuditAction.LINKED,
                    to=receipt.reference,
                    why="a reply from another address",
                )
    except IntegrityError:  # the same message, stored meanwhile by another worker
        return Received.DUPLICATE
    return Received.CREATED


def receive_raw(
    sessions: sessionmaker[Session], settings: Settings, raw: bytes, via: str, create: Callable[[NewEnquiry], Receipt]
) -> Received:
    """Read and store one received e-mail (see `receive`); one that cannot be read is recorded as refused and
    raises `InvalidRequest`; one past its sender's hourly allowance is recorded as refused."""
    try:
        inbound = parse(raw, settings.max_attachment_kb * 1024)
    except InvalidRequest as exc:
        record_refusal(sessions, raw, via, str(exc))
        raise
    capped = via != IMPORTED and not inbound.robot  # an import of old mail holds many from one sender
    if capped and _recent_from(sessions, inbound.address) >= settings.mail_per_sender_per_hour:
        record_refusal(sessions, raw, via, f"over {settings.mail_per_sender_per_hour} messages an hour from its sender")
        return Received.REFUSED
    return receive(sessions, inbound, via, create)


def _recent_from(sessions: sessionmaker[Session], address: str) -> int:
    """Messages taken in from this mailbox (+tags aside) in the last hour: each is stored, new or a reply."""
    mailbox, domain, since = normal_mailbox(address), f"@{address.rpartition('@')[2]}", utcnow() - timedelta(hours=1)
    with sessions() as session:
        stored = session.scalars(
            select(MailMessage.from_addr).where(
                MailMessage.created_at >= since, func.lower(MailMessage.from_addr).endswith(domain, autoescape=True)
            )
        )
        return sum(normal_mailbox(a) == mailbox for a in stored)


def receive_polled(
    sessions: sessionmaker[Session], settings: Settings, raw: bytes, create: Callable[[NewEnquiry], Receipt]
) -> Received:
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
        return Received.REFUSED


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
        audit(
            session,
            None,
            "system",
            AuditAction.MAIL_REFUSED,
            via=via,
            reason=reason[:300],
            size=len(raw),
            sha256=digest,
        )


def _add_reply(sessions: sessionmaker[Session], enquiry_id: int, inbound: Inbound, via: str) -> None:
    with sessions.begin() as session:
        enquiry = session.get_one(Enquiry, enquiry_id)
        store(session, enquiry_id, inbound, via)
        enquiry.enquirer_wrote_at = utcnow()
        before = enquiry.status
        if before in REOPENS:
            enquiry.status, enquiry.resolved_at = EnquiryStatus.IN_PROGRESS, None
        detail = {"via": via} | ({"before": before, "after": enquiry.status} if before in REOPENS else {})
        audit(session, enquiry_id, "system", AuditAction.MAIL_RECEIVED, **detail)
