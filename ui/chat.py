"""The visitor's chat (Gradio 6): cited answers, each with its own sources under it; the Chatbot's own like and
dislike, with an optional comment; the hand-off to a person offered inline when it is relevant.

Only the `chat` API endpoint is public; every UI event is private, so Gradio's client sees one documented call.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.config import (
    MAX_COMMENT_CHARS,
    MAX_HISTORY_ITEMS,
    MAX_QUESTION_CHARS,
    MAX_RATEABLE_ANSWERS,
    MAX_SHOWN_MESSAGES,
    MAX_TRANSCRIPT_TURNS,
)
from assistant.desk import Desk, NewFeedback
from assistant.errors import AssistantError
from ui.chat_handoff import DECLINED, HandOff, HandOffLimit, conversation, hand_off, wire_hand_off
from ui.chat_state import KeptChat, last_answer, new_state, questions_of
from ui.chat_style import RESTORED, SHOW_LATEST
from ui.render import chat_markdown, error_markdown, escape_markdown

__all__ = ["DECLINED", "build_chat", "chat_api", "new_state", "respond"]

# Gradio's cache of files it made or received: checked hourly, files over an hour old deleted (every mount).
DELETE_CACHE = (3600, 3600)
RATED = "Thank you. Anything to add about that answer? (optional)"


def respond(desk: Desk, message: str, state: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Answer in the chat: the message, then the answer (each sentence of a written answer as soon as it is checked
    against the documents; an extractive one, ready in milliseconds, at once) with its own sources under it.

    Yields the chatbot, question box, state, hand-off offer, comment box and status line."""
    message = str(message)
    history = [*state["messages"], {"role": "user", "content": escape_markdown(message)}]
    shown: list[str] = []
    try:
        for item in desk.questions.ask_stream(message, questions_of(state), channel="chat", said=last_answer(state)):
            if not isinstance(item, str):
                answer, log_id = item
                break
            shown.append(item)
            written = {"role": "assistant", "content": escape_markdown(" ".join(shown))}
            # The box and the status line are cleared with the first sentence only: later ones must not wipe what
            # the visitor types meanwhile.
            cleared = "" if len(shown) == 1 else gr.skip()
            yield conversation([*history, written], state), cleared, *(gr.skip(),) * 3, cleared
    except AssistantError as exc:
        history.append({"role": "assistant", "content": error_markdown(exc)})
        state["messages"] = history[-MAX_SHOWN_MESSAGES:]  # in place, as ratings are: the next answer keeps it
        state["dropped"] += len(history) - len(state["messages"])
        yield conversation(state["messages"], state), message, *(gr.skip(),) * 3, ""
        return
    # The answer's number in the whole conversation (dropped messages included): the key its ratings are stored
    # under and the prefix of its cards' ids, unique even after older messages leave the screen.
    index = state["dropped"] + len(history)
    citations = [f"[{c.n}] {c.title} — {c.section} ({c.source})" for c in answer.citations]
    asked = {"question": message, "answer": answer.text, "citations": citations, "log_id": log_id, "kind": answer.kind}
    answers = dict(list({**state["answers"], str(index): asked}.items())[-MAX_RATEABLE_ANSWERS:])
    turns = [{"role": "user", "content": message}, {"role": "assistant", "content": answer.text}]
    history.append({"role": "assistant", "content": chat_markdown(answer, f"m{index}")})
    excess = max(0, len(history) - MAX_SHOWN_MESSAGES)
    state = {
        "messages": history[excess:],
        "dropped": state["dropped"] + excess,
        "transcript": [*state["transcript"], *turns][-MAX_TRANSCRIPT_TURNS:],
        "answers": answers,
        "ratings": {k: v for k, v in state["ratings"].items() if k in answers},
        "commenting": None,
    }
    cleared = gr.skip() if shown else ""  # unless the first streamed sentence cleared them
    # The hand-off is offered after an abstention, and opened at once when the visitor asked for a person.
    offer = gr.update(visible=answer.abstained or answer.handoff)
    hidden = gr.update(visible=False)
    yield conversation(state["messages"], state), cleared, state, offer, hidden, cleared


