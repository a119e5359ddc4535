"""The staff reply draft of an enquiry: the signpost first when any part asks for medical advice, then each part
the documents answer (cited), then what happens next. Nothing from the documents goes to what is not an enquiry
(marketing, an invoice, a message that asks nothing), and no named team is promised when the classifier is unsure:
a person will look at the message.

The engine's clinical guard reads every part of every enquiry, whatever category the classifier chose.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.desk.mail.outbox import greeting
from assistant.desk.taxonomy import Category
from assistant.engine import STAFF_VIEW, Assistant, asks_anything
from assistant.models import DOCUMENTS, PUBLIC, Answer

DOCUMENTS_HEADING = "From the cluster's documents:"
MAIL_SIGNPOST = (
    "We cannot give medical advice, and we are not a health service. For advice about your health or someone "
    "else's, please contact your GP or call NHS 111; in an emergency, call 999."
)
A_PERSON = "A member of the cluster team will look at your message and reply."
SIGN_OFF = ["", "Kind regards,", "The West Midlands health tech network team"]
# Bulk and sales mail says how to stop it or what it costs; an invoice asks to be paid. Neither is an enquiry.
_MARKETING = re.compile(
    r"\b(?:unsubscribe|opt[ -]?out|reply (?:stop|remove|unsubscribe)|free (?:sample|trial)|special offer|"
    r"limited[- ]time|\d{1,2}\s?% off)\b",
    re.I,
)
# A message without a question may still ask, in the form of a statement of what its writer wants.
_WANTS = re.compile(
    r"\b(?:would like|'d like|looking for|interested in|need|needs|want|wants|seeking|hop(?:e|ing) to|keen to|"
    r"require|requires|request|requesting|apply|applying)\b",
    re.I,
)
_INVOICE = re.compile(r"\b(?:invoice|remittance|payment (?:is )?(?:now )?(?:due|overdue)|amount due)\b", re.I)


@dataclass(frozen=True)
class Draft:
    text: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    signposted: bool = False  # a part asks for personal medical advice
    not_an_enquiry: str | None = None  # why it is not: "marketing", "an invoice", "it asks nothing"
    answers: list[tuple[str, str]] = field(default_factory=list)  # (question, its cited answer) per part answered


def not_an_enquiry(text: str) -> str | None:
    """Why a message is not an enquiry for the documents, or None when it is one."""
    if _MARKETING.search(text):
        return "marketing or a sales offer"
    if _INVOICE.search(text):
        return "an invoice or a payment request"
    return None if asks_anything(text) or _WANTS.search(text) else "it asks nothing"


def write_draft(assistant: Assistant, name: str | None, body: str, route: Category, sure: bool) -> Draft:
    """The draft for an enquiry whose text is `body` (an e-mail's already read: see `mail.body`), routed to `route`
    by a classifier that is `sure` of it or not."""
    lines = [greeting(name), ""]  # the rule the mail sent uses: a name that looks like one, else "Hello,"
    # Safety first: the guard reads every message, so medical advice asked beside an "opt out" line or in a
    # message that asks nothing else is still signposted.
    answer = assistant.ask(body[:2000], None, STAFF_VIEW)
    signposted = answer.flagged is not None  # the engine flags an answer when its guard fired on any part
    why_not = None if signposted else not_an_enquiry(body)
    if why_not:
        return Draft(
            "\n".join([*lines, "Thank you for your message.", "", A_PERSON, *SIGN_OFF]), not_an_enquiry=why_not
        )
    if signposted:
        lines += [MAIL_SIGNPOST, ""]
    lines.append("Thank you for your enquiry.")
    answered = _answered(answer)
    citations = [c.to_record() for c in answer.citations] if answered else []
    if answered:
        blocks = [f"{q}\n{text}" if len(answer.parts) > 1 else text for q, text in answered]
        lines += ["", DOCUMENTS_HEADING, *blocks, "", *_sources(citations)]
    open_questions = [p.question for p in answer.parts if p.abstained and not p.signposted]
    if open_questions and answered:
        lines += ["", "We will come back to you on: " + " ".join(open_questions)]
    steps = route.next_steps if sure and not (signposted and not answered) else A_PERSON
    lines += ["", steps] + ([f"Contact: {route.contact}"] if route.contact and steps != A_PERSON else [])
    return Draft("\n".join([*lines, *SIGN_OFF]), citations, signposted, None, answered)


def _answered(answer: Answer) -> list[tuple[str, str]]:
    """(question, cited answer) for each part the documents answer; none for small talk or a contact request."""
    if answer.kind != DOCUMENTS:
        return []
    if len(answer.parts) > 1:
        return [(p.question, p.text) for p in answer.parts if not p.abstained and p.text]
    if answer.abstained:
        return []
    # The "Showing results for" line is for the chat only.
    text = answer.text.split("\n\n", 1)[-1] if answer.corrections else answer.text
    return [(answer.parts[0].question if answer.parts else "", text)]


def _sources(citations: list[dict[str, Any]]) -> list[str]:
    """The numbered sources. Drafts may draw on staff-only documents: each says so, for staff to check before
    sending; a web address when the document has one, never where a file sits on the server (this is mailed)."""
    return [
        f"[{c['n']}] {c['title']}, {c['section']}"
        + (f" ({c['url']})" if c["url"] else "")
        + (" [NOT PUBLIC: check before sending]" if c["visibility"] != PUBLIC else "")
        for c in citations
    ]
