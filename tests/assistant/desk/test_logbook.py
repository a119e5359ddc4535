"""The question log written in batches: ids at once, rows soon after, nothing lost on a clean shutdown, no id given
twice across workers, on SQLite and PostgreSQL."""

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.desk.logbook import Logbook
from assistant.desk.records import NewFeedback, question_row
from assistant.desk.tables import QuestionLog
from assistant.engine.assistant import Assistant
from assistant.models import Answer
from tests.helpers import serve_app
from ui.app import create_app

ANSWER = Answer("An answer [1]", [], False, 0.9, {})


@pytest.fixture
def sessions(both_databases: sessionmaker[Session]) -> sessionmaker[Session]:
    return both_databases


def logged(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(QuestionLog)) or 0)


def test_ids_come_at_once_and_rows_in_one_batch(sessions: sessionmaker[Session]) -> None:
    book = Logbook(sessions)
    ids = [book.log(question_row("api", f"Question {i}?", ANSWER, 3.0)) for i in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50  # in the order asked, none twice
    book.flush()
    assert logged(sessions) == 50 and not any(book.pending(i) for i in ids)


def test_workers_never_share_an_id(sessions: sessionmaker[Session]) -> None:
    books = [Logbook(sessions) for _ in range(3)]  # three worker processes, as far as ids go
    found: list[int] = []

    def work(book: Logbook) -> None:
        found.extend(book.log(question_row("api", "Q?", ANSWER, 1.0)) for _ in range(40))

    threads = [threading.Thread(target=work, args=(book,)) for book in books]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for book in books:
        book.close()
    assert len(set(found)) == len(found) == 120 and logged(sessions) == 120


def test_feedback_may_follow_its_answer_at_once(sessions: sessionmaker[Session]) -> None:
    from assistant.desk.records import record_feedback

    book = Logbook(sessions)
    question_id = book.log(question_row("chat", "What is PIONEER?", ANSWER, 3.0))
    new = NewFeedback("chat", "What is PIONEER?", "An answer", "up", question_id=question_id)
    assert record_feedback(sessions, new, book) > 0  # the queued question was written first
    started = time.monotonic()
    with pytest.raises(Exception, match="No logged question"):
        record_feedback(sessions, NewFeedback("chat", "Q", "A", "up", question_id=10**9), book)
    assert time.monotonic() - started < 0.5  # an id never handed out is refused without waiting


def test_a_clean_shutdown_writes_what_is_queued(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    sessions = open_database(settings)
    with serve_app(create_app(settings, Desk.open(settings, assistant, sessions))) as url:
        ids = [httpx.post(f"{url}/api/ask", json={"question": "hi"}).json()["question_id"] for _ in range(20)]
    # The server stopped at once after the last answer, well within one batch interval: all 20 are in.
    with sessions() as session:
        assert session.scalar(select(func.count()).where(QuestionLog.id.in_(ids))) == 20


def test_a_row_the_database_refuses_does_not_hold_up_the_rest(sessions: sessionmaker[Session]) -> None:
    book = Logbook(sessions)
    first = book.log(question_row("api", "Q1?", ANSWER, 1.0))
    poison = question_row("api", "Q2?", ANSWER, 1.0)
    poison.confidence = None  # type: ignore[assignment]  # NOT NULL on both databases: refused for what it holds
    book.log(poison)
    last = book.log(question_row("api", "Q3?", ANSWER, 1.0))
    assert book.flush(timeout_s=10)  # not stuck retrying the refused row
    with sessions() as session:
        written = set(session.scalars(select(QuestionLog.id)))
    assert {first, last} <= written and poison.id not in written and not book.pending(last)
