"""The inbox and one enquiry: its row, its conversation in order, its notes, consents and audit trail."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from assistant.desk.vocabulary import EnquiryStatus, MailKind, MailStatus

# The inbox -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One enquiry as the inbox lists it."""

    id: int
    received: datetime
    status: str
    category: str | None
    priority: str | None
    due_at: datetime | None
    sla_breached: bool
    channel: str
    partner: str | None
    name: str | None
    organisation: str | None
    subject: str | None
    preview: str
    needs_review: bool
    assignee: str | None
    reference: str | None
    title: str
    replied: bool  # a reply has gone to the enquirer
    unread: bool  # the enquirer wrote after staff last opened it


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox: its rows, where it sits in the whole list, and how many enquiries each status has."""

    rows: list[InboxRow]
    page: int
    pages: int
    total: int
    counts: dict[str, int] = field(default_factory=dict)


# One enquiry: its conversation, in order -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChatTurn:
    """A turn of the chat the enquiry was handed off from."""

    who: Literal["visitor", "assistant"]
    text: str
    at: None = None
    kind: Literal["chat"] = "chat"


@dataclass(frozen=True)
class Message:
    """The enquiry's own message."""

    who: str | None
    at: datetime
    text: str  # what triage read: an e-mail without its quotes, signature and disclaimer
    as_received: str | None = None  # the message exactly as it came, when that differs
    kind: Literal["message"] = "message"


@dataclass(frozen=True)
class Attachment:
    id: int
    filename: str
    content_type: str
    size: int
    kept: bool  # over max_attachment_kb: listed, not kept


@dataclass(frozen=True)
class Delivery:
    """Where an outgoing message stands (its fields sit beside the message's own, as the console shows them)."""

    outbox_id: int
    status: MailStatus
    error: str | None
    attempts: int
    sent_at: datetime | None


@dataclass(frozen=True)
class MailIn:
    """An e-mail received about the enquiry (a reply from the enquirer, or the one that opened it)."""

    who: str
    at: datetime
    text: str
    subject: str | None
    attachments: list[Attachment]
    message_id: str | None
    kind: Literal["mail_in"] = "mail_in"


@dataclass(frozen=True)
class MailOut(Delivery):
    """An e-mail the desk wrote about the enquiry, with its delivery."""

    who: str
    at: datetime
    text: str
    subject: str
    to: str
    mail_kind: MailKind
    kind: Literal["mail_out"] = "mail_out"


@dataclass(frozen=True)
class NoteEntry:
    who: str
    at: datetime
    text: str
    kind: Literal["note"] = "note"


@dataclass(frozen=True)
class ReplyEntry:
    """A reply approved before the outbox existed (kept on the enquiry, never mailed)."""

    who: str
    at: datetime
    text: str
    kind: Literal["reply"] = "reply"


TimelineEntry = ChatTurn | Message | MailIn | MailOut | NoteEntry | ReplyEntry


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Consent:
    partner: str
    how: str
    by: str
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    what: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class EnquiryDetail(InboxRow):
    """Everything about one enquiry for staff."""

    timeline: list[TimelineEntry]
    email: str
    message: str
    transcript: list[dict[str, Any]] | None
    route: str | None
    confidence: float | None
    reasons: dict[str, Any] | None
    draft: str | None
    draft_citations: list[dict[str, Any]] | None
    reply: str | None
    approved_by: str | None
    approved_at: datetime | None
    consent_version: str | None
    notes: list[Note]
    consents: list[Consent]
    audit: list[AuditEntry]
    related: list[InboxRow]
    duplicates: int
    next_statuses: list[EnquiryStatus]


@dataclass(frozen=True)
class PartnerShare:
    """The enquirer's details as shared with a partner they agreed to."""

    name: str | None
    email: str
    organisation: str | None
    message: str


@dataclass(frozen=True)
class SubjectExport:
    """Everything held about one address (a subject-access request): each enquiry's record as stored, and their
    mail in enquiries that are not theirs. The records stay plain JSON data: the export is the record itself."""

    email: str
    exported_at: datetime
    enquiries: list[dict[str, Any]]
    mail_elsewhere: dict[str, Any]
