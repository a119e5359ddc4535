"""The chat's hand-off to a person: the consent offer (shown inline after an abstention, a request for a person, or
"Ask a person") and the form behind it, which files an enquiry carrying the conversation."""

from dataclasses import dataclass
from typing import Any

import gradio as gr
from email_validator import EmailNotValidError, validate_email

from assistant.desk import CONSENT_TEXT, CONSENT_VERSION, Desk, NewEnquiry
from ui.render import escape_markdown

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
    send: gr.Button


def hand_off() -> HandOff:
    with gr.Column(visible=False, elem_id="hand-off", elem_classes=["inline-panel"]) as offer:
        gr.Markdown(f"**Pass your question to a person?**\n\n{CONSENT_TEXT}\n\n*Consent version {CONSENT_VERSION}*")
        with gr.Row():
            accept = gr.Button("I agree", variant="primary", size="sm")
            decline = gr.Button("No thanks", variant="secondary", size="sm")
    with gr.Column(visible=False, elem_id="enquiry-form", elem_classes=["inline-panel"]) as form:
        fields = [
            gr.Textbox(label="Name"),
            gr.Textbox(label="E-mail", type="email"),
            gr.Textbox(label="Organisation (optional)"),
            gr.Textbox(label="Message", lines=3),
        ]
        send = gr.Button("Send to the team", variant="primary", size="sm")
    return HandOff(offer, accept, decline, form, fields, send)


def wire_hand_off(  # type: ignore[no-untyped-def]
    desk: Desk,
    handoff: HandOff,
    chatbot: gr.Chatbot,
    state: gr.State,
    status: gr.Markdown,
    person: gr.Button,
    **private,
) -> None:
    def send(*values: Any):  # type: ignore[no-untyped-def]
        return send_enquiry(desk, *values)

    hidden, shown = gr.update(visible=False), gr.update(visible=True)
    person.click(lambda: (shown, hidden), None, [handoff.offer, handoff.form], **private)
    handoff.accept.click(accept, state, [handoff.offer, handoff.form, handoff.fields[3]], **private)
    handoff.decline.click(decline, None, [handoff.offer, status], **private)
    sent = [chatbot, handoff.form, status]
    handoff.send.click(send, [*handoff.fields, state], sent, **private)  # the conversation is the server's


def send_enquiry(  # type: ignore[no-untyped-def]
    desk: Desk,
    name: str,
    email: str,
    organisation: str,
    message: str,
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
    state["messages"] = [*state["messages"], {"role": "assistant", "content": reply}]  # in place, as ratings are
    return (
        conversation(state["messages"], state),
        gr.update(visible=False),
        "Enquiry sent.",
    )


def decline() -> tuple[Any, str]:
    """The offer closed, said in the status line (not a reply in the conversation: it answers nothing)."""
    return gr.update(visible=False), DECLINED


def accept(state: dict[str, Any]) -> tuple[Any, Any, str]:
    """The form, its message filled with the visitor's last question."""
    asked = [turn["content"] for turn in state["transcript"] if turn["role"] == "user"]
    return gr.update(visible=False), gr.update(visible=True), (asked or [""])[-1]