def rate(desk: Desk, liked: bool | str, index: Any, state: dict[str, Any]) -> tuple[Any, Any, str]:
    """The Chatbot's like (True), dislike (False) or taking either back ("") on one answer: stored against that
    answer's question, one rating per answer; a rating opens the comment box for it. Returns state, box, status.

    The state is changed in place (Gradio hands each event the session's own object): an answer being written
    meanwhile reads the ratings when it finishes, so a rating given during it is neither lost nor shown unrated."""
    key = str(index + state["dropped"]) if isinstance(index, int) else ""
    asked = state["answers"].get(key)
    if asked is None:  # a reply that answers nothing (an enquiry's receipt, an error)
        return gr.skip(), gr.skip(), "Only the assistant's answers can be rated." if liked in (True, False) else ""
    earlier = state["ratings"].get(key)
    if liked not in (True, False):
        if earlier:
            desk.questions.withdraw_feedback(earlier["id"])
            del state["ratings"][key]
        closing = gr.update(visible=False) if state["commenting"] == key else gr.skip()
        state["commenting"] = None
        return state, closing, ""
    rating = "up" if liked else "down"
    try:
        new = NewFeedback("chat", asked["question"], asked["answer"], rating, asked["citations"], None, asked["log_id"])
        feedback_id = desk.questions.feedback(new, earlier["id"] if earlier else None)
    except AssistantError as exc:
        return gr.skip(), gr.skip(), error_markdown(exc)
    state["ratings"][key] = {"id": feedback_id, "rating": rating}
    state["commenting"] = key
    return state, gr.update(visible=True), ""


def comment_on(desk: Desk, comment: str, state: dict[str, Any]) -> tuple[Any, Any, Any, str]:
    """The optional comment on the answer just rated, kept with that rating (the state changed in place, as by
    `rate`). Returns state, box, text, status."""
    key = state.get("commenting")
    rated = state["ratings"].get(key) if key else None
    if rated is None:
        return gr.skip(), gr.update(visible=False), gr.skip(), "Rate an answer first (the thumbs under it)."
    if not comment.strip():
        return gr.skip(), gr.skip(), gr.skip(), "Write a comment first, or leave it: the rating is already saved."
    if len(comment) > MAX_COMMENT_CHARS:
        return gr.skip(), gr.skip(), gr.skip(), f"Please keep the comment under {MAX_COMMENT_CHARS} characters."
    asked = state["answers"][key]
    new = NewFeedback(
        "chat", asked["question"], asked["answer"], rated["rating"], asked["citations"], comment, asked["log_id"]
    )
    try:
        feedback_id = desk.questions.feedback(new, rated["id"])
    except AssistantError as exc:
        return gr.skip(), gr.skip(), gr.skip(), error_markdown(exc)
    state["ratings"][key] = {**rated, "id": feedback_id}
    state["commenting"] = None
    return state, gr.update(visible=False), "", "Thank you: your comment was recorded."


def clear() -> tuple[Any, ...]:
    """After the Chatbot's own clear: a new conversation (hand-off, comment box hidden; the starters are the empty
    conversation's own)."""
    hidden = gr.update(visible=False)
    return new_state(), hidden, hidden, hidden, ""


def chat_api(desk: Desk, question: str, history: list[str] | None = None) -> dict[str, Any]:
    """Answer one question from the cluster's documents; returns the `ask --json` shape."""
    history = history or []
    if len(history) > MAX_HISTORY_ITEMS or any(len(str(h)) > MAX_QUESTION_CHARS for h in history):
        raise gr.Error(
            f"Send at most {MAX_HISTORY_ITEMS} earlier questions of at most {MAX_QUESTION_CHARS} characters each."
        )
    try:
        answer, _ = desk.questions.ask(question, [str(h) for h in history], channel="api")
    except AssistantError as exc:
        raise gr.Error(str(exc)) from None
    return answer.to_json()


@dataclass
class ChatPage:
    state: gr.State
    chatbot: gr.Chatbot
    handoff: HandOff
    comment_box: gr.Column
    comment: gr.Textbox
    comment_button: gr.Button
    question: gr.Textbox
    starters: list[str]
    person: gr.Button
    status: gr.Markdown


