"""Validate: what the engine accepts from any channel, whatever the channel itself lets through."""

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.errors import InvalidQuestion


def validate_question(question: str) -> str:
    """The question, stripped; raises `InvalidQuestion` when empty or over the length limit."""
    cleaned = question.replace("\x00", "").strip()
    if not cleaned:
        raise InvalidQuestion("The question is empty: type a question about the cluster, its members or partners.")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(
            f"The question is {len(cleaned)} characters long; the limit is {MAX_QUESTION_CHARS}. Please shorten it."
        )
    return cleaned


def bounded_history(history: list[str] | None) -> list[str]:
    """The last `MAX_HISTORY_ITEMS` earlier questions, each cut to `MAX_QUESTION_CHARS`: whatever a channel lets
    through, the engine never works on more."""
    return [item[:MAX_QUESTION_CHARS] for item in (history or [])[-MAX_HISTORY_ITEMS:]]
