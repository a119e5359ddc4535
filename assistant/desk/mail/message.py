"""E-mail that arrives (from the mailbox poll or the webhook): read it, recognise robots, find the enquiry a reply
belongs to, and keep the message and its attachments.

Rules, in order: a message from a robot (an auto-reply, a bounce, a list) creates and triggers nothing, so two
auto-responders can never mail each other forever; a Message-ID already stored is a duplicate; a message whose
In-Reply-To or References name one of ours (or a message of an enquiry) is a reply to that enquiry; so is one
with an enquiry's reference in its subject, when it comes from that enquiry's own address; anything else is new.
"""

import codecs
import email
import email.message
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.desk.records import DIRECT_CONTACT, NewEnquiry
from assistant.desk.tables import Enquiry, MailAttachment, MailMessage, OutboxMessage, utcnow
from assistant.desk.vocabulary import Channel
from assistant.errors import InvalidRequest

REFERENCE = re.compile(r"\bWM-[A-Z2-9]{8}\b")
ROBOT_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply")
BULK = ("bulk", "junk", "list", "auto_reply")
MAX_ATTACHMENTS = 20
ATTACHMENTS_KEPT_PER_MESSAGE = 4  # at most this many attachments' worth of bytes kept (max_attachment_kb each)
# Real mail nests a few levels (mixed > alternative > related) in tens of parts; far more is a parser bomb.
MAX_MIME_DEPTH = 10
MAX_MIME_PARTS = 200
_MSGID = re.compile(r"<[^<>\s]+>")
_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)")


MAX_MESSAGE_CHARS = 20_000


def message_text(message: EmailMessage) -> str:
    """The message's text: its plain part, else its HTML part as text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part_text(part)
    if part.get_content_type() == "text/html":
        import trafilatura

        text = trafilatura.extract(text) or ""
    return str(text).strip()


def part_text(part: Message) -> str:
    """A text part decoded with its charset, or as UTF-8 with replacement when the charset is unknown or wrong
    (`unknown-8bit`, `x-user-defined`, a typo): a person wrote it, and most of it is still readable."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return data.decode(charset, errors="replace")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None: over the size cap, listed but not kept


@dataclass(frozen=True)
class Inbound:
    """One received e-mail, read."""

    message_id: str
    in_reply_to: list[str]
    references: list[str]
    name: str
    address: str
    subject: str | None
    text: str
    attachments: list["Attachment"] = field(default_factory=list)
    robot: str | None = None  # why it is automatic mail (and so ignored), or None
    forged: bool = False  # its Authentication-Results show SPF, DKIM and DMARC all failing

    def as_enquiry(self, acknowledge: bool = True) -> NewEnquiry:
        return NewEnquiry(
            name=self.name or self.address.split("@")[0],
            email=self.address,
            message=self.text,
            channel=Channel.EMAIL,
            consent_version=DIRECT_CONTACT,
            subject=self.subject,
            source_ref=self.message_id,
            acknowledge=acknowledge and not self.forged,
        )


def _forged(message: email.message.Message) -> bool:
    """Whether the receiving server's verdict (the topmost Authentication-Results, which it adds above any a sender
    forged) has SPF, DKIM and DMARC all failing: the From address is not the sender's, so nothing is sent to it."""
    verdict = str(message.get("Authentication-Results", "")).lower()
    results = {method: result for method, result in _AUTH_RESULT.findall(verdict)}
    return (
        results.get("spf") in ("fail", "softfail")
        and results.get("dkim") in ("fail", "none")
        and (results.get("dmarc") == "fail")
    )


