"""API and widget conversations: each session's earlier questions, in the database so every worker shares them; and
the web chat's conversations, kept under the visitor's cookie so a reload shows them again."""

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


def remember(sessions: sessionmaker[Session], session_id: str, question: str, said: str = "") -> None:
    """Keep the question (contact details redacted) for the session's follow-ups, at most the last ten, and the
    answer given to it (from the documents: nothing of the visitor's)."""
    question = redact(question[:MAX_QUESTION_CHARS])
    for _attempt in range(2):  # two first questions of one new session at once: the loser updates instead
        try:
            with sessions.begin() as session:
                found = session.get(Conversation, session_id)
                if found is None:
                    session.add(
                        Conversation(session_id=session_id, questions=[question], said=said, updated_at=utcnow())
                    )
                else:
                    found.questions = [*found.questions, question][-MAX_HISTORY_ITEMS:]
                    found.said, found.updated_at = said, utcnow()
            return
        except IntegrityError:
            continue


def chat(sessions: sessionmaker[Session], chat_id: str) -> dict[str, Any] | None:
    """The web chat's conversation under this cookie, if one is kept."""
    with sessions() as session:
        found = session.get(Conversation, f"{CHAT}{chat_id}")
        return dict(found.chat) if found and found.chat else None


def keep_chat(sessions: sessionmaker[Session], chat_id: str, state: dict[str, Any]) -> None:
    """Keep the web chat's conversation (bounded as the chat bounds it) under the visitor's cookie."""
    key = f"{CHAT}{chat_id}"
    for _attempt in range(2):  # two tabs' first answers at once: the loser updates instead
        try:
            with sessions.begin() as session:
                found = session.get(Conversation, key)
                if found is None:
                    session.add(Conversation(session_id=key, questions=[], chat=state, updated_at=utcnow()))
                else:
                    found.chat, found.updated_at = state, utcnow()
            return
        except IntegrityError:
            continue


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
