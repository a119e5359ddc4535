"""The desk: a small root holding one service per role, which every screen, the staff API, the CLI and the mail
webhook call; none of them touches a table.

desk = Desk.open(Settings())                     # the engine, the database (migrated) and the taxonomy, once
answer, question_id = desk.questions.ask("What is PIONEER?", [], channel="api")
desk.enquiries.receive(new)                       # stored, triaged, acknowledged
desk.mail.poll()                                  # the mailbox read; desk.library, desk.accounts, desk.reports
"""

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import jobs
from assistant.desk.accounts import Accounts
from assistant.desk.db import open_database
from assistant.desk.enquiries import Enquiries
from assistant.desk.library import Library
from assistant.desk.mail.outbox import Outbox
from assistant.desk.mail.service import Mail
from assistant.desk.partners import PartnerDirectory
from assistant.desk.privacy import Privacy
from assistant.desk.questions import Questions
from assistant.desk.reports import Reports
from assistant.desk.taxonomy import TaxonomyFile, load_taxonomy
from assistant.desk.triage import Triage
from assistant.desk.vocabulary import JobKind
from assistant.engine import Assistant

log = logging.getLogger(__name__)
FINISHED_JOBS_DAYS = 7  # how long an ended job stays listed (its progress, its errors) before it is deleted


class Desk:
    """The engine plus the records it writes: one per app (or CLI command), shared by every channel."""

    def __init__(
        self,
        settings: Settings,
        assistant: Assistant,
        sessions: sessionmaker[Session],
        taxonomy: TaxonomyFile | None = None,
    ) -> None:
        self.settings, self.sessions = settings, sessions
        taxonomy = taxonomy or load_taxonomy(settings.taxonomy_file)
        self.partners = PartnerDirectory(settings.partners_file)
        outbox = Outbox(settings, taxonomy, self.partners)
        self.questions = Questions(settings, assistant, sessions)
        triage = Triage(taxonomy, assistant, sessions)
        self.enquiries = Enquiries(sessions, triage, outbox)
        self.privacy = Privacy(sessions, taxonomy, erased=triage.forget_erased)
        self.mail = Mail(settings, sessions, outbox, self.enquiries)
        self.library = Library(sessions, assistant, settings)
        self.accounts = Accounts(settings, sessions)
        self.reports = Reports(sessions, assistant.embedder)
        self.engine = assistant  # for the app's health and index checks (`Assistant`'s public face)
        self._jobs: list[jobs.JobRunner] = []

    @classmethod
    def open(
        cls, settings: Settings, assistant: Assistant | None = None, sessions: sessionmaker[Session] | None = None
    ) -> "Desk":
        """The configured desk: the engine over the index, the database migrated, the taxonomy's triage."""
        return cls(settings, assistant or Assistant.load(settings), sessions or open_database(settings))

    # Background jobs -----------------------------------------------------------------------------------------

    def job_handlers(self) -> dict[str, jobs.Handler]:
        return {
            JobKind.SEND_MAIL: self.mail.send_job,
            JobKind.MAIL_POLL: self.mail.poll_job,
            JobKind.HOUSEKEEPING: lambda job: self.housekeep(),
            **self.library.handlers(),
        }

    def start_jobs(self) -> None:
        """Run background jobs in this process: each job once across every process sharing the database. Two
        lanes, each a thread: ingests and crawls (minutes, at times) in one, so mail, the mailbox poll and retention
        (periodic, in the other) never wait behind them."""
        periodic: dict[str, float] = {JobKind.HOUSEKEEPING: self.settings.housekeeping_minutes * 60.0}
        if self.settings.imap_url:
            periodic[JobKind.MAIL_POLL] = float(self.settings.mail_poll_seconds)
        handlers, library = self.job_handlers(), self.library.handlers()
        others = {kind: handler for kind, handler in handlers.items() if kind not in library}
        lease, poll = self.settings.jobs_lease_seconds, self.settings.jobs_poll_seconds
        self._jobs = [
            jobs.JobRunner(self.sessions, others, periodic, lease, poll),
            jobs.JobRunner(self.sessions, library, self.library.periodic, lease, poll),
        ]
        for runner in self._jobs:
            runner.start()

    def run_jobs(self) -> int:
        """Run the jobs due now in this thread, until none is (the CLI); returns how many ran."""
        return jobs.run_until_idle(self.sessions, self.job_handlers(), self.settings.jobs_lease_seconds)

    def housekeep(self) -> None:
        """Apply retention: logged questions, idle conversations, finished jobs, personal data of old resolved
        enquiries."""
        try:
            self.questions.purge()
            jobs.purge_finished(self.sessions, days=FINISHED_JOBS_DAYS)
            self.privacy.purge()
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

    def close(self) -> None:
        """Stop background jobs and write what is still queued (the question log): nothing logged is lost."""
        for runner in self._jobs:
            runner.stop()
        self.questions.close()
