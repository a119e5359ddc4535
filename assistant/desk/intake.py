"""Enquiries from outside the chat: e-mail files (.eml, .mbox) and CSV lists. Each message becomes a `NewEnquiry`;
one bad message is reported and the rest go on."""

import codecs
import csv
import email
import email.policy
import mailbox
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.utils import parseaddr
from pathlib import Path

from assistant.desk.records import DIRECT_CONTACT, NewEnquiry
from assistant.desk.vocabulary import Channel
from assistant.errors import InvalidRequest

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


def from_email(message: EmailMessage) -> NewEnquiry:
    name, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        raise InvalidRequest("no sender address")
    body = message_text(message)
    if not body:
        raise InvalidRequest("no text in the message")
    return NewEnquiry(
        name=name or address.split("@")[0],
        email=address,
        message=body[:MAX_MESSAGE_CHARS],
        channel=Channel.EMAIL,
        consent_version=DIRECT_CONTACT,
        subject=str(message.get("Subject", "")) or None,
        source_ref=str(message.get("Message-ID", "")) or None,
    )


def read_mail(path: Path) -> Iterator[tuple[str, NewEnquiry | InvalidRequest]]:
    """(where, enquiry or the reason it was skipped) for each message of an .eml or .mbox file."""
    if path.suffix.lower() == ".mbox":
        for i, raw in enumerate(mailbox.mbox(str(path), create=False)):
            yield f"{path.name} message {i + 1}", _try(raw.as_bytes())
    else:
        yield path.name, _try(path.read_bytes())


def _try(raw: bytes) -> NewEnquiry | InvalidRequest:
    try:
        return from_email(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
    except InvalidRequest as exc:
        return exc
    except Exception as exc:  # the parser meeting hostile input can raise anything: that message is skipped
        return InvalidRequest(f"unreadable message ({type(exc).__name__})")


def read_csv(path: Path) -> Iterator[tuple[str, NewEnquiry | InvalidRequest]]:
    """Rows with columns name, email, message (required) and organisation, subject (optional)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path.name} line {number}"
            missing = [c for c in ("name", "email", "message") if not (row.get(c) or "").strip()]
            if missing:
                yield where, InvalidRequest(f"missing {', '.join(missing)}")
                continue
            yield (
                where,
                NewEnquiry(
                    name=row["name"],
                    email=row["email"],
                    message=row["message"][:MAX_MESSAGE_CHARS],
                    channel=Channel.CSV,
                    consent_version=DIRECT_CONTACT,
                    organisation=row.get("organisation") or None,
                    subject=row.get("subject") or None,
                    source_ref=f"{path.name}:{number}",
                ),
            )
