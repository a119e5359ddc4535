"""The chat's hand-off to a person: the consent offer (shown inline after an abstention, a request for a person, or
"Ask a person") and the form behind it, which files an enquiry carrying the conversation."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from pydantic import ValidationError

from assistant.desk import CONSENT_TEXT, CONSENT_VERSION, Desk
from assistant.models import DOCUMENTS
from ui.api import EnquiryRequest, new_enquiry, within
from ui.render import escape_markdown

if TYPE_CHECKING:
    from ui.chat_state import KeptChat

# Counts one hand-off from a client address against the enquiries limit: the seconds to wait when over it, or None.
HandOffLimit = Callable[[str], int | None]
FIELD_NAMES = {
    "name": "your name",
    "email": "a valid e-mail address",
    "organisation": "a shorter organisation",
    "message": "a message (at most 5,000 characters)",
}

DECLINED = "No problem: nothing has been shared. You can keep asking questions here."
THUMBS = {"up": "Like", "down": "Dislike"}


def conversation(messages: list[dict[str, Any]], state: dict[str, Any]) -> Any:
    """The Chatbot's new value, built from the server's messages, with the visitor's ratings on them: a value alone
    would reset every thumb shown."""
    ratings, dropped = state["ratings"], state["dropped"]
    given = [
        THUMBS[ratings[str(i + dropped)]["rating"]] if str(i + dropped) in ratings else None
        for i, message in enumerate(messages)
        if message["role"] == "assistant"
    ]
    return gr.update(value=messages, feedback_value=given)


@dataclass
class HandOff:
    """The offer and the form, each hidden until needed."""

    offer: gr.Column
    accept: gr.Button
    decline: gr.Button
    form: gr.Column
    fields: list[gr.Textbox]  # name, e-mail, organisation, message
    reply_time: gr.Markdown
    send: gr.Button
    cancel: gr.Button


# Focus follows the form: its first field once the visitor agreed; "Ask a person" again after Cancel.
FOCUS_FORM = "() => document.querySelector('#enquiry-form input, #enquiry-form textarea')?.focus()"
FOCUS_BACK = "() => document.querySelector('#ask-bar button.quiet')?.focus()"


def hand_off() -> HandOff:
    with gr.Column(visible=False, elem_id="hand-off", elem_classes=["inline-panel"]) as offer:
        gr.Markdown(f"**Pass your question to a person?**\n\n{CONSENT_TEXT}\n\n*Consent version {CONSENT_VERSION}*")
        with gr.Row():
            accept = gr.Button("I agree", variant="primary", size="sm")
            decline = gr.Button("No thanks", variant="secondary", size="sm")
    with gr.Column(visible=False, elem_id="enquiry-form", elem_classes=["inline-panel"]) as form:
        fields = [
            gr.Textbox(label="Name", max_length=200),
            gr.Textbox(label="E-mail", type="email", max_length=320),
            gr.Textbox(label="Organisation (optional)", max_length=200),
            gr.Textbox(label="Message", lines=3, max_length=5000),
        ]
        reply_time = gr.Markdown("", elem_id="reply-time")
        with gr.Row():
            send = gr.Button("Send to the team", variant="primary", size="sm")
            cancel = gr.Button("Cancel", variant="secondary", size="sm")
    return HandOff(offer, accept, decline, form, fields, reply_time, send, cancel)


def checked(name: str, email: str, organisation: str, message: str, *_: Any) -> list[Any]:
    """Each field's own error, shown beside it (Gradio's validator) and gone once the field is right: the API's
    model and bounds, field by field."""
    fields = {"name": name, "email": (email or "").strip(), "organisation": (organisation or "").strip() or None}
    fields["message"] = message
    try:
        EnquiryRequest(**fields, consent=True, consent_version=CONSENT_VERSION, transcript=[])  # type: ignore[arg-type]
        wrong: set[str] = set()
    except ValidationError as exc:
        wrong = {str(e["loc"][0]) for e in exc.errors()}
    verdicts = [gr.validate(key not in wrong, f"Please give {FIELD_NAMES[key]}.") for key in FIELD_NAMES]
    return [*verdicts, gr.validate(True, "")]  # the state


def wire_hand_off(  # type: ignore[no-untyped-def]
    desk: Desk,
    handoff: HandOff,
    chatbot: gr.Chatbot,
    state: gr.State,
    status: gr.Markdown,
    person: gr.Button,
    limit: HandOffLimit,
    kept: "KeptChat",
    **private,
) -> None:
    def send(name: str, email: str, organisation: str, message: str, state: dict[str, Any], request: gr.Request):  # type: ignore[no-untyped-def]
        address = request.client.host if request.client else "unknown"
        sent = send_enquiry(desk, limit, address, [name, email, organisation, message], state)
        return kept.now(sent, state, request)

    def agreed(state: dict[str, Any]) -> tuple[Any, ...]:
        question = last_question(state)
        hours = desk.enquiries.reply_within(question) if question else None
        said = f"The team aims to reply by e-mail {within(hours)}." if hours else "The team replies by e-mail."
        return gr.update(visible=False), gr.update(visible=True), question, said

    hidden, shown = gr.update(visible=False), gr.update(visible=True)
    person.click(lambda: (shown, hidden), None, [handoff.offer, handoff.form], **private)
    opened = [handoff.offer, handoff.form, handoff.fields[3], handoff.reply_time]
    handoff.accept.click(agreed, state, opened, **private).then(None, js=FOCUS_FORM)
    handoff.decline.click(decline, None, [handoff.offer, status], **private)
    handoff.cancel.click(lambda: hidden, None, handoff.form, **private).then(None, js=FOCUS_BACK)
    sent = [chatbot, handoff.form, status]
    # The conversation is the server's; each field is checked beside itself before anything is sent.
    handoff.send.click(send, [*handoff.fields, state], sent, validator=checked, **private)


def send_enquiry(  # type: ignore[no-untyped-def]
    desk: Desk, limit: HandOffLimit, address: str, fields: list[str], state: dict[str, Any]
):
    """File the form as an enquiry carrying the conversation: checked with the API's own model and bounds, and
    counted against the same per-address enquiries limit as the API and the widget."""
    name, email, organisation, message = (str(f or "") for f in fields)
    transcript = [{**t, "content": t["content"][:10_000]} for t in state["transcript"]]
    try:
        body = EnquiryRequest(
            name=name,
            email=email.strip(),
            organisation=organisation.strip() or None,
            message=message,
            consent=True,
            consent_version=CONSENT_VERSION,
            transcript=transcript,
        )
    except ValidationError as exc:
        wrong = dict.fromkeys(FIELD_NAMES[str(e["loc"][0])] for e in exc.errors() if e["loc"][0] in FIELD_NAMES)
        return gr.skip(), gr.skip(), "Please give " + ", ".join(wrong or ["the form's fields"]) + "."
    wait = limit(address)
    if wait is not None:
        return gr.skip(), gr.skip(), f"You're sending enquiries a little fast. Please wait {wait} seconds."
    receipt = desk.enquiries.receive(new_enquiry(body, "chat"))
    reply = (
        f"Thank you, {escape_markdown(name.strip())}: your enquiry (reference {receipt.reference}) has been "
        "passed to the cluster team, who will reply by e-mail."
    )
    state["messages"] = [*state["messages"], {"role": "assistant", "content": reply}]  # in place, as ratings are
    return (
        conversation(state["messages"], state),
        gr.update(visible=False),
        "Enquiry sent.",
    )


def decline() -> tuple[Any, str]:
    """The offer closed, said in the status line (not a reply in the conversation: it answers nothing)."""
    return gr.update(visible=False), DECLINED


def last_question(state: dict[str, Any]) -> str:
    """The visitor's last real question (one asked of the documents: not "Can I speak to someone?" or "hi"), for
    the form's message; their last message when there is none."""
    asked = [a["question"] for a in state["answers"].values() if a.get("kind", DOCUMENTS) == DOCUMENTS]
    said = [turn["content"] for turn in state["transcript"] if turn["role"] == "user"]
    return (asked or said or [""])[-1]
