"""What the chat, the widget and the HTTP API share: ask and log, render answers safely, pick starter questions.

Everything from documents or users is escaped here before any page sees it: the chat renders Markdown, so both
HTML and Markdown syntax in a document or a message must arrive as plain text.
"""

import html
import logging
import re
import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS, Settings
from assistant.models import Answer, Citation
from assistant.partners import PUBLIC_ONLY
from assistant.records import NewEnquiry, Receipt, create_enquiry, log_question, purge_questions, redact
from assistant.retrieve import Visible
from assistant.service import Assistant
from assistant.tables import Conversation, utcnow
from assistant.taxonomy import load_taxonomy
from assistant.triage import Triage

log = logging.getLogger(__name__)

_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")  # inline syntax; "<" and "&" are HTML-escaped first
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+\.)", re.MULTILINE)  # headings, quotes, lists
_MARKER = re.compile(r"\\\[(\d+)\\\]")
MAX_STARTERS = 4
MAX_REMEMBERED = MAX_HISTORY_ITEMS  # questions kept per API or widget conversation
HOUSEKEEPING_S = 3600
CONVERSATION_DAYS = 1  # conversations idle this long are forgotten
# A name: a capitalised word or acronym that does not start a sentence ("…led by PIONEER, …").
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][A-Za-z0-9&-]*[A-Za-z0-9](?: (?:of |for |and )?[A-Z][A-Za-z0-9&-]*[A-Za-z0-9])*")
_COMMON = {"this", "these", "there", "their", "they", "what", "when", "where", "which", "while", "with"}


def escape_markdown(text: str) -> str:
    """Text that renders as itself in Markdown: HTML entities escaped, Markdown punctuation backslashed."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2)[:-1] + "\\." if m.group(2).endswith(".") else "\\" + m.group(2)), escaped
    )


def chat_markdown(answer: Answer) -> str:
    """The answer for the chat: escaped text whose `[n]` markers link to the source cards."""
    escaped = escape_markdown(answer.text)
    return _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#source-{m.group(1)})", escaped)


def safe_link(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def source_cards(citations: list[Citation]) -> str:
    """Numbered source cards as HTML; every string escaped, links only http(s)."""
    if not citations:
        return '<p class="no-sources">Sources for each answer appear here.</p>'
    cards = []
    for c in citations:
        link = safe_link(c.url)
        where = (
            f'<a href="{html.escape(link)}" target="_blank" rel="noopener noreferrer">Open the source</a>'
            if link
            else f'<span class="where">{html.escape(c.source)}</span>'
        )
        cards.append(
            f'<article class="source-card" id="source-{c.n}" aria-label="Source {c.n}">'
            f'<h3><span class="source-n">[{c.n}]</span> {html.escape(c.title)}</h3>'
            f'<p class="source-section">{html.escape(c.section or "")}</p>'
            f"<blockquote>{html.escape(c.snippet)}</blockquote>{where}</article>"
        )
    return '<div class="source-cards">' + "".join(cards) + "</div>"


class Answering:
    """An assistant plus the records it writes: one per app, shared by every channel."""

    def __init__(
        self, assistant: Assistant, sessions: sessionmaker[Session], log_days: int, triage: Triage | None = None
    ) -> None:
        self.assistant = assistant
        self.sessions = sessions
        self.log_days = log_days
        self.triage = triage
        self._purged_at = 0.0

    @classmethod
    def for_settings(cls, settings: Settings, assistant: Assistant, sessions: sessionmaker[Session]) -> "Answering":
        """The app's and the CLI's answering: the configured taxonomy's triage, retention and question log."""
        triage = Triage.load(load_taxonomy(settings.taxonomy_file), assistant, sessions)
        return cls(assistant, sessions, settings.question_log_days, triage)

    def _remembered(self, session_id: str | None, history: list[str]) -> list[str]:
        if history or not session_id:
            return history
        with self.sessions() as session:
            found = session.get(Conversation, session_id)
            return list(found.questions)[-MAX_REMEMBERED:] if found else []

    def _remember(self, session_id: str | None, question: str) -> None:
        """Keep the question (contact details redacted) for the session's follow-ups."""
        if not session_id:
            return
        question = redact(question[:MAX_QUESTION_CHARS])
        for _attempt in range(2):  # two first questions of one new session at once: the loser updates instead
            try:
                with self.sessions.begin() as session:
                    found = session.get(Conversation, session_id)
                    if found is None:
                        session.add(Conversation(session_id=session_id, questions=[question], updated_at=utcnow()))
                    else:
                        found.questions = [*found.questions, question][-MAX_REMEMBERED:]
                        found.updated_at = utcnow()
                return
            except IntegrityError:
                continue

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
        not resend them). Public channels never see internal documents; a partner's widget sees what its
        configuration allows (`visible`).
        """
        started = time.perf_counter()
        answer = self.assistant.ask(question, self._remembered(session_id, history), visible)
        self._remember(session_id, question)
        latency = (time.perf_counter() - started) * 1000
        log_id = log_question(self.sessions, channel, question, answer, latency, partner_id)
        if time.time() - self._purged_at > HOUSEKEEPING_S:  # retention, at most hourly, never in the request
            self._purged_at = time.time()
            threading.Thread(target=self.housekeep, name="housekeeping", daemon=True).start()
        return answer, log_id

    def housekeep(self) -> None:
        """Apply retention: logged questions, idle conversations, personal data of old resolved enquiries."""
        try:
            purge_questions(self.sessions, self.log_days)
            with self.sessions.begin() as session:
                idle = utcnow() - timedelta(days=CONVERSATION_DAYS)
                session.execute(delete(Conversation).where(Conversation.updated_at < idle))
            if self.triage is not None:
                self.triage.purge(self.sessions)
        except Exception:  # a failed purge is retried next hour; it must not take a worker down
            log.exception("housekeeping failed; it runs again within the hour")

    def receive(self, new: NewEnquiry) -> Receipt:
        """Store an enquiry (merging duplicates), then triage it. Storing comes first and alone decides success: a
        triage failure leaves the enquiry `new` for staff, never lost. What a sender is told (the receipt's
        reference) is the same whether it was new or merged into an open one."""
        receipt = create_enquiry(self.sessions, new)
        if receipt.created and self.triage is not None:
            try:
                self.triage.triage(self.sessions, receipt.id)
            except Exception:  # any triage fault: the enquiry stays new and visible in the inbox
                log.exception("triage failed for enquiry %s; left as new", receipt.id)
        return receipt

    def starter_questions(self, configured: list[str] | None) -> list[str]:
        """The configured starters, or "Tell me about X" for the names the corpus mentions most, kept if answered."""
        if configured:
            return configured[:MAX_STARTERS]
        names: Counter[str] = Counter()
        for chunk in self.assistant.index.chunks:
            if PUBLIC_ONLY(chunk):
                names.update(_NAME.findall(chunk.text))
        starters = []
        for name, _count in names.most_common(3 * MAX_STARTERS):
            question = f"Tell me about {name}"
            if (
                len(name) > 3
                and name.lower() not in _COMMON
                and not self.assistant.ask(question, None, PUBLIC_ONLY).abstained
            ):
                starters.append(question)
            if len(starters) == MAX_STARTERS:
                break
        return starters
