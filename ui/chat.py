"""The visitor's chat (Gradio 6): streamed, cited answers with source cards, feedback, and hand-off to a person.

Only the `chat` API endpoint is public; every UI event is private, so Gradio's client sees one documented call.
"""

from typing import Any

import gradio as gr
from email_validator import EmailNotValidError, validate_email

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.desk import CONSENT_TEXT, CONSENT_VERSION, Desk, NewEnquiry, NewFeedback
from assistant.errors import AssistantError
from ui.render import chat_markdown, error_markdown, escape_markdown, source_cards

CSS = """
.source-card { border: 1px solid #6b7280; border-radius: 8px; padding: 0.6rem 0.8rem; margin-bottom: 0.6rem;
  background: #ffffff; color: #111827; }
.source-card h3 { font-size: 1rem; margin: 0 0 0.2rem 0; color: #111827; }
.source-card .source-section { margin: 0; color: #374151; font-size: 0.9rem; }
.source-card blockquote { margin: 0.4rem 0; padding-left: 0.6rem; border-left: 3px solid #1d4ed8; color: #111827; }
.source-card a { color: #1d4ed8; text-decoration: underline; }
.source-card:target { outline: 3px solid #1d4ed8; }
:focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
@media (prefers-reduced-motion: reduce) { * { animation: none !important; transition: none !important; } }
"""
# Gradio's cache of files it made or received: checked hourly, files over an hour old deleted (every mount).
DELETE_CACHE = (3600, 3600)
DECLINED = "No problem: nothing has been shared. You can keep asking questions here."


def new_state() -> dict[str, Any]:
    return {"questions": [], "transcript": [], "last": None}


