"""The partner widget's server side: `/widget.js`, and `/api/widget/{session,ask,enquiries}` with the checks that
make the widget safe to embed: origin allow-list per partner (deny by default), signed short-lived tokens checked
with the origin again on every call, CORS only for allowed origins, per-IP and per-session rate limits.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.errors import AssistantError, InvalidRequest
from assistant.partners import Partner, PartnerDirectory
from assistant.records import CONSENT_TEXT, CONSENT_VERSION
from ui.answering import Answering
from ui.api import EnquiryRequest, new_enquiry, received
from ui.guards import RateLimits, TokenSigner, WidgetSession, client_address

WIDGET_JS = Path(__file__).with_name("static") / "widget.js"
NOT_HERE = "The assistant is not available on this site."


@dataclass
class WidgetGuard:
    partners: PartnerDirectory
    signer: TokenSigner
    limits: RateLimits


class SessionRequest(BaseModel):
    partner: str = Field(..., min_length=1, max_length=100)


class WidgetAsk(BaseModel):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS)
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=MAX_HISTORY_ITEMS
    )


def _cors(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Authorization",
        "Access-Control-Expose-Headers": "Retry-After",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def cors_for(request: Request) -> dict[str, str]:
    """CORS headers for a response to a partner site that is allowed; none for anyone else."""
    guard: WidgetGuard | None = getattr(request.app.state, "widget", None)
    origin = request.headers.get("origin")
    return _cors(origin) if guard and origin and origin in guard.partners.origins() else {}


def _reply(body: dict[str, Any], status: int, origin: str | None, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**(_cors(origin) if origin else {}), **headers})


def _too_many(retry_after: int, origin: str) -> JSONResponse:
    return _reply(
        {"detail": f"You're asking a little fast. Please wait {retry_after} seconds and try again."},
        429,
        origin,
        **{"Retry-After": str(retry_after)},
    )


def _refusal(exc: ValidationError | AssistantError, origin: str) -> JSONResponse:
    if isinstance(exc, ValidationError):
        return _reply({"detail": exc.errors()[0]["msg"]}, 422, origin)
    return _reply({"detail": str(exc)}, 422 if isinstance(exc, InvalidRequest) else 503, origin)


def _guard(request: Request) -> WidgetGuard:
    guard: WidgetGuard = request.app.state.widget
    return guard


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise InvalidRequest("The request body must be JSON.") from None


def _authorise(request: Request) -> tuple[WidgetSession, Partner] | JSONResponse:
    """The widget session and partner of a call, or the refusal to send back."""
    guard = _guard(request)
    origin = request.headers.get("origin")
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    session = guard.signer.verify(token) if token else None
    if session is None:
        allowed = origin if origin in guard.partners.origins() else None
        return _reply({"detail": "The widget session is missing, invalid or expired: reload the page."}, 401, allowed)
    partner = guard.partners.get(session.partner_id)
    if origin != session.origin or partner is None or not partner.allows(origin):
        return _reply({"detail": NOT_HERE}, 403, None)
    limits = guard.limits
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
    if origin and origin in _guard(request).partners.origins():
        return Response(status_code=204, headers=_cors(origin))
    return Response(status_code=403)


@router.post("/api/widget/session", summary="A short-lived widget session for an allowed partner site")
async def widget_session(request: Request) -> JSONResponse:
    guard = _guard(request)
    origin = request.headers.get("origin")
    wait = guard.limits.hit("widget_session", client_address(request))
    try:
        body = SessionRequest.model_validate(await _body(request))
    except (ValidationError, InvalidRequest):
        return _reply({"detail": 'Send {"partner": "<partner id>"}.'}, 422, None)
    partner = guard.partners.get(body.partner)
    if partner is None or not origin or not partner.allows(origin):
        return _reply({"detail": NOT_HERE}, 403, None)
    if wait:
        return _too_many(wait, origin)
    token, session = guard.signer.issue(body.partner, origin)
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
    answering: Answering = request.app.state.answering
    try:
        body = WidgetAsk.model_validate(await _body(request))
        if len(body.question) > partner.max_message_chars:
            raise InvalidRequest(f"Please keep questions under {partner.max_message_chars} characters.")
        # Answering is CPU-bound and synchronous: off the event loop, like FastAPI's own sync endpoints.
        answer, log_id = await run_in_threadpool(
            answering.ask,
            body.question,
            body.history,
            channel="widget",
            partner_id=session.partner_id,
            session_id=session.nonce,
            visible=partner.can_see(),
        )
    except (ValidationError, AssistantError) as exc:
        return _refusal(exc, session.origin)
    return _reply({**answer.to_json(), "question_id": log_id}, 200, session.origin)


@router.post("/api/widget/enquiries", summary="Hand off to a person from the widget (needs consent)")
async def widget_enquiry(request: Request) -> JSONResponse:
    checked = _authorise(request)
    if isinstance(checked, JSONResponse):
        return checked
    session, _partner = checked
    answering: Answering = request.app.state.answering
    try:
        body = EnquiryRequest.model_validate(await _body(request))
        if not body.consent:
            raise InvalidRequest("Consent was declined, so nothing was stored.")
        new = new_enquiry(body, "widget", session.partner_id)
        receipt = await run_in_threadpool(answering.receive, new)
    except (ValidationError, AssistantError) as exc:
        return _refusal(exc, session.origin)
    return _reply(received(receipt.reference), 201, session.origin)
