"""The partner widget's server side: `/widget.js`, and `/api/widget/{session,ask,enquiries}` with the checks that
make the widget safe to embed: origin allow-list per partner (deny by default), signed short-lived tokens checked
with the origin again on every call, CORS only for allowed origins, per-IP and per-session rate limits.
"""

from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.desk import CONSENT_TEXT, CONSENT_VERSION, Partner, PartnerDirectory
from assistant.errors import InvalidRequest
from ui.api import EnquiryRequest, new_enquiry, received, within
from ui.edge import client_address, cors_headers, desk_of
from ui.ratelimit import RateLimits
from ui.tokens import WidgetSession

WIDGET_JS = Path(__file__).with_name("static") / "widget.js"
NOT_HERE = "The assistant is not available on this site."
Parsed = TypeVar("Parsed", bound=BaseModel)


class SessionRequest(BaseModel):
    partner: str = Field(..., min_length=1, max_length=100)


class WidgetAsk(BaseModel):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS)
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=MAX_HISTORY_ITEMS
    )


def _reply(body: dict[str, Any], status: int, origin: str | None, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**(cors_headers(origin) if origin else {}), **headers})


def _too_many(retry_after: int, origin: str) -> JSONResponse:
    return _reply(
        {"detail": f"You're asking a little fast. Please wait {retry_after} seconds and try again."},
        429,
        origin,
        **{"Retry-After": str(retry_after)},
    )


def _parse(model: type[Parsed], data: Any) -> Parsed:
    """The body as `model`; a body that does not fit is an `InvalidRequest` with the first reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(str(exc.errors()[0]["msg"])) from None


def _partners(request: Request) -> PartnerDirectory:
    partners: PartnerDirectory = request.app.state.partners
    return partners


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise InvalidRequest("The request body must be JSON.") from None


def _authorise(request: Request) -> tuple[WidgetSession, Partner] | JSONResponse:
    """The widget session and partner of a call, or the refusal to send back."""
    partners, signer = _partners(request), request.app.state.signer
    origin = request.headers.get("origin")
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    session = signer.verify(token) if token else None
    if session is None:
        allowed = origin if origin in partners.origins() else None
        return _reply({"detail": "The widget session is missing, invalid or expired: reload the page."}, 401, allowed)
    partner = partners.get(session.partner_id)
    if origin != session.origin or partner is None or not partner.allows(origin):
        return _reply({"detail": NOT_HERE}, 403, None)
    limits: RateLimits = request.app.state.limits
    ip_items = limits.per_minute(partner.limits.per_ip_per_minute)
    ip_wait = limits.hit("widget_ip", session.partner_id, client_address(request), items=ip_items)
    session_items = limits.per_minute(partner.limits.per_session_per_minute)
    session_wait = limits.hit("widget_conversation", session.nonce, items=session_items)
    if ip_wait or session_wait:
        return _too_many(max(ip_wait or 0, session_wait or 0), session.origin)
    return session, partner


router = APIRouter(tags=["widget"])


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    return FileResponse(WIDGET_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


@router.options("/api/widget/{path:path}", include_in_schema=False)
def preflight(request: Request) -> Response:
    origin = request.headers.get("origin")
    if origin and origin in _partners(request).origins():
        return Response(status_code=204, headers=cors_headers(origin))
    return Response(status_code=403)


@router.post("/api/widget/session", summary="A short-lived widget session for an allowed partner site")
async def widget_session(request: Request) -> JSONResponse:
    origin = request.headers.get("origin")
    wait = request.app.state.limits.hit("widget_session", client_address(request))
    try:
        body = _parse(SessionRequest, await _body(request))
    except InvalidRequest:
        return _reply({"detail": 'Send {"partner": "<partner id>"}.'}, 422, None)
    partner = _partners(request).get(body.partner)
    if partner is None or not origin or not partner.allows(origin):
        # No CORS on a refusal: the page cannot read it, and the widget says in the console what it knows itself.
        return _reply({"detail": NOT_HERE}, 403, None)
    if wait:
        return _too_many(wait, origin)
    token, session = request.app.state.signer.issue(body.partner, origin)
    config = partner.model_dump(include={"name", "greeting", "starter_questions", "accent", "accent_text"})
    config |= {"position": partner.position, "max_message_chars": partner.max_message_chars}
    consent = {"version": CONSENT_VERSION, "text": CONSENT_TEXT}
    return _reply({"token": token, "expires": session.expires, "partner": config, "consent": consent}, 200, origin)


@router.post("/api/widget/ask", summary="Ask from the widget (needs its session token)")
async def widget_ask(request: Request) -> JSONResponse:
    checked = _authorise(request)
    if isinstance(checked, JSONResponse):
        return checked
    session, partner = checked
    desk = desk_of(request)
    body = _parse(WidgetAsk, await _body(request))
    if len(body.question) > partner.max_message_chars:
        raise InvalidRequest(f"Please keep questions under {partner.max_message_chars} characters.")
    # Answering is CPU-bound and synchronous: off the event loop, like FastAPI's own sync endpoints.
    answer, log_id = await run_in_threadpool(
        desk.questions.ask,
        body.question,
        body.history,
        channel="widget",
        partner_id=session.partner_id,
        session_id=session.nonce,
        visible=partner.can_see(),
    )
    return _reply({**answer.to_json(), "question_id": log_id}, 200, session.origin)


class ReplyTimeRequest(BaseModel):
    message: str = Field(..., max_length=5000)


@router.post("/api/widget/reply-time", summary="When the team aims to reply to an enquiry like this one")
async def widget_reply_time(request: Request) -> JSONResponse:
    """What the hand-off form says before it is sent: the SLA of the category the message looks like."""
    checked = _authorise(request)
    if isinstance(checked, JSONResponse):
        return checked
    session, _partner = checked
    body = _parse(ReplyTimeRequest, await _body(request))
    hours = await run_in_threadpool(desk_of(request).enquiries.reply_within, body.message)
    text = f"The team aims to reply by e-mail {within(hours)}."
    return _reply({"hours": hours, "text": text}, 200, session.origin)


@router.post("/api/widget/enquiries", summary="Hand off to a person from the widget (needs consent)")
async def widget_enquiry(request: Request) -> JSONResponse:
    checked = _authorise(request)
    if isinstance(checked, JSONResponse):
        return checked
    session, _partner = checked
    desk = desk_of(request)
    body = _parse(EnquiryRequest, await _body(request))
    if not body.consent:
        raise InvalidRequest("Consent was declined, so nothing was stored.")
    receipt = await run_in_threadpool(desk.enquiries.receive, new_enquiry(body, "widget", session.partner_id))
    return _reply(received(receipt.reference), 201, session.origin)