def respond(desk: Desk, message: str, history: list[dict[str, Any]], state: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Answer in the chat: the message, then the answer as it comes (each sentence of a written answer as soon as
    it is checked against the documents; an extractive one, ready in milliseconds, at once), its source cards,
    rating and offer."""
    history = [*history, {"role": "user", "content": escape_markdown(message)}]
    shown: list[str] = []
    try:
        for item in desk.ask_stream(message, state["questions"], channel="chat"):
            if not isinstance(item, str):
                answer, log_id = item
                break
            shown.append(item)
            written = {"role": "assistant", "content": escape_markdown(" ".join(shown))}
            first = len(shown) == 1
            # The box and the status line are cleared with the first sentence only: later ones must not wipe
            # what the visitor types, or a rating's "thank you" given meanwhile.
            yield (
                [*history, written],
                "" if first else gr.skip(),
                gr.skip(),
                state,
                gr.skip(),
                gr.skip(),
                ("" if first else gr.skip()),
            )
    except AssistantError as exc:
        history.append({"role": "assistant", "content": error_markdown(exc)})
        yield history, message, gr.skip(), state, gr.skip(), gr.skip(), ""
        return
    citations = [f"[{c.n}] {c.title} — {c.section} ({c.source})" for c in answer.citations]
    state = {
        "questions": [*state["questions"], message[:MAX_QUESTION_CHARS]][-MAX_HISTORY_ITEMS:],
        "transcript": [
            *state["transcript"],
            {"role": "user", "content": message},
            {"role": "assistant", "content": answer.text},
        ],
        "last": {"question": message, "answer": answer.text, "citations": citations, "log_id": log_id},
    }
    # The whole answer with its source links, at once: what was streamed (a written answer) is replaced by it, and
    # an extractive answer is not revealed in pieces (it was ready in milliseconds; a show of typing only delays it).
    history.append({"role": "assistant", "content": chat_markdown(answer)})
    first = not shown  # the box and the status line clear now unless the first streamed sentence cleared them
    # The hand-off is offered after an abstention, and opened at once when the visitor asked for a person.
    offer = gr.update(visible=answer.abstained or answer.handoff)
    yield (history, "" if first else gr.skip(), source_cards(answer.citations), state, gr.update(visible=True), offer,
           "" if first else gr.skip())  # fmt: skip


def rate(desk: Desk, rating: str, comment: str, state: dict[str, Any]) -> tuple[str, Any, str]:
    last = state.get("last")
    if not last:
        return "Ask a question first, then rate its answer.", gr.skip(), comment
    q = last
    desk.feedback(NewFeedback("chat", q["question"], q["answer"], rating, q["citations"], comment, q["log_id"]))
    return "Thank you: your feedback was recorded.", gr.update(visible=False), ""


def send_enquiry(  # type: ignore[no-untyped-def]
    desk: Desk,
    name: str,
    email: str,
    organisation: str,
    message: str,
    history: list[dict[str, Any]],
    state: dict[str, Any],
):
    problems = []
    if not name.strip():
        problems.append("your name")
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        problems.append("a valid e-mail address")
    if not message.strip():
        problems.append("a message")
    if problems:
        return gr.skip(), gr.skip(), "Please give " + ", ".join(problems) + "."
    receipt = desk.receive(NewEnquiry(name, email, message, "chat", CONSENT_VERSION, organisation, state["transcript"]))
    reply = (
        f"Thank you, {escape_markdown(name.strip())}: your enquiry (reference {receipt.reference}) has been "
        "passed to the cluster team, who will reply by e-mail."
    )
    return [*history, {"role": "assistant", "content": reply}], gr.update(visible=False), "Enquiry sent."


def decline(history: list[dict[str, Any]]) -> tuple[Any, Any, str]:
    return [*history, {"role": "assistant", "content": DECLINED}], gr.update(visible=False), DECLINED


def accept(state: dict[str, Any]) -> tuple[Any, Any, str]:
    last = state.get("last") or {}
    return gr.update(visible=False), gr.update(visible=True), last.get("question", "")


def clear() -> tuple[Any, ...]:
    return [], "", source_cards([]), new_state(), *(gr.update(visible=False),) * 3, ""


def chat_api(desk: Desk, question: str, history: list[str] | None = None) -> dict[str, Any]:
    """Answer one question from the cluster's documents; returns the `ask --json` shape."""
    history = history or []
    if len(history) > MAX_HISTORY_ITEMS or any(len(str(h)) > MAX_QUESTION_CHARS for h in history):
        raise gr.Error(
            f"Send at most {MAX_HISTORY_ITEMS} earlier questions of at most {MAX_QUESTION_CHARS} characters each."
        )
    try:
        answer, _ = desk.ask(question, [str(h) for h in history], channel="api")
    except AssistantError as exc:
        raise gr.Error(str(exc)) from None
    return answer.to_json()


def _hand_off() -> tuple[gr.Group, gr.Button, gr.Button, gr.Group, list[gr.Textbox], gr.Button]:
    """The consent offer and the form behind it (both hidden until needed)."""
    with gr.Group(visible=False) as offer_group:
        gr.Markdown(f"**Pass your question to a person?**\n\n{CONSENT_TEXT}\n\n*Consent version {CONSENT_VERSION}*")
        with gr.Row():
            accept_button = gr.Button("I agree", variant="primary")
            decline_button = gr.Button("No thanks", variant="secondary")
    with gr.Group(visible=False) as form_group:
        fields = [
            gr.Textbox(label="Name"),
            gr.Textbox(label="E-mail", type="email"),
            gr.Textbox(label="Organisation (optional)"),
            gr.Textbox(label="Message", lines=3),
        ]
        send_button = gr.Button("Send to the team", variant="primary")
    return offer_group, accept_button, decline_button, form_group, fields, send_button


def build_chat(desk: Desk, starters: list[str], concurrency: int, queue_size: int) -> gr.Blocks:
    """The chat page: conversation and question box, starters, rating, hand-off, and the source cards."""
    private: dict[str, Any] = {"api_visibility": "private"}
    title = "Cluster Assistant — West Midlands health tech"
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        state = gr.State(new_state())
        gr.Markdown(
            "# West Midlands health tech — Cluster Assistant\n"
            "Answers come from the cluster's own documents, with numbered sources. When the documents don't "
            "say, it tells you, and a person from the team can help."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(label="Conversation", height=460, feedback_options=None, buttons=["copy"])
                question = gr.Textbox(
                    label="Your question",
                    placeholder="Ask about the cluster, its members or partners",
                    max_lines=4,
                    submit_btn="Ask",
                )
                with gr.Row(visible=bool(starters)):
                    starter_buttons = [gr.Button(s, size="sm", variant="secondary") for s in starters]
                with gr.Row():
                    clear_button = gr.Button("Clear conversation", variant="secondary")
                    person_button = gr.Button("Ask a person", variant="secondary")
                status = gr.Markdown("", elem_id="status")
                with gr.Group(visible=False) as feedback_group:
                    comment = gr.Textbox(label="Comment on this answer (optional)", max_lines=3)
                    with gr.Row():
                        up = gr.Button("Helpful", variant="secondary", icon=None)
                        down = gr.Button("Not helpful", variant="secondary")
                offer_group, accept_button, decline_button, form_group, fields, send_button = _hand_off()
            with gr.Column(scale=2, min_width=280):
                gr.Markdown("## Sources")
                sources = gr.HTML(source_cards([]), elem_id="sources")
        outputs = [chatbot, question, sources, state, feedback_group, offer_group, status]

        def answer(message: str, history: list[dict[str, Any]], state: dict[str, Any]):  # type: ignore[no-untyped-def]
            yield from respond(desk, message, history, state)

        def send(*values: Any):  # type: ignore[no-untyped-def]
            return send_enquiry(desk, *values)

        def chat(question: str, history: list[str] | None = None) -> dict[str, Any]:
            """Answer one question from the cluster's documents; returns the `ask --json` shape."""
            return chat_api(desk, question, history)

        question.submit(answer, [question, chatbot, state], outputs, **private)
        for button in starter_buttons:
            button.click(answer, [button, chatbot, state], outputs, **private)
        rated = [status, feedback_group, comment]
        up.click(lambda c, s: rate(desk, "up", c, s), [comment, state], rated, **private)
        down.click(lambda c, s: rate(desk, "down", c, s), [comment, state], rated, **private)
        person_button.click(lambda: gr.update(visible=True), None, offer_group, **private)
        accept_button.click(accept, state, [offer_group, form_group, fields[3]], **private)
        decline_button.click(decline, chatbot, [chatbot, offer_group, status], **private)
        sent = [chatbot, form_group, status]
        send_button.click(send, [*fields, chatbot, state], sent, **private)
        clear_button.click(clear, None, [*outputs[:5], offer_group, form_group, status], **private)
        gr.api(chat, api_name="chat")
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo
