"""Background jobs as leased rows in the database, so each runs once across workers and replicas, on SQLite and
PostgreSQL alike.

Why a table and not a queue library: the kept ones need a broker we do not otherwise run (Celery, Dramatiq, arq:
Redis or RabbitMQ) or support one database only (procrastinate: PostgreSQL; huey: SQLite or Redis). A jobs table
needs nothing new, and a job is written in the same transaction as the change that causes it (the outbox pattern).

A job is claimed by a compare-and-set UPDATE (queued, or running with an expired lease → running, ours, leased
until now + lease): of two workers racing for one row, exactly one UPDATE matches. A worker that dies leaves its
lease to expire, and the job runs again: handlers are idempotent (a message is re-sent with the same Message-ID).
Periodic work (the mailbox poll, retention) is a job per time slot, keyed `kind:slot`: the unique key makes
"once per slot" hold across every worker.

While it runs, a job's lease is renewed (`_renew`), so a long ingest is never taken over mid-run; its progress is
written only by the worker holding it (`set_progress(..., owner)`); past `max_attempts` it ends "failed".

enqueue(session, "send_mail", {"outbox_id": 7}, key="outbox:7", max_attempts=8)   # inside the change's transaction
JobRunner(sessions, handlers, periodic, lease_s, idle_s).start()                   # a lane: a thread in each process
`Desk.start_jobs` runs two lanes, so that mail and the mailbox poll never wait behind an ingest or a crawl.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.tables import Job, utcnow
from assistant.desk.vocabulary import JobStatus

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 3600.0


class RetryLater(Exception):
    """Raised by a handler for a failure worth another attempt (a mail server saying "try later"), or, with
    `counts=False`, to wait its turn (that wait does not use up an attempt)."""

    def __init__(self, reason: str, wait_s: float, counts: bool = True) -> None:
        super().__init__(reason)
        self.wait_s, self.counts = wait_s, counts


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    owner: str = ""  # the lease holder: its writes to the job are fenced on still holding it


Handler = Callable[[Claimed], None]


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    key: str | None = None,
    max_attempts: int = 1,
    delay_s: float = 0.0,
) -> Job:
    """Add a job inside the caller's transaction (it commits, or vanishes, with the change that caused it)."""
    job = Job(
        kind=kind,
        key=key,
        payload=payload,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        run_after=utcnow() + timedelta(seconds=delay_s),
        progress={},
        created_at=utcnow(),
    )
    session.add(job)
    return job


def schedule(sessions: sessionmaker[Session], kind: str, every_s: float, payload: dict[str, Any] | None = None) -> int:
    """Make sure this time slot's periodic job exists (one per slot across all workers: the key is unique);
    returns the slot."""
    slot = int(time.time() // every_s)
    try:
        with sessions.begin() as session:
            enqueue(session, kind, payload or {}, key=f"{kind}:{slot}")
    except IntegrityError:
        pass  # another worker (or this one, earlier) made it
    return slot


def claim(sessions: sessionmaker[Session], owner: str, lease_s: float, kinds: tuple[str, ...]) -> Claimed | None:
    """The next due job of these kinds, leased to `owner`; None when nothing is due. A job whose lease ran out
    with no attempt left (it killed its worker each time) is failed, not claimed again."""
    now = utcnow()
    expired = (Job.status == JobStatus.RUNNING) & (Job.lease_until < now)
    due = or_(Job.status == JobStatus.QUEUED, expired & (Job.attempts < Job.max_attempts))
    with sessions.begin() as session:
        gave_up = {
            "status": JobStatus.FAILED,
            "finished_at": now,
            "lease_owner": None,
            "lease_until": None,
            "last_error": "the worker stopped during the job on each of its attempts",
        }
        session.execute(
            update(Job).where(expired, Job.attempts >= Job.max_attempts, Job.kind.in_(kinds)).values(gave_up)
        )
        candidates = session.execute(
            select(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
            .where(due, Job.run_after <= now, Job.kind.in_(kinds))
            .order_by(Job.run_after, Job.id)
            .limit(5)
        ).all()
        for job_id, kind, payload, attempts, max_attempts in candidates:
            lease = {"lease_owner": owner, "lease_until": now + timedelta(seconds=lease_s)}
            taken = session.execute(
                update(Job)
                .where(Job.id == job_id, due)
                .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, **lease)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return Claimed(job_id, kind, dict(payload or {}), attempts + 1, max_attempts, owner)
    return None


def finish(sessions: sessionmaker[Session], job: Claimed, owner: str, error: Exception | None = None) -> None:
    """Record how the job went: done; or queued again after a back-off (`RetryLater`, attempts left); or failed."""
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if error is None:
        values |= {"status": JobStatus.DONE, "finished_at": utcnow(), "last_error": None}
    elif isinstance(error, RetryLater) and (job.attempts < job.max_attempts or not error.counts):
        values |= {
            "status": JobStatus.QUEUED,
            "last_error": str(error)[:2000],
            "run_after": utcnow() + timedelta(seconds=min(error.wait_s, MAX_BACKOFF_S)),
        }
        if not error.counts:
            values["attempts"] = job.attempts - 1
    else:
        values |= {"status": JobStatus.FAILED, "finished_at": utcnow(), "last_error": str(error)[:2000]}
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job.id, Job.lease_owner == owner).values(**values))


