"""A visitor's chat conversation as the server keeps it (Gradio hands each event the session's own object)."""

import re
from collections.abc import Iterator
from typing import Any, TypeVar

import gradio as gr

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.desk import Desk
from ui.chat_handoff import conversation
from ui.edge import CHAT_COOKIE

T = TypeVar("T")


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


_CHAT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
STATE_KEYS = frozenset(new_state())


class KeptChat:
    """The conversation kept on the server under the visitor's cookie, so a reload shows it again; the bin forgets
    it. Without the cookie (a third-party frame, cookies off) the chat works as before, for that page only."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    @staticmethod
    def chat_id(request: gr.Request | None) -> str | None:
        value = request.cookies.get(CHAT_COOKIE, "") if request is not None else ""
        return value if _CHAT_ID.fullmatch(value) else None

    def keep(self, state: dict[str, Any], request: gr.Request | None) -> None:
        chat_id = self.chat_id(request)
        if chat_id and isinstance(state, dict):
            self.desk.questions.keep_chat(chat_id, state)

    def after(self, updates: Iterator[tuple[Any, ...]], state: dict[str, Any], request: gr.Request) -> Iterator[Any]:
        """Pass a handler's updates on, then keep the conversation as it ended (its new state, or the one changed
        in place)."""
        last: tuple[Any, ...] = ()
        for last in updates:
            yield last
        self.keep(last[2] if len(last) > 2 and isinstance(last[2], dict) else state, request)

    def now(self, result: T, state: dict[str, Any], request: gr.Request) -> T:
        """A handler's result, after keeping the state it changed in place (a rating, a comment)."""
        self.keep(state, request)
        return result

    def forget(self, request: gr.Request) -> None:
        chat_id = self.chat_id(request)
        if chat_id:
            self.desk.questions.forget_chat(chat_id)

    def restored(self, request: gr.Request) -> tuple[Any, Any]:
        """The kept conversation, for the page just loaded (nothing changes when none is kept)."""
        chat_id = self.chat_id(request)
        kept = self.desk.questions.chat(chat_id) if chat_id else None
        if not kept or set(kept) != STATE_KEYS:
            return gr.skip(), gr.skip()
        return kept, conversation(kept["messages"], kept)