def _layout(starters: list[str]) -> ChatPage:
    """One calm column that scrolls as one page: the conversation grows with it (the starters are cards inside it
    while it is empty), the hand-off offer and the comment box when relevant, then the question box (pinned to the
    bottom of a phone's screen) and "Ask a person"."""
    state = gr.State(new_state())
    with gr.Column(elem_id="chat-page"):
        gr.Markdown(
            "# West Midlands health tech — Cluster Assistant\n"
            "Answers come from the cluster's own documents, each with its sources. When the documents don't say, "
            "it tells you, and a person from the team can help.",
            elem_classes=["intro"],
        )
        # Thumbs under every reply (each rates that message); no grouping, so a thumb never rates two replies.
        chatbot = gr.Chatbot(
            label="Conversation",
            show_label=False,
            height="auto",
            min_height=120,
            elem_id="conversation",
            examples=[{"text": s} for s in starters] or None,
            placeholder=None if starters else "Ask a question about the cluster below.",
            feedback_options=("Like", "Dislike"),
            buttons=[],
            group_consecutive_messages=False,
        )
        handoff = hand_off()
        with gr.Column(visible=False, elem_id="comment-box", elem_classes=["inline-panel"]) as comment_box:
            comment = gr.Textbox(
                label=RATED,
                lines=2,
                max_lines=4,
                max_length=MAX_COMMENT_CHARS,
                placeholder="What was good, missing or wrong?",
            )
            comment_button = gr.Button("Send comment", size="sm", variant="secondary")
        with gr.Column(elem_id="ask-bar"):
            question = gr.Textbox(
                label="Your question",
                placeholder="Ask about the cluster",
                max_lines=4,
                submit_btn="Ask",
            )
            person = gr.Button("Ask a person", size="sm", elem_classes=["quiet"])
        status = gr.Markdown("", elem_id="status")
    return ChatPage(state, chatbot, handoff, comment_box, comment, comment_button, question, starters, person, status)


def _wire(desk: Desk, page: ChatPage, limit: HandOffLimit, kept: KeptChat, private: dict[str, Any]) -> None:

    def answer(message: str, state: dict[str, Any], request: gr.Request):  # type: ignore[no-untyped-def]
        yield from kept.after(respond(desk, message, state), state, request)

    def ask_starter(data: gr.SelectData, state: dict[str, Any], request: gr.Request):  # type: ignore[no-untyped-def]
        # The starter's text is the server's own, found by its place: a client cannot send another question so.
        if isinstance(data.index, int) and 0 <= data.index < len(page.starters):
            yield from kept.after(respond(desk, page.starters[data.index], state), state, request)

    def liked(data: gr.LikeData, state: dict[str, Any], request: gr.Request) -> tuple[Any, Any, str]:
        return kept.now(rate(desk, data.liked, data.index, state), state, request)

    def commented(text: str, state: dict[str, Any], request: gr.Request) -> tuple[Any, ...]:
        return kept.now(comment_on(desk, text, state), state, request)

    outputs = [page.chatbot, page.question, page.state, page.handoff.offer, page.comment_box, page.status]
    # The Chatbot is never an input: the conversation is the server's (`new_state`); text from the visitor comes
    # only through the question box.
    page.question.submit(answer, [page.question, page.state], outputs, **private).then(None, js=SHOW_LATEST)
    page.chatbot.example_select(ask_starter, [page.state], outputs, **private).then(None, js=SHOW_LATEST)
    page.chatbot.like(liked, page.state, [page.state, page.comment_box, page.status], **private)
    comment_out = [page.state, page.comment_box, page.comment, page.status]
    page.comment_button.click(commented, [page.comment, page.state], comment_out, **private)
    page.comment.submit(commented, [page.comment, page.state], comment_out, **private)
    reset = [page.state, page.handoff.offer, page.handoff.form, page.comment_box, page.status]

    def cleared(request: gr.Request) -> tuple[Any, ...]:
        kept.forget(request)  # the bin clears the kept conversation too
        return clear()

    page.chatbot.clear(cleared, None, reset, **private)
    wire_hand_off(desk, page.handoff, page.chatbot, page.state, page.status, page.person, limit, kept, **private)


def build_chat(desk: Desk, starters: list[str], concurrency: int, queue_size: int, limit: HandOffLimit) -> gr.Blocks:
    """The chat page (see `_layout`), its events (all private) and the public `chat` API endpoint; `limit` counts a
    hand-off against the per-address enquiries limit."""
    title = "Cluster Assistant — West Midlands health tech"
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        page = _layout(starters)
        private = {"api_visibility": "private"}
        kept = KeptChat(desk)
        _wire(desk, page, limit, kept, private)
        # A reload shows the conversation kept under the visitor's cookie.
        restoring = demo.load(kept.restored, None, [page.state, page.chatbot], **private)
        restoring.then(None, js=RESTORED)  # the starters show only once it is known that nothing was kept

        def chat(question: str, history: list[str] | None = None) -> dict[str, Any]:
            """Answer one question from the cluster's documents; returns the `ask --json` shape."""
            return chat_api(desk, question, history)

        gr.api(chat, api_name="chat")
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo
