"""Sending one outbox message over SMTP (the standard library's `smtplib`: a complete, maintained client; the
connection options we need, STARTTLS and implicit TLS with a verified certificate, are all there).

`send_one` is the `send_mail` job: idempotent (a message marked sent is not sent again), and a message that was
accepted by the server but not yet marked sent when the process died is sent again, with the same Message-ID.
A temporary refusal (4xx, or the server unreachable) is retried with a doubling back-off; a permanent one (5xx)
or the last attempt marks the message failed, visible in the console, never lost.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.audit import audit as record
from assistant.desk.jobs import Claimed, RetryLater
from assistant.desk.tables import OutboxMessage, utcnow
from assistant.errors import UnsafeConfiguration

NOT_CONFIGURED = "not sent: no mail server configured"
TIMEOUT_S = 30
AUTOMATIC = {"acknowledgement": "auto-replied", "signpost": "auto-replied", "assigned": "auto-generated",
             "routed": "auto-generated", "shared": "auto-generated"}  # fmt: skip
# Who a message went to, in the audit trail's words (the trail keeps no addresses).
RECIPIENTS = {"acknowledgement": "the enquirer", "signpost": "the enquirer", "reply": "the enquirer",
              "assigned": "the assignee", "routed": "the route's contact", "shared": "the partner"}  # fmt: skip


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Verified TLS: the system's CAs, and `mail_ca_file`'s for a private CA."""
    context = ssl.create_default_context()
    if settings.mail_ca_file:
        context.load_verify_locations(cafile=str(settings.mail_ca_file))
    return context


def smtp_connection(settings: Settings) -> smtplib.SMTP:
    """A signed-in connection to `smtp_url`: smtp:// upgrades with STARTTLS (refusing a server that cannot), and
    smtps:// is TLS from the start."""
    url = urlsplit(settings.smtp_url or "")
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise UnsafeConfiguration("CLUSTER_ASSISTANT_SMTP_URL must be smtp://user:pass@host:587 or smtps://…:465.")
    context = tls_context(settings)
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(url.hostname, url.port or 587, timeout=TIMEOUT_S)
        client.starttls(context=context)  # raises SMTPNotSupportedError without STARTTLS: never send in clear
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
    if row.kind in AUTOMATIC:  # RFC 3834: other robots must not answer these (no mail loops)
        message["Auto-Submitted"] = AUTOMATIC[row.kind]
    message.set_content(row.body)
    return message


def send_one(sessions: sessionmaker[Session], settings: Settings, job: Claimed) -> None:
    """The `send_mail` job for one outbox row."""
    with sessions() as session:
        row = session.get(OutboxMessage, job.payload["outbox_id"])
        named = job.payload.get("message_id")  # absent only in jobs queued before it was added
        if row is None or row.status == "sent" or (named and row.message_id != named):
            return  # erased since (its id perhaps reused by another message), or sent by an earlier run
        message = as_email(row, settings.mail_from)
    if not settings.smtp_url:
        _mark(sessions, row.id, "unsent", NOT_CONFIGURED, job.attempts)
        return
    try:
        with smtp_connection(settings) as client:
            client.send_message(message)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, OSError) as exc:
        _failed(sessions, settings, row.id, job, exc)
        return
    _mark(sessions, row.id, "sent", None, job.attempts, audit="mail_sent")


def _failed(sessions: sessionmaker[Session], settings: Settings, row_id: int, job: Claimed, exc: Exception) -> None:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    reason = f"{code} {_text(exc)}" if code else f"{type(exc).__name__}: {exc}"
    permanent = code is not None and 500 <= int(code) < 600
    if permanent or job.attempts >= job.max_attempts:
        _mark(sessions, row_id, "failed", reason, job.attempts, audit="mail_failed")
        return
    _mark(sessions, row_id, "queued", reason, job.attempts)
    raise RetryLater(reason, settings.mail_retry_seconds * 2 ** (job.attempts - 1))


def _text(exc: Exception) -> str:
    detail = getattr(exc, "smtp_error", b"")
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail or exc)


def _mark(sessions: sessionmaker[Session], row_id: int, status: str, error: str | None, attempts: int,
          audit: str | None = None) -> None:  # fmt: skip
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            return
        row.status, row.last_error, row.attempts = status, error, attempts
        if status == "sent":
            row.sent_at = utcnow()
        if audit and row.enquiry_id is not None:
            detail = {"kind": row.kind, "to": RECIPIENTS.get(row.kind, "")} | ({"error": error} if error else {})
            record(session, row.enquiry_id, "system", audit, **detail)
