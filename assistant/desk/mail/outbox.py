"""The e-mails the desk writes: an acknowledgement (or the clinical signpost) for a new enquiry, the reply staff
send, and notices to whoever must act (the assignee, the route's contact, a partner the enquirer agreed to).

Each message is an outbox row written inside the transaction of the change that causes it, with a job to send it
(`smtp.send_one`), so a change and its message commit together or not at all. A message's Message-ID is made here,
once. Notices to staff, routes and partners carry a link and the reference, never the enquirer's words, except a
partner's, which is sent only because the enquirer's consent for that partner is recorded.
"""

import logging
import re
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.desk.audit import audit
from assistant.desk.jobs import enqueue
from assistant.desk.partners import PartnerDirectory
from assistant.desk.tables import Enquiry, MailMessage, OutboxMessage, aware, utcnow
from assistant.desk.taxonomy import TaxonomyFile
from assistant.desk.vocabulary import AuditAction, Channel, JobKind, MailKind, MailStatus
from assistant.engine import SIGNPOST

log = logging.getLogger(__name__)
TO_ENQUIRER = [k for k in MailKind if k.to_enquirer]
ACKNOWLEDGED = [k for k in MailKind if k.acknowledges]
TEAM = "The West Midlands health tech network team"
FIRST_NAME = re.compile(r"[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*", re.UNICODE)  # Ada, O'Neil, Anne-Marie, Zoë


