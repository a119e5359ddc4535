"""Questions (`desk.questions`): answered by the engine and logged, on every channel; API and widget
conversations remembered; visitors' ratings kept; the starter questions the chat offers."""

import threading
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import conversations, records
from assistant.desk.logbook import Logbook
from assistant.desk.reading import public_document
from assistant.desk.records import NewFeedback, purge_questions, question_row
from assistant.desk.starters import automatic_starters
from assistant.desk.views import PublicDocument
from assistant.engine import PUBLIC_ONLY, Assistant, Visible
from assistant.models import Answer

MAX_STARTERS = 4


class Questions:
    """The engine behind every channel, with the log it writes."""

    def __init__(self, settings: Settings, assistant: Assistant, sessions: sessionmaker[Session]) -> None:
        self.settings, self.assistant, self.sessions = settings, assistant, sessions
        self.logbook = Logbook(sessions)
        # Answering is CPU work: past a few at once, more threads contend for the GIL and starve the event loop.
        self._answering = threading.BoundedSemaphore(settings.answer_threads)

    def ask(
        self,
        question: str,
        history: list[str],
        channel: str,
        partner_id: str | None = None,
        session_id: str | None = None,
        visible: Visible = PUBLIC_ONLY,
        said: str = "",
    ) -> tuple[Answer, int]:
        """Answer and log the question; returns the answer and its log id. Raises `InvalidQuestion`.

        With a `session_id` and no `history`, the session's earlier questions are the history (API clients need
        not resend them), and its last answer is `said`. Public channels answer from public documents; a partner's
        widget from what its configuration allows (`visible`). `said`: the previous answer's text, whose sentences
        are not quoted again as context.
        """
        with self._answering:
            *_, last = self.ask_stream(question, history, channel, partner_id, session_id, visible, said)
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
        said: str = "",
    ) -> Iterator[str | tuple[Answer, int]]:
        """`ask` for a screen that shows the answer as it is written: each accepted sentence of a written answer as
        it comes (`Assistant.ask_stream`), then (answer, log id), logged as `ask` logs it."""
        started = time.perf_counter()
        if session_id and not history:
            history, said = conversations.remembered(self.sessions, session_id)
        answer = None
        for item in self.assistant.ask_stream(question, history, visible, said):
            if isinstance(item, str):
                yield item
            else:
                answer = item
        assert answer is not None  # the engine always ends with the Answer
        if session_id:
            conversations.remember(self.sessions, session_id, question, "" if answer.abstained else answer.text)
        latency = (time.perf_counter() - started) * 1000
        log_id = self.logbook.log(question_row(channel, question, answer, latency, partner_id))
        yield answer, log_id

    def chat(self, chat_id: str) -> dict[str, Any] | None:
        """A web chat's conversation kept under the visitor's cookie (None when there is none)."""
        return conversations.chat(self.sessions, chat_id)

    def keep_chat(self, chat_id: str, state: dict[str, Any]) -> None:
        conversations.keep_chat(self.sessions, chat_id, state)

    def forget_chat(self, chat_id: str) -> None:
        conversations.forget_chat(self.sessions, chat_id)

    def document(self, key: str) -> PublicDocument:
        """A public document whole, by its key (`document_key`); raises `NotFound` for any other."""
        return public_document(self.assistant.catalogue.chunks(PUBLIC_ONLY), key)

    def feedback(self, new: NewFeedback, replaces: int | None = None) -> int:
        """Store a rating (redacted), in place of the same visitor's earlier one of the same answer (`replaces`);
        raises `InvalidRequest` for an unknown question id."""
        return records.record_feedback(self.sessions, new, self.logbook, replaces)

    def withdraw_feedback(self, feedback_id: int) -> None:
        """Forget a rating its visitor took back (clicked the same thumb again)."""
        records.withdraw_feedback(self.sessions, feedback_id)

    def starters(self, configured: list[str] | None) -> list[str]:
        """The configured starters, or the public documents' section headings asked as questions, kept if answered."""
        return configured[:MAX_STARTERS] if configured else automatic_starters(self.assistant, MAX_STARTERS)

    def purge(self) -> None:
        """Retention: logged questions past `question_log_days`, idle conversations."""
        purge_questions(self.sessions, self.settings.question_log_days)
        conversations.forget_idle(self.sessions, self.settings.conversation_days, self.settings.max_conversations)

    def close(self) -> None:
        """Write what is still queued in the question log: nothing logged is lost."""
        self.logbook.close()
