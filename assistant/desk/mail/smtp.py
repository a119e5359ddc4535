"""Sending one outbox message over SMTP (the standard library's `smtplib`: a complete, maintained client; the
connection options we need, STARTTLS and implicit TLS with a verified certificate, are all there).

`send_one` is the `send_mail` job: idempotent (a message marked sent is not sent again), and a message that was
accepted by the server but not yet marked sent when the process died is sent again, with the same Message-ID.
A temporary refusal (4xx, or the server unreachable) is retried with a doubling back-off; a permanent one (5xx)
or the last attempt marks the message failed, visible in the console, never lost.
"""

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.audit import audit
from assistant.desk.jobs import Claimed, RetryLater
from assistant.desk.mail.tls import tls_context
from assistant.desk.tables import OutboxMessage, utcnow
from assistant.desk.vocabulary import AuditAction, MailKind, MailStatus

NOT_CONFIGURED = "not sent: no mail server configured"
TIMEOUT_S = 30


def smtp_connection(settings: Settings) -> smtplib.SMTP:
    """A signed-in connection to `smtp_url` (checked when `Settings` was built): smtp:// upgrades with STARTTLS
    (refusing a server that cannot), smtps:// is TLS from the start, and with `smtp_plain_relay` smtp:// to a
    relay on this machine stays plain."""
    url = urlsplit(settings.smtp_url or "")
    host = url.hostname or "localhost"
    if url.scheme == "smtps":
        context = tls_context(settings)
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=TIMEOUT_S, context=context)
    elif settings.smtp_plain_relay:  # loopback only (Settings refuses anything else): nothing crosses a network
        client = smtplib.SMTP(host, url.port or 25, timeout=TIMEOUT_S)
    else:
        client = smtplib.SMTP(host, url.port or 587, timeout=TIMEOUT_S)
        client.starttls(context=tls_context(settings))  # SMTPNotSupportedError without STARTTLS: never in clear
    if url.username:
        client.login(unquote(url.username), unquote(url.password or ""))
    return client


def as_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, row.to_addr, row.subject
    message["Message-ID"], message["Date"] = row.message_id, format_datetime(utcnow())
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    automatic = MailKind(row.kind).automatic
    if automatic:  # RFC 3834: other robots must not answer these (no mail loops)
        message["Auto-Submitted"] = automatic
    message.set_content(row.body)
    return message


def send_one(sessions: sessionmaker[Session], settings: Settings, job: Claimed) -> None:
    """The `send_mail` job for one outbox row."""
    with sessions() as session:
        row = session.get(OutboxMessage, job.payload["outbox_id"])
        named = job.payload.get("message_id")  # absent only in jobs queued before it was added
        if row is None or row.status == MailStatus.SENT or (named and row.message_id != named):
            return  # erased since (its id perhaps reused by another message), or sent by an earlier run
        message = as_email(row, settings.mail_from)
    if not settings.smtp_url:
        _mark(sessions, row.id, MailStatus.UNSENT, NOT_CONFIGURED, job.attempts)
        return
    try:
        with smtp_connection(settings) as client:
            client.send_message(message)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, OSError) as exc:
        _failed(sessions, settings, row.id, job, exc)
        return
    _mark(sessions, row.id, MailStatus.SENT, None, job.attempts, AuditAction.MAIL_SENT)


def _failed(sessions: sessionmaker[Session], settings: Settings, row_id: int, job: Claimed, exc: Exception) -> None:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    reason = f"{code} {_text(exc)}" if code else f"{type(exc).__name__}: {exc}"
    permanent = code is not None and 500 <= int(code) < 600
    if permanent or job.attempts >= job.max_attempts:
        _mark(sessions, row_id, MailStatus.FAILED, reason, job.attempts, AuditAction.MAIL_FAILED)
        return
    _mark(sessions, row_id, MailStatus.QUEUED, reason, job.attempts)
    raise RetryLater(reason, settings.mail_retry_seconds * 2 ** (job.attempts - 1))


def _text(exc: Exception) -> str:
    detail = getattr(exc, "smtp_error", b"")
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail or exc)


def _mark(
    sessions: sessionmaker[Session],
    row_id: int,
    status: MailStatus,
    error: str | None,
    attempts: int,
    action: AuditAction | None = None,
) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            return
        row.status, row.last_error, row.attempts = status, error, attempts
        if status == MailStatus.SENT:
            row.sent_at = utcnow()
        if action and row.enquiry_id is not None:
            detail = {"kind": row.kind, "to": MailKind(row.kind).recipient} | ({"error": error} if error else {})
            audit(session, row.enquiry_id, "system", action, **detail)