def normal_mailbox(address: str) -> str:
    """One mailbox however it is written: lower case, without a `+tag` (ada+1@ and ADA+2@ reach the same person)."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def greeting(name: str | None) -> str:
    """ "Dear Ada," when the name starts with something a first name looks like; else "Hello,". The name is whatever
    a visitor typed, and this goes to the address they typed: it must not carry a link or a message of theirs."""
    first = (name or "").split(" ")[0]
    # A name is written with a capital ("jess", "info" and an address's local part are not greeted by name).
    looks_like_one = len(first) <= 30 and first[:1].isupper() and FIRST_NAME.fullmatch(first) is not None
    return f"Dear {first}," if looks_like_one else "Hello,"


class Outbox:
    """Writes the desk's messages into the outbox (inside the caller's transaction)."""

    def __init__(self, settings: Settings, taxonomy: TaxonomyFile | None, partners: PartnerDirectory) -> None:
        self.settings, self.taxonomy, self.partners = settings, taxonomy, partners
        self.domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
        try:
            self.zone = ZoneInfo(settings.staff_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")

    def acknowledge(self, session: Session, enquiry: Enquiry) -> None:
        """Tell a new enquirer we have it: the reference and when to expect a reply; a clinical request gets the
        signpost instead. Not for CSV imports (old mail), and within the caps (`over_cap`)."""
        if enquiry.channel == Channel.CSV or "@" not in (enquiry.email or ""):
            return
        capped = self.over_cap(session, enquiry.email)
        if capped:
            audit(session, enquiry.id, "system", AuditAction.ACKNOWLEDGEMENT_SKIPPED, reason=capped)
            return
        lines = [
            greeting(enquiry.name),
            "",
            f"Thank you for contacting the West Midlands health tech network. Your "
            f"reference is {enquiry.reference}: please keep it in the subject if you write again.",
        ]
        if (enquiry.reasons or {}).get("clinical"):  # the guard found a request for medical advice in it
            kind, lines = MailKind.SIGNPOST, [*lines, "", SIGNPOST]
        else:
            kind = MailKind.ACKNOWLEDGEMENT
            if enquiry.due_at is not None:
                due = aware(enquiry.due_at).astimezone(self.zone)
                lines += ["", f"We aim to reply by {due:%A} {due.day} {due:%B}, {due:%H:%M}."]
        lines += ["", "This is an automatic acknowledgement.", "", TEAM]
        # Our own subject, never the sender's: an acknowledgement must not carry a stranger's words to an address
        # they typed (a forged sender turns it into spam from us).
        subject = f"Your enquiry to the West Midlands health tech network [{enquiry.reference}]"
        self._queue(session, enquiry, kind, enquiry.email, subject, "\n".join(lines))

    def over_cap(self, session: Session, address: str) -> str | None:
        """Why no acknowledgement may go to `address` now (a cap reached), or None: per mailbox (+tags aside) and
        per domain in 24 hours, and for everyone in an hour."""
        mailbox, domain = normal_mailbox(address), address.rpartition("@")[2].lower()
        now = utcnow()
        acks = (OutboxMessage.kind.in_(ACKNOWLEDGED), OutboxMessage.created_at >= now - timedelta(days=1))
        to_domain = func.lower(OutboxMessage.to_addr).endswith(f"@{domain}", autoescape=True)
        recent = list(session.scalars(select(OutboxMessage.to_addr).where(*acks, to_domain)))
        if sum(normal_mailbox(a) == mailbox for a in recent) >= self.settings.acks_per_address_per_day:
            return "daily cap for this address"
        if len(recent) >= self.settings.acks_per_domain_per_day:
            return "daily cap for this domain"
        hour = (OutboxMessage.kind.in_(ACKNOWLEDGED), OutboxMessage.created_at >= now - timedelta(hours=1))
        if (session.scalar(select(func.count()).where(*hour)) or 0) >= self.settings.acks_per_hour:
            return "hourly cap for all acknowledgements"
        return None

    def reply(self, session: Session, enquiry: Enquiry, text: str, actor: str) -> None:
        """The reply staff sent, threaded under the enquirer's last message (or our acknowledgement)."""
        self._queue(session, enquiry, MailKind.REPLY, enquiry.email, self.subject_for(enquiry), text, actor)

    def assigned(self, session: Session, enquiry: Enquiry, assignee: str, actor: str) -> None:
        if "@" in assignee and assignee != actor:  # no notice to yourself
            body = self._notice(enquiry, f"{actor} assigned enquiry {enquiry.reference} to you.")
            self._queue(
                session, enquiry, MailKind.ASSIGNED, assignee, f"Assigned to you: {enquiry.reference}", body, actor
            )

    def routed(self, session: Session, enquiry: Enquiry) -> None:
        """Tell the route's contact (the taxonomy's `contact_email`) of a new enquiry for them."""
        category = self.taxonomy.categories.get(enquiry.category or "") if self.taxonomy else None
        if category is not None and category.contact_email:
            body = self._notice(enquiry, f"A new enquiry, {enquiry.reference}, is routed to {category.route}.")
            subject = f"New enquiry for {category.route}: {enquiry.reference}"
            self._queue(session, enquiry, MailKind.ROUTED, category.contact_email, subject, body)

    def shared(self, session: Session, enquiry: Enquiry, partner_name: str, actor: str) -> None:
        """Send a partner's contact the enquirer's details: called only once their consent for it is recorded."""
        partner = self.partners.named(partner_name)
        if partner is None or not partner.contact_email:
            return
        lines = [
            f"Dear {partner.name},",
            "",
            "An enquirer has agreed that we pass their enquiry to you:",
            "",
            f"Name: {enquiry.name}",
            f"E-mail: {enquiry.email}",
        ]
        if enquiry.organisation:
            lines.append(f"Organisation: {enquiry.organisation}")
        lines += ["", enquiry.message, "", f"Our reference: {enquiry.reference}", "", TEAM]
        subject = f"An enquiry for {partner.name}: {enquiry.reference}"
        self._queue(session, enquiry, MailKind.SHARED, partner.contact_email, subject, "\n".join(lines), actor)

    def subject_for(self, enquiry: Enquiry) -> str:
        base = enquiry.subject or "Your enquiry to the West Midlands health tech network"
        if not base.lower().startswith("re:") and enquiry.subject:
            base = f"Re: {base}"
        return base if enquiry.reference and enquiry.reference in base else f"{base} [{enquiry.reference}]"

    def _notice(self, enquiry: Enquiry, headline: str) -> str:
        link = f"{self.settings.console_url.rstrip('/')}/staff/enquiries/{enquiry.id}"
        due = aware(enquiry.due_at).astimezone(self.zone).strftime("%d %b %H:%M") if enquiry.due_at else "no SLA"
        category, priority = enquiry.category or "not triaged", enquiry.priority or "normal"
        return "\n".join(
            [headline, "", f"Category: {category}", f"Priority: {priority}", f"Due: {due}", "", f"Open it: {link}"]
        )

    def _thread(self, session: Session, enquiry: Enquiry) -> tuple[str | None, str | None]:
        """(In-Reply-To, References) for a message to the enquirer: the conversation's ids so far, oldest first."""
        ids: list[tuple[object, str]] = [
            (m.created_at, m.message_id)
            for m in session.scalars(select(MailMessage).where(MailMessage.enquiry_id == enquiry.id))
        ]
        ids += [
            (m.created_at, m.message_id)
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.enquiry_id == enquiry.id, OutboxMessage.kind.in_(TO_ENQUIRER))
            )
        ]
        opened_by = enquiry.source_ref  # the e-mail that opened an enquiry, when it came by e-mail
        if opened_by and opened_by.startswith("<") and all(i != opened_by for _, i in ids):
            ids.insert(0, (enquiry.created_at, opened_by))
        ordered = [i for _, i in sorted(ids, key=lambda pair: aware(pair[0]))]  # type: ignore[arg-type]
        return (ordered[-1], " ".join(ordered[-10:])) if ordered else (None, None)

    def _queue(
        self,
        session: Session,
        enquiry: Enquiry,
        kind: MailKind,
        to: str,
        subject: str,
        body: str,
        actor: str = "system",
    ) -> None:
        in_reply_to, references = self._thread(session, enquiry) if kind.to_enquirer else (None, None)
        row = OutboxMessage(
            enquiry_id=enquiry.id,
            kind=kind,
            to_addr=to,
            subject=subject[:300],
            body=body,
            message_id=make_msgid(domain=self.domain),
            in_reply_to=in_reply_to,
            references=references,
            status=MailStatus.QUEUED,
            attempts=0,
            created_by=actor,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()  # the row's id, for its job
        enqueue_send(session, row, self.settings.mail_max_attempts, once=True)


def enqueue_send(session: Session, row: OutboxMessage, max_attempts: int, once: bool = False) -> None:
    """Queue the sending of one outbox row. The job names the row by its Message-ID as well as its id, and its key
    (`once`: at most one such job, ever) is the Message-ID: SQLite reuses the ids of deleted rows (an erasure), so a
    key or payload of ids alone would collide with an old job, or send the new row from an old one."""
    key = f"outbox:{row.message_id}"[:200] if once else None
    enqueue(
        session,
        JobKind.SEND_MAIL,
        {"outbox_id": row.id, "message_id": row.message_id},
        key=key,
        max_attempts=max_attempts,
    )
