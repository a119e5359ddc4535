"""A visitor's chat conversation as the server keeps it (Gradio hands each event the session's own object)."""

from typing import Any

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS


def new_state() -> dict[str, Any]:
    """A visitor's conversation, kept on the server: the messages shown (the Chatbot's value is only ever built
    from these, never read from the client: a client's value could name any file for Gradio to copy and serve),
    how many older messages were dropped from the front, the transcript (a hand-off carries it; follow-ups resolve
    against its questions), each answer by its message number (what a rating of that message is stored against),
    their ratings, and the answer a comment is for."""
    return {"messages": [], "dropped": 0, "transcript": [], "answers": {}, "ratings": {}, "commenting": None}


def questions_of(state: dict[str, Any]) -> list[str]:
    """The visitor's earlier questions, oldest first, as many as a follow-up is resolved against."""
    asked = [turn["content"][:MAX_QUESTION_CHARS] for turn in state["transcript"] if turn["role"] == "user"]
    return asked[-MAX_HISTORY_ITEMS:]


def last_answer(state: dict[str, Any]) -> str:
    """The text of the assistant's last answer (a follow-up does not quote its sentences again as context)."""
    said = [turn["content"] for turn in state["transcript"] if turn["role"] == "assistant"]
    return said[-1] if said else ""
