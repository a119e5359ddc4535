"""Background jobs as leased rows, on SQLite and PostgreSQL: each job runs once however many workers race for it; a
dead worker's job is taken over when its lease ends; a retry waits; a periodic job exists once per time slot."""

import threading
import time
from collections import Counter

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import jobs
from assistant.desk.tables import Job


def _clean(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.execute(text("DELETE FROM jobs"))


def test_racing_workers_run_each_job_exactly_once(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    with sessions.begin() as session:
        for i in range(60):
            jobs.enqueue(session, "count", {"n": i}, key=f"count:{i}")
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def handler(job: jobs.Claimed) -> None:
        with lock:
            ran[job.payload["n"]] += 1

    def worker() -> None:
        jobs.run_until_idle(sessions, {"count": handler}, lease_s=60)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == list(range(60)) and set(ran.values()) == {1}
    with sessions() as session:
        assert set(session.scalars(select(Job.status))) == {"done"}


def test_a_dead_workers_job_is_taken_over_after_its_lease(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    with sessions.begin() as session:
        jobs.enqueue(session, "work", {}, max_attempts=3)
    taken = jobs.claim(sessions, "worker-that-dies", lease_s=0.5, kinds=("work",))
    assert taken is not None and taken.attempts == 1
    assert jobs.claim(sessions, "another", lease_s=30, kinds=("work",)) is None  # still leased
    time.sleep(0.7)
    again = jobs.claim(sessions, "another", lease_s=30, kinds=("work",))
    assert again is not None and again.id == taken.id and again.attempts == 2
    jobs.finish(sessions, taken, "worker-that-dies")  # the dead worker's late word changes nothing
    with sessions() as session:
        assert session.scalar(select(Job.status)) == "running"
    jobs.finish(sessions, again, "another")
    with sessions() as session:
        assert session.scalar(select(Job.status)) == "done"


def test_retry_later_waits_and_gives_up_after_the_last_attempt(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    with sessions.begin() as session:
        jobs.enqueue(session, "flaky", {}, max_attempts=2)
    calls = []

    def flaky(job: jobs.Claimed) -> None:
        calls.append(job.attempts)
        raise jobs.RetryLater("451 try later", wait_s=0.3)

    assert jobs.run_until_idle(sessions, {"flaky": flaky}, lease_s=30) == 1  # then it waits: nothing more is due
    time.sleep(0.4)
    assert jobs.run_until_idle(sessions, {"flaky": flaky}, lease_s=30) == 1
    with sessions() as session:
        job = session.scalars(select(Job)).one()
    assert calls == [1, 2] and job.status == "failed" and job.last_error == "451 try later"


def test_a_periodic_job_exists_once_per_slot(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    for _ in range(3):
        jobs.schedule(sessions, "poll", every_s=3600)
    with sessions() as session:
        assert len(session.scalars(select(Job).where(Job.kind == "poll")).all()) == 1


def test_waiting_its_turn_uses_up_no_attempt(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    with sessions.begin() as session:
        jobs.enqueue(session, "turn", {}, max_attempts=1)
    waits = []

    def busy(job: jobs.Claimed) -> None:
        waits.append(job.attempts)
        if len(waits) < 3:
            raise jobs.RetryLater("waiting for the job before it", wait_s=0.0, counts=False)

    for _ in range(3):
        jobs.run_until_idle(sessions, {"turn": busy}, lease_s=30)
    with sessions() as session:
        assert session.scalar(select(Job.status)) == "done"  # three turns waited with max_attempts=1
    assert waits == [1, 1, 1]


def test_finished_jobs_are_forgotten_after_a_while_whatever_ended_them(both_databases: sessionmaker[Session]) -> None:
    sessions = both_databases
    _clean(sessions)
    long_ago = jobs.utcnow() - jobs.timedelta(days=30)
    with sessions.begin() as session:
        for status in ("done", "failed", "cancelled", "queued"):
            jobs.enqueue(session, "old", {}, key=f"old:{status}")
        session.flush()
        for job in session.scalars(select(Job)):
            job.status = job.key.split(":")[1]
            job.finished_at = None if job.status == "queued" else long_ago
    assert jobs.purge_finished(sessions, days=7) == 3
    with sessions() as session:
        assert session.scalars(select(Job.status)).all() == ["queued"]  # what has not run yet stays
