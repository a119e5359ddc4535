"""The mail page: outgoing messages and how mail is doing."""

from dataclasses import dataclass
from datetime import datetime

from assistant.desk.views.enquiries import Delivery
from assistant.desk.vocabulary import MailKind

# Mail ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailRow(Delivery):
    """An outgoing message as the mail page lists it."""

    id: int
    enquiry_id: int | None
    kind: MailKind
    to: str
    subject: str
    created_at: datetime


@dataclass(frozen=True)
class MailHealth:
    """Mail at a glance: configured or not, the last poll, and messages by delivery state."""

    sending: bool
    receiving: bool
    webhook: bool
    last_poll_at: datetime | None
    last_poll_error: str | None
    last_poll_messages: int
    queued: int
    sent: int
    failed: int
    unsent: int