def run_one(sessions: sessionmaker[Session], handlers: dict[str, Handler], owner: str, lease_s: float) -> bool:
    """Claim and run one due job; False when there was none."""
    job = claim(sessions, owner, lease_s, tuple(handlers))
    if job is None:
        return False
    ended = threading.Event()
    renewing = threading.Thread(
        target=_renew, args=(sessions, job, lease_s, ended), name=f"lease-{job.id}", daemon=True
    )
    renewing.start()
    try:
        handlers[job.kind](job)
    except Exception as exc:  # a handler's failure is the job's, recorded on it; the runner goes on
        if not isinstance(exc, RetryLater):
            log.exception("job %s (%s) failed", job.id, job.kind)
        finish(sessions, job, owner, exc)
    else:
        finish(sessions, job, owner)
    finally:  # a beat after `finish` matches nothing: it renews only a running job this worker still holds
        ended.set()
        renewing.join()
    return True


def _renew(sessions: sessionmaker[Session], job: Claimed, lease_s: float, ended: threading.Event) -> None:
    """Extend the lease every third of it while the handler runs, so a long job (a large ingest) is never taken
    by a second worker while the first is still at it; a lost lease (another worker has it) is not taken back."""
    while not ended.wait(lease_s / 3):
        try:
            with sessions.begin() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.lease_owner == job.owner, Job.status == JobStatus.RUNNING)
                    .values(lease_until=utcnow() + timedelta(seconds=lease_s))
                )
        except Exception:  # the database away for a moment: the next beat tries again
            log.warning("could not renew the lease of job %s", job.id, exc_info=True)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class JobRunner:
    """A daemon thread that runs due jobs and keeps the periodic ones scheduled, until `stop`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: dict[str, Handler],
        periodic: dict[str, float],
        lease_s: float,
        idle_s: float,
    ) -> None:
        self.sessions, self.handlers, self.periodic = sessions, handlers, periodic
        self.lease_s, self.idle_s = lease_s, idle_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduled: dict[str, int] = {}  # the last slot made per periodic kind: one insert per slot, not per tick

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def run(self) -> None:
        owner = worker_name()
        while not self._stop.is_set():
            try:
                for kind, every_s in self.periodic.items():
                    if self._scheduled.get(kind) != int(time.time() // every_s):
                        self._scheduled[kind] = schedule(self.sessions, kind, every_s)
                while not self._stop.is_set() and run_one(self.sessions, self.handlers, owner, self.lease_s):
                    pass
            except Exception:  # the database away: try again after a pause, never end the thread
                log.exception("background jobs paused")
            self._stop.wait(self.idle_s)


def run_until_idle(sessions: sessionmaker[Session], handlers: dict[str, Handler], lease_s: float) -> int:
    """Run due jobs in this thread until none is due (the CLI's `jobs run --until-idle`); returns how many ran."""
    owner, ran = worker_name(), 0
    while run_one(sessions, handlers, owner, lease_s):
        ran += 1
    return ran


def purge_finished(sessions: sessionmaker[Session], days: int) -> int:
    """Forget jobs that ended more than `days` ago (periodic jobs add one row per time slot)."""
    with sessions.begin() as session:
        gone = session.execute(
            delete(Job).where(
                Job.status.in_([s for s in JobStatus if s.ended]), Job.finished_at < utcnow() - timedelta(days=days)
            )
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def set_progress(sessions: sessionmaker[Session], job_id: int, progress: dict[str, Any], owner: str = "") -> None:
    """Record a running job's progress (a request to cancel it, made meanwhile, is kept); with `owner`, only while
    that worker still holds the job's lease."""
    with sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is not None and (not owner or job.lease_owner == owner):
            job.progress = {**progress, "cancel": bool((job.progress or {}).get("cancel"))}


def other_running(sessions: sessionmaker[Session], job: Claimed, kind: str) -> bool:
    """Whether an older job of this kind is running (its lease alive): jobs that must run one at a time wait."""
    with sessions() as session:
        alive = (Job.kind == kind, Job.status == JobStatus.RUNNING, Job.id < job.id, Job.lease_until > utcnow())
        found = session.scalar(select(Job.id).where(*alive).limit(1))
    return found is not None


def progress_of(sessions: sessionmaker[Session], job_id: int) -> dict[str, Any]:
    """A job's progress as last recorded (with `cancel` when staff asked it to stop); empty for no such job."""
    with sessions() as session:
        job = session.get(Job, job_id)
        return dict(job.progress or {}) if job is not None else {}
