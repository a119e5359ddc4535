"""Every word the desk stores, each vocabulary once: str-valued enums, so the database and JSON keep their strings
(`EnquiryStatus.NEW == "new"`), mypy checks the names, and the screens' labels sit beside the values they name."""

from enum import StrEnum

from assistant.models import Visibility

__all__ = [
    "AuditAction",
    "Channel",
    "DocumentOrigin",
    "DocumentStatus",
    "EnquiryStatus",
    "JobKind",
    "JobStatus",
    "MailKind",
    "MailStatus",
    "Priority",
    "Rating",
    "Received",
    "Role",
    "SiteStatus",
    "Visibility",
]


class EnquiryStatus(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def next(self) -> tuple["EnquiryStatus", ...]:
        """The statuses staff may move an enquiry to from this one, in workflow order."""
        return tuple(s for s in EnquiryStatus if s in TRANSITIONS[self])


S = EnquiryStatus
TRANSITIONS: dict[EnquiryStatus, frozenset[EnquiryStatus]] = {
    S.NEW: frozenset({S.TRIAGED, S.IN_PROGRESS, S.RESOLVED}),
    S.TRIAGED: frozenset({S.IN_PROGRESS, S.WAITING, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.WAITING, S.RESOLVED, S.TRIAGED}),
    S.WAITING: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.IN_PROGRESS}),  # reopened
}


class Priority(StrEnum):
    """From least to most pressing (a cue in the message raises a category's priority one step)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    def raised(self) -> "Priority":
        order = list(Priority)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Channel(StrEnum):
    """Where an enquiry or a question came from."""

    CHAT = "chat"
    WIDGET = "widget"
    API = "api"
    EMAIL = "email"
    CSV = "csv"

    @property
    def public(self) -> bool:
        """A visitor's own words on the cluster's or a partner's site (the knowledge-gap reports read these)."""
        return self in (Channel.CHAT, Channel.WIDGET)

    @property
    def direct(self) -> bool:
        """Written to the cluster directly (an e-mail, an imported list), not through a form's consent."""
        return self in (Channel.EMAIL, Channel.CSV)


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class JobKind(StrEnum):
    SEND_MAIL = "send_mail"
    MAIL_POLL = "mail_poll"
    HOUSEKEEPING = "housekeeping"
    INGEST = "ingest"  # documents and site crawls share one queue: one writer per index at a time
    RECRAWL = "recrawl"  # the periodic check that queues the sites that are due


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        """A job that will not run again."""
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class DocumentStatus(StrEnum):
    INDEXED = "indexed"
    PENDING = "pending"
    FAILED = "failed"
    REMOVED = "removed"


class DocumentOrigin(StrEnum):
    """Where a document came from: the corpus folder, a staff upload, a written answer, a crawled site."""

    CORPUS = "corpus"
    UPLOAD = "upload"
    ANSWER = "answer"
    SITE = "site"

    @property
    def reingestable(self) -> bool:
        """Whether the desk holds the document's own bytes, so it can be ingested again."""
        return self in (DocumentOrigin.UPLOAD, DocumentOrigin.ANSWER)


class SiteStatus(StrEnum):
    ACTIVE = "active"  # crawled on its schedule and when asked


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    UNSENT = "unsent"  # kept, not sent: no mail server configured

    @property
    def retryable(self) -> bool:
        return self in (MailStatus.FAILED, MailStatus.UNSENT)


class MailKind(StrEnum):
    """What a message in the outbox is, and so who it goes to and whether it is automatic."""

    ACKNOWLEDGEMENT = "acknowledgement"
    SIGNPOST = "signpost"
    REPLY = "reply"
    ASSIGNED = "assigned"
    ROUTED = "routed"
    SHARED = "shared"

    @property
    def label(self) -> str:
        """What staff call it ("the reply", "the signpost to NHS services")."""
        return _MAIL_LABELS[self]

    @property
    def to_enquirer(self) -> bool:
        return self in (MailKind.ACKNOWLEDGEMENT, MailKind.SIGNPOST, MailKind.REPLY)

    @property
    def automatic(self) -> str | None:
        """The Auto-Submitted value (RFC 3834: other robots must not answer it), None for a person's reply."""
        if self is MailKind.REPLY:
            return None
        return "auto-replied" if self.to_enquirer else "auto-generated"

    @property
    def recipient(self) -> str:
        """Who the message goes to, in the audit trail's words (the trail keeps no addresses)."""
        if self.to_enquirer:
            return "the enquirer"
        return {MailKind.ASSIGNED: "the assignee", MailKind.ROUTED: "the route's contact"}.get(self, "the partner")

    @property
    def acknowledges(self) -> bool:
        """Sent by itself on receipt: the kinds the per-address, per-domain and hourly caps count."""
        return self in (MailKind.ACKNOWLEDGEMENT, MailKind.SIGNPOST)


_MAIL_LABELS = {
    MailKind.ACKNOWLEDGEMENT: "acknowledgement",
    MailKind.SIGNPOST: "signpost to NHS services",
    MailKind.REPLY: "reply",
    MailKind.ASSIGNED: "assignment notice",
    MailKind.ROUTED: "routing notice",
    MailKind.SHARED: "enquiry to the partner",
}


class Received(StrEnum):
    """What became of an e-mail taken in."""

    CREATED = "created"  # a new enquiry
    REPLY = "reply"  # added to its enquiry, which reopens
    DUPLICATE = "duplicate"  # its Message-ID was stored already
    IGNORED = "ignored"  # a robot's: an auto-reply, a bounce, a list
    REFUSED = "refused"  # unreadable, too large, or past its sender's allowance: recorded, not stored
    GONE = "gone"  # deleted from the mailbox between the poll's listing and its fetch


class AuditAction(StrEnum):
    RECEIVED = "received"
    DUPLICATE_MERGED = "duplicate_merged"
    TRIAGED = "triaged"
    CATEGORY_CORRECTED = "category_corrected"
    ASSIGNED = "assigned"
    NOTE_ADDED = "note_added"
    REPLY_APPROVED = "reply_approved"
    STATUS_CHANGED = "status"
    REOPENED = "reopened"
    LINKED = "linked"
    PARTNER_CONSENT = "partner_consent"
    SHARED_WITH_PARTNER = "shared_with_partner"
    ACKNOWLEDGEMENT_SKIPPED = "acknowledgement_skipped"
    MAIL_RECEIVED = "mail_received"
    MAIL_REFUSED = "mail_refused"
    MAIL_SENT = "mail_sent"
    MAIL_FAILED = "mail_failed"
    MAIL_RETRIED = "mail_retried"
    ENQUIRIES_READ = "enquiries_read"
    SUBJECT_EXPORTED = "subject_exported"
    EXPORTED_CSV = "exported_csv"
    ERASED = "erased"
    ERASED_MAIL_ELSEWHERE = "erased_mail_elsewhere"
    DOCUMENT_ADDED = "document_added"
    ANSWER_WRITTEN = "answer_written"
    ANSWER_EDITED = "answer_edited"
    DOCUMENT_REMOVED = "document_removed"
    DOCUMENT_RESTORED = "document_restored"
    DOCUMENTS_REINGESTED = "documents_reingested"
    INGEST_CANCELLED = "ingest_cancelled"
    SITE_ADDED = "site_added"
