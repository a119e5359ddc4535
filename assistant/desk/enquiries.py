"""Enquiries (`desk.enquiries`): received from every channel and triaged; the inbox staff work from; changes,
partner consent and sharing; and the personal data they hold (exports, erasure, retention)."""

import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import inbox, intake, triage
from assistant.desk.accounts import StaffMember, admin_actor
from assistant.desk.inbox import EnquiryUpdate, Filters
from assistant.desk.mail.outbox import Outbox
from assistant.desk.records import NewEnquiry, Receipt, create_enquiry
from assistant.desk.tables import Enquiry
from assistant.desk.triage import Triage
from assistant.desk.views import EnquiryDetail, InboxPage, InboxRow, PartnerShare
from assistant.errors import AssistantError

log = logging.getLogger(__name__)


class Enquiries:
    """The enquiries of one desk: stored, triaged (`triage`), answered through `outbox`."""

    def __init__(self, sessions: sessionmaker[Session], triage: Triage, outbox: Outbox) -> None:
        self.sessions, self.triage, self.outbox = sessions, triage, outbox

    def receive(self, new: NewEnquiry) -> Receipt:
        """Store an enquiry (merging duplicates), then triage it. Storing comes first and alone decides success: a
        triage failure leaves the enquiry `new` for staff, never lost. What a sender is told (the receipt's
        reference) is the same whether it was new or merged into an open one."""
        receipt = create_enquiry(self.sessions, new)
        if not receipt.created:
            return receipt
        try:  # triage queues the acknowledgement (with the SLA) in its own transaction
            self.triage.triage(receipt.id, mail=self.outbox, acknowledge=new.acknowledge)
            return receipt
        except Exception:  # any triage fault: the enquiry stays new and visible in the inbox
            log.exception("triage failed for enquiry %s; left as new", receipt.id)
        try:
            if new.acknowledge:
                with self.sessions.begin() as session:  # the reference, without a due time
                    self.outbox.acknowledge(session, session.get_one(Enquiry, receipt.id))
        except Exception:  # the enquiry is stored: a missing acknowledgement must not undo that
            log.exception("could not queue the acknowledgement of enquiry %s", receipt.id)
        return receipt

    def import_csv(self, path: Path) -> Iterator[tuple[str, Receipt | AssistantError]]:
        """Each enquiry of a CSV list received in turn: (line, its receipt or why it was skipped). Raises `OSError`
        or `UnicodeDecodeError` when the file cannot be read. E-mail files go through `Mail.import_file`."""
        for where, item in intake.read_csv(path):
            yield where, item if isinstance(item, AssistantError) else self.receive(item)

    def reply_within(self, text: str) -> int:
        """The hours the team aims to reply within for an enquiry like this, for a form to say before it is sent."""
        return self.triage.reply_within(text)

    def categories(self) -> list[str]:
        return list(self.triage.taxonomy.categories)

    def inbox(self, filters: Filters, reader: str | None = None) -> list[InboxRow]:
        """The newest enquiries that pass the filters; with `reader`, the read is audited (the staff API)."""
        return inbox.list_enquiries(self.sessions, filters, reader)

    def page(self, filters: Filters, page: int = 1, per_page: int = 25) -> InboxPage:
        """One page of the inbox as filtered and sorted, with the count of enquiries per status."""
        return inbox.inbox_page(self.sessions, filters, page, per_page)

    def neighbours(self, filters: Filters, enquiry_id: int) -> tuple[int | None, int | None]:
        """The previous and next enquiry in the inbox as filtered (None at either end)."""
        return inbox.neighbours(self.sessions, filters, enquiry_id)

    def enquiry(self, enquiry_id: int) -> EnquiryDetail:
        """Everything about one enquiry; raises `NotFound`."""
        return inbox.detail(self.sessions, enquiry_id)

    def seen(self, enquiry_id: int) -> None:
        """A staff member opened the enquiry: it is read until the enquirer writes again."""
        inbox.mark_seen(self.sessions, enquiry_id)

    def move(self, enquiry_id: int, status: str, actor: str) -> bool:
        """Change the status alone; False when it already was that (nothing changed). Raises `Conflict`."""
        return triage.change_status(self.sessions, enquiry_id, status, actor)

    def update(self, enquiry_id: int, update: EnquiryUpdate, actor: str) -> EnquiryDetail:
        """Apply a staff change and return the enquiry as it now is; raises `NotFound`, `Conflict`, ..."""
        inbox.apply(self.sessions, self.triage, enquiry_id, update, actor, self.outbox)
        return inbox.detail(self.sessions, enquiry_id)

    def record_partner_consent(self, enquiry_id: int, partner: str, how: str, member: StaffMember) -> None:
        """Record that the enquirer agreed to be shared with a partner (admins only: it lets their data out)."""
        actor = admin_actor(member, "record consent")
        triage.record_partner_consent(self.sessions, enquiry_id, partner, how, actor)

    def share_with_partner(self, enquiry_id: int, partner: str, actor: str) -> PartnerShare:
        """The enquirer's details for `partner`, mailed to its contact; `Conflict` unless their consent is recorded."""
        return triage.share_with_partner(self.sessions, enquiry_id, partner, actor, self.outbox)
