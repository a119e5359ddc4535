"""API and widget conversations: each session's earlier questions, in the database so every worker shares them; and
the web chat's conversations, kept under the visitor's cookie so a reload shows them again."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.desk.records import redact
from assistant.desk.tables import Conversation, utcnow

CHAT = "chat:"  # web chats' keys, apart from API and widget sessions' own ids


def remembered(sessions: sessionmaker[Session], session_id: str) -> tuple[list[str], str]:
    """The session's last `MAX_HISTORY_ITEMS` questions, oldest first, and its last answer's text."""
    with sessions() as session:
        found = session.get(Conversation, session_id)
        return (list(found.questions)[-MAX_HISTORY_ITEMS:], found.said or "") if found else ([], "")


def _change(sessions: sessionmaker[Session], key: str, change: Callable[[Conversation], None]) -> None:
    """Apply `change` to the conversation under `key`, made first if there is none. Two first writes of one new
    conversation at once (two questions, two tabs): the loser finds the row and changes it instead."""
    for _attempt in range(2):
        try:
            with sessions.begin() as session:
                found = session.get(Conversation, key)
                if found is None:
                    found = Conversation(session_id=key, questions=[])
                    session.add(found)
                change(found)
                found.updated_at = utcnow()
            return
        except IntegrityError:
            continue


def remember(sessions: sessionmaker[Session], session_id: str, question: str, said: str = "") -> None:
    """Keep the question (contact details redacted) for the session's follow-ups, at most the last ten, and the
    answer given to it (from the documents: nothing of the visitor's)."""
    question = redact(question[:MAX_QUESTION_CHARS])

    def add(found: Conversation) -> None:
        found.questions = [*(found.questions or []), question][-MAX_HISTORY_ITEMS:]
        found.said = said

    _change(sessions, session_id, add)


def chat(sessions: sessionmaker[Session], chat_id: str) -> dict[str, Any] | None:
    """The web chat's conversation under this cookie, if one is kept."""
    with sessions() as session:
        found = session.get(Conversation, f"{CHAT}{chat_id}")
        return dict(found.chat) if found and found.chat else None


def keep_chat(sessions: sessionmaker[Session], chat_id: str, state: dict[str, Any]) -> None:
    """Keep the web chat's conversation (bounded as the chat bounds it) under the visitor's cookie."""
    _change(sessions, f"{CHAT}{chat_id}", lambda found: setattr(found, "chat", state))


def forget_chat(sessions: sessionmaker[Session], chat_id: str) -> None:
    """The bin: the conversation is gone from the server too."""
    with sessions.begin() as session:
        session.execute(delete(Conversation).where(Conversation.session_id == f"{CHAT}{chat_id}"))


def forget_idle(sessions: sessionmaker[Session], days: int, keep: int) -> None:
    """Delete conversations idle for `days`, and past the `keep` most recent: a client inventing a session id per
    request must not grow the table without bound."""
    with sessions.begin() as session:
        session.execute(delete(Conversation).where(Conversation.updated_at < utcnow() - timedelta(days=days)))
        newest = select(Conversation.session_id).order_by(Conversation.updated_at.desc()).limit(keep)
        session.execute(delete(Conversation).where(Conversation.session_id.not_in(newest.scalar_subquery())))
