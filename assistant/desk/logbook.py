"""The question log, written in batches off the request path.

Logging a question used to be one synchronous commit per answer (`synchronous=FULL` on SQLite: an fsync each), and
under load those commits queued behind each other and dominated the latency. Now `Logbook.log` gives the row its
id at once and queues it; one thread writes what has queued in a single transaction every `FLUSH_S` (or sooner
when `MAX_BATCH` rows wait). Nothing is lost on a clean shutdown: `close()` (the app's shutdown, and `atexit` for
any other process) writes what is left. A failed write is retried, never dropped.

Ids are made in the application so `question_id` is in the response at once: each process reserves a block of
`BLOCK` ids from the `id_blocks` table in one short transaction (works alike on SQLite and PostgreSQL, and across
workers and replicas, since the reservation is a row update), then hands them out from memory. Ids stay integers
that JavaScript can hold, and increase (within a process) in the order questions were asked.

Enquiries are not batched: an enquiry is committed before its 201, as its sender is told it was received.
"""

import atexit
import logging
import queue
import threading
import time

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.tables import IdBlock, QuestionLog

log = logging.getLogger(__name__)
BLOCK = 1000  # ids reserved per trip to the database
FLUSH_S = 0.2  # longest a logged question waits before it is written
MAX_BATCH = 500
RETRY_S = 2.0


def reserve_ids(session: Session, name: str, size: int) -> range:
    """`size` ids no other process will be given: the row update holds its lock until the transaction ends."""
    session.execute(update(IdBlock).where(IdBlock.name == name).values(next_id=IdBlock.next_id + size))
    end = session.scalar(select(IdBlock.next_id).where(IdBlock.name == name))
    assert end is not None  # the migration creates the row
    return range(end - size, end)


class Logbook:
    """Question-log rows queued and written in batches by one thread per process."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._ids: range = range(0)
        self._next = 0
        self._id_lock = threading.Lock()
        self._queue: queue.Queue[QuestionLog] = queue.Queue()
        self._pending: set[int] = set()  # ids queued or being written, for feedback that refers to one
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def log(self, row: QuestionLog) -> int:
        """Give the row its id, queue it, and return the id (the row is written within `FLUSH_S`)."""
        with self._id_lock:
            if self._next >= self._ids.stop:
                with self.sessions.begin() as session:
                    self._ids = reserve_ids(session, "question_log", BLOCK)
                self._next = self._ids.start
            row.id, self._next = self._next, self._next + 1
            self._pending.add(row.id)
        self._ensure_started()
        self._queue.put(row)
        return row.id

    def pending(self, question_id: int) -> bool:
        return question_id in self._pending

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False if that took longer than `timeout_s` (the
        database is away: the rows stay queued and are written when it is back)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self) -> None:
        """Write what is queued before the process ends (the app's shutdown; `atexit`). Safe to call again."""
        if not self.flush():
            log.error("%d logged questions could not be written before shutdown", self._queue.unfinished_tasks)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="question-log", daemon=True)
                    self._thread.start()
                    atexit.register(self.close)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + FLUSH_S
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self._write(batch)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: list[QuestionLog]) -> None:
        """Write the batch. If that fails, each row alone: a row the database refuses for what it holds (a
        constraint) is logged and skipped, so it cannot hold up the rest; rows refused because the database is
        away are kept and retried until it is back."""
        ids = [row.id for row in batch]
        while batch:
            try:
                with self.sessions.begin() as session:
                    session.add_all(batch)
                break
            except Exception:
                kept = []
                for row in (_copy(r) for r in batch):  # fresh objects: the failed session's are not reused
                    try:
                        with self.sessions.begin() as session:
                            session.add(row)
                    except OperationalError:  # unreachable, locked, read-only: it may pass later
                        kept.append(row)
                    except Exception:  # the row itself is refused: it never will be written
                        log.exception("logged question %s refused by the database; skipped", row.id)
                if kept:
                    log.error("writing %d logged questions failed; retrying in %.0f s", len(kept), RETRY_S)
                    time.sleep(RETRY_S)
                batch = kept
        self._pending.difference_update(ids)


def _copy(row: QuestionLog) -> QuestionLog:
    columns = QuestionLog.__table__.columns.keys()
    return QuestionLog(**{name: getattr(row, name) for name in columns})
