"""The desk: the service every UI calls (questions, enquiries, mail, staff, records, GDPR; documents through
`desk.library`). Routes and screens call these methods and render what they return; none touches a table.

desk = Desk.open(Settings())                   # the engine, the database (migrated) and triage, once
answer, question_id = desk.ask("What is PIONEER?", [], channel="api")
"""

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import accounts, conversations, gdpr, imap, insights, jobs, mail, records, triage
from assistant.desk.db import open_database
from assistant.desk.inbox import (
    EnquiryUpdate,
    Filters,
    InboxPage,
    apply,
    detail,
    inbox_page,
    list_enquiries,
    neighbours,
)
from assistant.desk.library import Library
from assistant.desk.logbook import Logbook
from assistant.desk.mailer import send_one
from assistant.desk.outbox import SEND_MAIL, Outbox
from assistant.desk.partners import PartnerDirectory
from assistant.desk.records import NewEnquiry, NewFeedback, Receipt, create_enquiry, purge_questions, question_row
from assistant.desk.starters import automatic_starters
from assistant.desk.taxonomy import load_taxonomy
from assistant.desk.triage import Triage
from assistant.engine import PUBLIC_ONLY, Assistant, Visible
from assistant.errors import NotAllowed
from assistant.models import Answer

log = logging.getLogger(__name__)
MAX_STARTERS = 4
WEEKS_SHOWN = 12  # the figures page's chart: a quarter, week by week


