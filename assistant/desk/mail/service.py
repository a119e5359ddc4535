"""The desk's mail as staff see it (`desk.mail`): messages taken in (the mailbox poll, the webhook), the outbox
listed and retried, attachments for download, and how mail is doing (for the console and /healthz)."""

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import intake
from assistant.desk.audit import audit
from assistant.desk.jobs import Claimed
from assistant.desk.mail import receive, smtp
from assistant.desk.mail.imap import PollReport
from assistant.desk.mail.outbox import Outbox, enqueue_send
from assistant.desk.records import NewEnquiry, Receipt
from assistant.desk.tables import MailAttachment, MailboxState, MailMessage, OutboxMessage, aware, maybe_aware
from assistant.desk.views import Attachment, Delivery, MailHealth, MailIn, MailOut, MailRow
from assistant.desk.vocabulary import AuditAction, MailKind, MailStatus, Received
from assistant.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:
    from assistant.desk.enquiries import Enquiries

log = logging.getLogger(__name__)


class Mail:
    """Mail in and out for one desk; the new enquiries it takes in are received by `enquiries`."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], outbox: Outbox, enquiries: "Enquiries"
    ) -> None:
        self.settings, self.sessions, self.outbox, self.enquiries = settings, sessions, outbox, enquiries

    def _create(self, new: NewEnquiry) -> Receipt:
        return self.enquiries.receive(new)  # looked up each time: the enquiries service decides what receiving is

    @property
    def sending(self) -> bool:
        """Whether a mail server is configured, so a queued message will leave (else it is kept, unsent)."""
        return bool(self.settings.smtp_url)

    def receive(self, raw: bytes, via: str) -> Received:
        """Store one received e-mail: created | reply | duplicate | ignored | refused (see `receive.receive_raw`)."""
        return receive.receive_raw(self.sessions, self.settings, raw, via, self._create)

    def import_file(self, path: Path) -> Iterator[tuple[str, Received | InvalidRequest]]:
        """Each message of an .eml or .mbox file taken in through the mailbox's door (robots ignored, Message-IDs
        de-duplicated, replies threaded, attachments kept), without acknowledgements or the per-sender cap: it is
        old mail. (where, what became of it, or why it was refused). Raises `OSError` for an unreadable file."""
        for where, raw in intake.raw_messages(path):
            try:
                yield where, receive.receive_raw(self.sessions, self.settings, raw, receive.IMPORTED, self._create)
            except InvalidRequest as exc:
                yield where, exc

    def poll(self) -> PollReport:
        """Read the new messages of the configured mailbox (one that cannot be taken is refused, never retried)."""
        return receive.poll(self.sessions, self.settings, self._create)

    def poll_job(self, job: Claimed) -> None:
        report = self.poll()
        log.info("mailbox poll: %d messages in %.1f s (%s)", report.messages, report.seconds, dict(report.results))

    def send_job(self, job: Claimed) -> None:
        """The `send_mail` job: one outbox message over SMTP."""
        smtp.send_one(self.sessions, self.settings, job)

    def outgoing(self, limit: int = 100) -> list[MailRow]:
        """The latest outgoing messages, not sent ones first (failed, unsent, queued), for the console."""
        order = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
        query = select(OutboxMessage).order_by(OutboxMessage.status == MailStatus.SENT, order.desc()).limit(limit)
        with self.sessions() as session:
            return [
                MailRow(
                    **vars(delivery(r)),
                    id=r.id,
                    enquiry_id=r.enquiry_id,
                    kind=MailKind(r.kind),
                    to=r.to_addr,
                    subject=r.subject,
                    created_at=aware(r.created_at),
                )
                for r in session.scalars(query)
            ]

    def retry(self, outbox_id: int, actor: str) -> None:
        """Queue a failed or unsent message again (after the mail server is fixed, or configured)."""
        with self.sessions.begin() as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None:
                raise NotFound(f"No outgoing message {outbox_id}.")
            if not MailStatus(row.status).retryable:
                raise Conflict(f"The message is {row.status}: only a failed or unsent one can be sent again.")
            row.status, row.last_error = MailStatus.QUEUED, None
            enqueue_send(session, row, self.settings.mail_max_attempts)
            audit(session, row.enquiry_id, actor, AuditAction.MAIL_RETRIED, kind=row.kind)

    def attachment(self, attachment_id: int) -> tuple[str, bytes]:
        """(file name, bytes) of a kept attachment; raises `NotFound`."""
        with self.sessions() as session:
            found = session.get(MailAttachment, attachment_id)
            if found is None or found.data is None:
                raise NotFound("No such attachment, or it was over the size limit and not kept.")
            return found.filename, found.data

    def health(self) -> MailHealth:
        """Mail at a glance: configured or not, the last poll, and messages queued, failed or unsent."""
        by_status = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        with self.sessions() as session:
            counts = {str(status): int(n) for status, n in session.execute(by_status).all()}
            last = session.scalars(select(MailboxState).order_by(MailboxState.last_poll_at.desc()).limit(1)).first()
        return MailHealth(
            sending=self.sending,
            receiving=bool(self.settings.imap_url),
            webhook=bool(self.settings.inbound_mail_secret),
            last_poll_at=maybe_aware(last.last_poll_at) if last else None,
            last_poll_error=last.last_error if last else None,
            last_poll_messages=last.last_count if last else 0,
            **{status.value: counts.get(status, 0) for status in MailStatus},
        )


def delivery(row: OutboxMessage) -> Delivery:
    return Delivery(row.id, MailStatus(row.status), row.last_error, row.attempts, maybe_aware(row.sent_at))


def messages_of(session: Session, enquiry_id: int) -> list[MailIn | MailOut]:
    """The enquiry's e-mail, in and out, for its conversation: received ones with their attachments, sent ones with
    their delivery."""
    entries: list[MailIn | MailOut] = []
    for m in session.scalars(select(MailMessage).where(MailMessage.enquiry_id == enquiry_id)):
        files = [
            Attachment(a.id, a.filename, a.content_type, a.size, a.data is not None)
            for a in session.scalars(select(MailAttachment).where(MailAttachment.message_id == m.id))
        ]
        entries.append(MailIn(m.from_addr, aware(m.created_at), m.text, m.subject, files, m.message_id))
    for o in session.scalars(select(OutboxMessage).where(OutboxMessage.enquiry_id == enquiry_id)):
        entries.append(
            MailOut(
                **vars(delivery(o)),
                who=o.created_by,
                at=aware(o.created_at),
                text=o.body,
                subject=o.subject,
                to=o.to_addr,
                mail_kind=MailKind(o.kind),
            )
        )
    return entries