def _robot(message: EmailMessage, address: str) -> str | None:
    """Why this is mail from a machine (RFC 3834 and common practice), or None for a person's."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    if str(message.get("Precedence", "")).strip().lower() in BULK:
        return "Precedence: " + str(message["Precedence"]).strip().lower()
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "an auto-reply header"
    if message.get_content_type() == "multipart/report" or str(message.get("Return-Path", "")).strip() == "<>":
        return "a delivery report"
    if address.split("@")[0].lower() in ROBOT_SENDERS:
        return f"sent by {address.split('@')[0].lower()}"
    return None


def parse(raw: bytes, max_attachment_bytes: int) -> Inbound:
    """Read a raw RFC 822 message. Total: any message that cannot be used, for whatever reason (malformed headers,
    an unknown charset that cannot be read even with replacement, MIME nested too deep or in too many parts, a
    parser's own exception), raises `InvalidRequest` with the reason, and nothing else."""
    try:
        return _parse(raw, max_attachment_bytes)
    except InvalidRequest:
        raise
    except RecursionError:
        raise InvalidRequest("unreadable message: MIME nested too deep") from None
    except Exception as exc:  # the standard parser meeting hostile input can raise anything: a refusal, not a crash
        raise InvalidRequest(f"unreadable message ({type(exc).__name__}: {str(exc)[:200]})") from None


def _parse(raw: bytes, max_attachment_bytes: int) -> Inbound:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    _check_structure(message)
    name, address = parseaddr(str(message.get("From", "")))
    message_id = (_MSGID.findall(str(message.get("Message-ID", ""))) or [""])[0]
    subject = " ".join(str(message.get("Subject", "")).split())[:300] or None
    in_reply_to = _MSGID.findall(str(message.get("In-Reply-To", "")))
    references = _MSGID.findall(str(message.get("References", "")))
    if "@" not in address:
        raise InvalidRequest("no sender address")
    # Without a Message-ID, one made from the bytes: the same message delivered twice is still one message.
    message_id = message_id or f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.invalid>"
    robot = _robot(message, address)  # type: ignore[arg-type]
    text = "" if robot else message_text(message)[:MAX_MESSAGE_CHARS]  # type: ignore[arg-type]
    if not robot and not text:
        raise InvalidRequest("no text in the message")
    files, room = [], max_attachment_bytes * ATTACHMENTS_KEPT_PER_MESSAGE
    for part in message.iter_attachments() if not robot else []:  # type: ignore[attr-defined]
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        kept = data if len(data) <= min(max_attachment_bytes, room) else None
        room -= len(kept or b"")
        files.append(
            Attachment(str(part.get_filename() or "attachment")[:255], part.get_content_type()[:100], len(data), kept)
        )
    return Inbound(
        message_id,
        in_reply_to,
        references,
        name.strip(),
        address.strip().lower(),
        subject,
        text,
        files[:MAX_ATTACHMENTS],
        robot,
        _forged(message),
    )


def _check_structure(message: email.message.Message) -> None:
    """Refuse MIME nested deeper than `MAX_MIME_DEPTH` or in more than `MAX_MIME_PARTS` parts, walking the tree
    without recursion: every later step (finding the body, the attachments) walks it again."""
    stack, parts = [(message, 0)], 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > MAX_MIME_DEPTH:
            raise InvalidRequest(f"unreadable message: MIME nested more than {MAX_MIME_DEPTH} levels deep")
        if parts > MAX_MIME_PARTS:
            raise InvalidRequest(f"unreadable message: more than {MAX_MIME_PARTS} MIME parts")
        children = part.get_payload() if part.is_multipart() else []
        stack.extend((child, depth + 1) for child in children if isinstance(child, email.message.Message))


def seen(session: Session, inbound: Inbound) -> bool:
    """Stored before (as a message, or as the e-mail that opened an enquiry), or one of our own come back."""
    stored = session.scalar(select(MailMessage.id).where(MailMessage.message_id == inbound.message_id))
    ours = session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == inbound.message_id))
    opened = session.scalar(select(Enquiry.id).where(Enquiry.source_ref == inbound.message_id))
    return bool(stored or ours or opened)


def thread_of(session: Session, inbound: Inbound) -> int | None:
    """The enquiry this message answers, by its headers or by a reference in its subject from the same sender."""
    named = [*inbound.in_reply_to, *reversed(inbound.references)]
    if named:
        for table in (OutboxMessage, MailMessage):
            found = session.scalar(select(table.enquiry_id).where(table.message_id.in_(named)).limit(1))
            if found:
                return int(found)
        found = session.scalar(select(Enquiry.id).where(Enquiry.source_ref.in_(named)).limit(1))
        if found:
            return int(found)
    for reference in REFERENCE.findall(inbound.subject or ""):
        found = session.scalar(
            select(Enquiry.id).where(Enquiry.reference == reference, Enquiry.email == inbound.address)
        )
        if found:
            return int(found)
    return None


def store(session: Session, enquiry_id: int, inbound: Inbound, via: str) -> None:
    """Keep the message and its attachments (an attachment over the cap is listed with no content)."""
    answered, references = next(iter(inbound.in_reply_to), None), " ".join(inbound.references) or None
    row = MailMessage(
        enquiry_id=enquiry_id,
        message_id=inbound.message_id,
        in_reply_to=answered,
        references=references,
        from_addr=inbound.address,
        subject=inbound.subject,
        text=inbound.text,
        received_via=via,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    for file in inbound.attachments:
        session.add(
            MailAttachment(
                message_id=row.id,
                filename=file.filename,
                content_type=file.content_type,
                size=file.size,
                data=file.data,
            )
        )