class Desk:
    """The engine plus the records it writes: one per app (or CLI command), shared by every channel."""

    def __init__(
        self, settings: Settings, assistant: Assistant, sessions: sessionmaker[Session], triage: Triage | None = None
    ) -> None:
        self.settings = settings
        self.assistant = assistant
        self.sessions = sessions
        self.triage = triage
        self.logbook = Logbook(sessions)
        # Answering is CPU work: past a few at once, more threads contend for the GIL and starve the event loop.
        self._answering = threading.BoundedSemaphore(settings.answer_threads)
        self.partners = PartnerDirectory(settings.partners_file)
        self.outbox = Outbox(settings, triage.taxonomy if triage else None, self.partners)
        self.library = Library(sessions, assistant, settings)  # the documents staff manage (ui: desk.library)
        self._jobs: list[jobs.JobRunner] = []

    @classmethod
    def open(
        cls, settings: Settings, assistant: Assistant | None = None, sessions: sessionmaker[Session] | None = None
    ) -> "Desk":
        """The configured desk: the engine over the index, the database migrated, the taxonomy's triage."""
        assistant = assistant or Assistant.load(settings)
        sessions = sessions or open_database(settings)
        return cls(
            settings, assistant, sessions, Triage.load(load_taxonomy(settings.taxonomy_file), assistant, sessions)
        )

    # Questions -----------------------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        history: list[str],
        channel: str,
        partner_id: str | None = None,
        session_id: str | None = None,
        visible: Visible = PUBLIC_ONLY,
    ) -> tuple[Answer, int]:
        """Answer and log the question; returns the answer and its log id. Raises `InvalidQuestion`.

        With a `session_id` and no `history`, the session's earlier questions are the history (API clients need
        not resend them). Public channels answer from public documents; a partner's widget from what its
        configuration allows (`visible`).
        """
        with self._answering:
            *_, last = self.ask_stream(question, history, channel, partner_id, session_id, visible)
        assert not isinstance(last, str)  # the stream always ends with (answer, log id)
        return last

    def ask_stream(
        self,
        question: str,
        history: list[str],
        channel: str,
        partner_id: str | None = None,
        session_id: str | None = None,
        visible: Visible = PUBLIC_ONLY,
    ) -> Iterator[str | tuple[Answer, int]]:
        """`ask` for a screen that shows the answer as it is written: each accepted sentence of a written answer as
        it comes (`Assistant.ask_stream`), then (answer, log id), logged as `ask` logs it."""
        started = time.perf_counter()
        if session_id and not history:
            history = conversations.remembered(self.sessions, session_id)
        answer = None
        for item in self.assistant.ask_stream(question, history, visible):
            if isinstance(item, str):
                yield item
            else:
                answer = item
        assert answer is not None  # the engine always ends with the Answer
        if session_id:
            conversations.remember(self.sessions, session_id, question)
        latency = (time.perf_counter() - started) * 1000
        log_id = self.logbook.log(question_row(channel, question, answer, latency, partner_id))
        yield answer, log_id

    def feedback(self, new: NewFeedback, replaces: int | None = None) -> int:
        """Store a rating (redacted), in place of the same visitor's earlier one of the same answer (`replaces`);
        raises `InvalidRequest` for an unknown question id."""
        return records.record_feedback(self.sessions, new, self.logbook, replaces)

    def withdraw_feedback(self, feedback_id: int) -> None:
        """Forget a rating its visitor took back (clicked the same thumb again)."""
        records.withdraw_feedback(self.sessions, feedback_id)

    def close(self) -> None:
        """Stop background jobs and write what is still queued (the question log): nothing logged is lost."""
        for runner in self._jobs:
            runner.stop()
        self.logbook.close()

    # Background jobs -----------------------------------------------------------------------------------------

    def job_handlers(self) -> dict[str, jobs.Handler]:
        return {
            SEND_MAIL: lambda job: send_one(self.sessions, self.settings, job),
            "mail_poll": lambda job: self._poll(),
            "housekeeping": lambda job: self.housekeep(),
            **self.library.handlers(),
        }

    def start_jobs(self) -> None:
        """Run background jobs in this process: each job once across every process sharing the database. Two
        lanes, each a thread: ingests and crawls (minutes, at times) in one, so mail, the mailbox poll and retention
        (periodic, in the other) never wait behind them."""
        periodic = {"housekeeping": self.settings.housekeeping_minutes * 60.0}
        if self.settings.imap_url:
            periodic["mail_poll"] = float(self.settings.mail_poll_seconds)
        handlers, library = self.job_handlers(), self.library.handlers()
        lanes = [({k: h for k, h in handlers.items() if k not in library}, periodic), (library, self.library.periodic)]
        self._jobs = [jobs.JobRunner(self.sessions, lane, every, self.settings.jobs_lease_seconds,
                                     self.settings.jobs_poll_seconds) for lane, every in lanes]  # fmt: skip
        for runner in self._jobs:
            runner.start()

    def run_jobs(self) -> int:
        """Run the jobs due now in this thread, until none is (the CLI); returns how many ran."""
        return jobs.run_until_idle(self.sessions, self.job_handlers(), self.settings.jobs_lease_seconds)

    def starter_questions(self, configured: list[str] | None) -> list[str]:
        """The configured starters, or the public documents' section headings asked as questions, kept if answered."""
        return configured[:MAX_STARTERS] if configured else automatic_starters(self.assistant, MAX_STARTERS)

    def housekeep(self) -> None:
        """Apply retention: logged questions, idle conversations, personal data of old resolved enquiries."""
        try:
            purge_questions(self.sessions, self.settings.question_log_days)
            jobs.purge_finished(self.sessions, days=7)
            conversations.forget_idle(self.sessions, self.settings.conversation_days, self.settings.max_conversations)
            if self.triage is not None:
                self.triage.purge(self.sessions)
        except Exception:  # a failed purge is retried next time; it must not take a worker down
            log.exception("housekeeping failed; it runs again later")

    def health(self) -> list[str]:
        """What is wrong with the desk's own parts (the database), as reasons; empty when healthy."""
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # any driver error means unreachable; the detail goes to the log, not to callers
            log.exception("database health check failed")
            return ["database unreachable"]
        return []

    # Enquiries -----------------------------------------------------------------------------------------------

    def receive(self, new: NewEnquiry) -> Receipt:
        """Store an enquiry (merging duplicates), then triage it. Storing comes first and alone decides success: a
        triage failure leaves the enquiry `new` for staff, never lost. What a sender is told (the receipt's
        reference) is the same whether it was new or merged into an open one."""
        receipt = create_enquiry(self.sessions, new)
        if not receipt.created:
            return receipt
        try:
            if self.triage is not None:  # triage queues the acknowledgement (with the SLA) in its transaction
                self.triage.triage(self.sessions, receipt.id, mail=self.outbox, acknowledge=new.acknowledge)
                return receipt
        except Exception:  # any triage fault: the enquiry stays new and visible in the inbox
            log.exception("triage failed for enquiry %s; left as new", receipt.id)
        try:
            if new.acknowledge:
                mail.acknowledge(self.sessions, self.outbox, receipt.id)
        except Exception:  # the enquiry is stored: a missing acknowledgement must not undo that
            log.exception("could not queue the acknowledgement of enquiry %s", receipt.id)
        return receipt

    # Mail ----------------------------------------------------------------------------------------------------

    def receive_mail(self, raw: bytes, via: str) -> str:
        """Store one received e-mail: created | reply | duplicate | ignored | refused (see `mail.receive_raw`)."""
        return mail.receive_raw(self.sessions, self.settings, raw, via, self.receive)

    def poll_mailbox(self) -> imap.PollReport:
        """Read the new messages of the configured mailbox (one that cannot be taken is refused, never retried)."""
        return mail.poll(self.sessions, self.settings, lambda new: self.receive(new))

    def _poll(self) -> None:
        report = self.poll_mailbox()
        log.info("mailbox poll: %d messages in %.1f s (%s)", report.messages, report.seconds, dict(report.results))

    def mail_health(self) -> dict[str, Any]:
        return mail.health(self.sessions, self.settings)

    def outgoing_mail(self, limit: int = 100) -> list[dict[str, Any]]:
        return mail.outbox(self.sessions, limit)

    def retry_mail(self, outbox_id: int, actor: str) -> None:
        mail.retry(self.sessions, self.settings, outbox_id, actor)

    def attachment(self, attachment_id: int) -> tuple[str, bytes]:
        return mail.attachment(self.sessions, attachment_id)

    # Staff ---------------------------------------------------------------------------------------------------

    def sign_in(self, email: str, password: str, locked: bool = False) -> str:
        return accounts.sign_in(self.sessions, email, password, self.settings.staff_session_hours, locked)

    def member(self, token: str | None) -> accounts.StaffMember | None:
        return accounts.member_for(self.sessions, token)

    def sign_out(self, token: str | None) -> None:
        accounts.sign_out(self.sessions, token)

    def categories(self) -> list[str]:
        return list(self.triage.taxonomy.categories) if self.triage else []

    def inbox(self, filters: Filters, reader: str | None = None) -> list[dict[str, Any]]:
        return list_enquiries(self.sessions, filters, reader)

    def inbox_page(self, filters: Filters, page: int = 1, per_page: int = 25) -> InboxPage:
        """One page of the inbox as filtered and sorted, with the count of enquiries per status."""
        return inbox_page(self.sessions, filters, page, per_page)

    def neighbours(self, filters: Filters, enquiry_id: int) -> tuple[int | None, int | None]:
        """The previous and next enquiry in the inbox as filtered (None at either end)."""
        return neighbours(self.sessions, filters, enquiry_id)

    def staff_emails(self) -> list[str]:
        """The accounts that can be assigned enquiries (not disabled)."""
        return accounts.active_emails(self.sessions)

    def enquiry(self, enquiry_id: int) -> dict[str, Any]:
        """Everything about one enquiry; raises `NotFound`."""
        return detail(self.sessions, enquiry_id)

    def update(self, enquiry_id: int, update: EnquiryUpdate, actor: str) -> dict[str, Any]:
        """Apply a staff change and return the enquiry as it now is; raises `NotFound`, `Conflict`, ..."""
        apply(self.sessions, self.triage, enquiry_id, update, actor, self.outbox)
        return detail(self.sessions, enquiry_id)

    def record_partner_consent(self, enquiry_id: int, partner: str, how: str, member: accounts.StaffMember) -> None:
        """Record that the enquirer agreed to be shared with a partner (admins only: it lets their data out)."""
        triage.record_partner_consent(self.sessions, enquiry_id, partner, how, _admin(member, "record consent"))

    def share_with_partner(self, enquiry_id: int, partner: str, actor: str) -> dict[str, Any]:
        return triage.share_with_partner(self.sessions, enquiry_id, partner, actor, self.outbox)

    def knowledge_gaps(self, days: int = 90) -> list[dict[str, Any]]:
        return insights.knowledge_gaps(self.sessions, self.assistant.embedder, days)

    def figures(self, days: int = 30) -> dict[str, Any]:
        """Volume, response times and SLA, partners' widget use over `days`; and enquiries by category per week
        (`weekly`) over the last `weeks_shown` weeks."""
        return insights.figures(self.sessions, days) | {"weekly": insights.weekly_volume(self.sessions, WEEKS_SHOWN)}

    # Personal data -------------------------------------------------------------------------------------------

    def export_csv(self, member: accounts.StaffMember | None) -> str:
        """Every enquiry as CSV (admins only; `None` is the operator at the shell); audited."""
        return gdpr.enquiries_csv(self.sessions, _admin(member, "export every enquiry"))

    def export_subject(self, email: str, member: accounts.StaffMember | None) -> dict[str, Any]:
        """Everything held about an address (admins only); audited."""
        return gdpr.export_subject(self.sessions, email, _admin(member, "export personal data"))

    def sign_out_everywhere(self, member: accounts.StaffMember) -> int:
        return accounts.sign_out_everywhere(self.sessions, member.email)

    def erase_subject(self, email: str, member: accounts.StaffMember | None) -> int:
        """Erase everything about an address (admins only; `None` is the operator at the shell)."""
        actor = _admin(member, "erase personal data")
        if self.triage is not None:
            return self.triage.erase_subject(self.sessions, email, actor)
        return gdpr.erase_subject(self.sessions, email, actor)


def _admin(member: accounts.StaffMember | None, action: str) -> str:
    """The actor for an admin-only action; raises `NotAllowed` for staff who are not admins."""
    if member is not None and member.role != "admin":
        raise NotAllowed(f"Only an admin can {action}.")
    return member.email if member else "cli"
