"""The HTTP API under `/api`: ask, feedback, enquiries. Bad input is a 422 with a message, never a 500."""

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, Field, StringConstraints

from assistant.config import MAX_COMMENT_CHARS, MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS, MAX_TRANSCRIPT_TURNS
from assistant.desk import CONSENT_TEXT, CONSENT_VERSION, NewEnquiry, NewFeedback
from assistant.errors import InvalidRequest
from ui.edge import desk_of

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class AskRequest(BaseModel):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS * 2, description="The question, in plain words.")
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_ITEMS,
        description=f"Earlier questions of this conversation, oldest first (at most {MAX_HISTORY_ITEMS}).",
    )
    session_id: str | None = Field(
        None,
        max_length=100,
        description="Opaque id of one conversation: with it, earlier questions need not be sent as history.",
    )


class FeedbackRequest(BaseModel):
    question: Annotated[Text, Field(max_length=MAX_QUESTION_CHARS)]
    answer: Annotated[Text, Field(max_length=10_000)]
    rating: Literal["up", "down"]
    citations: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20)
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)
    question_id: int | None = Field(None, ge=1, description="The `question_id` that /api/ask returned.")


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=10_000)


class EnquiryRequest(BaseModel):
    name: Annotated[Text, Field(max_length=200)]
    email: EmailStr
    organisation: str | None = Field(None, max_length=200)
    message: Annotated[Text, Field(max_length=5000)]
    consent: bool = Field(..., description="The sender agreed to the consent text (GET /api/consent).")
    consent_version: str = Field(..., max_length=40)
    transcript: list[Turn] = Field(default_factory=list, max_length=MAX_TRANSCRIPT_TURNS)


def new_enquiry(body: EnquiryRequest, channel: str, partner_id: str | None = None) -> NewEnquiry:
    return NewEnquiry(
        name=body.name,
        email=str(body.email),
        organisation=body.organisation,
        message=body.message,
        channel=channel,
        consent_version=body.consent_version,
        transcript=[t.model_dump() for t in body.transcript],
        partner_id=partner_id,
    )


def within(hours: int) -> str:
    """ "within 2 days", "within 8 hours"."""
    days = round(hours / 24)
    return (
        f"within {hours} hour{'s' if hours != 1 else ''}"
        if hours < 24
        else f"within {days} day{'s' if days != 1 else ''}"
    )


def received(reference: str) -> dict[str, str]:
    """The answer to a hand-off: the same for a new enquiry and for one merged into an open one, so a stranger
    re-sending someone's message learns nothing."""
    return {"reference": reference, "status": "received"}


router = APIRouter(prefix="/api", tags=["api"])


@router.post("/ask", summary="Answer a question from the documents (the `ask --json` shape, plus question_id)")
def ask(body: AskRequest, request: Request) -> JSONResponse:
    answer, log_id = desk_of(request).questions.ask(
        body.question, body.history, channel="api", session_id=body.session_id
    )
    return JSONResponse({**answer.to_json(), "question_id": log_id})


@router.post("/feedback", status_code=201, summary="Thumbs up or down on an answer, with an optional comment")
def feedback(body: FeedbackRequest, request: Request) -> dict[str, int]:
    new = NewFeedback("api", body.question, body.answer, body.rating, body.citations, body.comment, body.question_id)
    return {"id": desk_of(request).questions.feedback(new)}


@router.get("/consent", summary="The consent text an enquirer must accept, and its version")
def consent() -> dict[str, str]:
    return {"version": CONSENT_VERSION, "text": CONSENT_TEXT}


@router.post("/enquiries", status_code=201, summary="Pass a question to a person (needs consent)")
def enquiries(body: EnquiryRequest, request: Request) -> dict[str, str]:
    if not body.consent:
        raise InvalidRequest("Consent was declined, so nothing was stored. You can keep using the chat anonymously.")
    return received(desk_of(request).enquiries.receive(new_enquiry(body, "api")).reference)
