"""Staff sign-in and the staff API. Every `/staff` page and `/api/staff` call needs a signed-in staff member:
pages redirect to `/login`, API calls get 401 (enforced once, in `require_staff`, for the whole prefix)."""

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from assistant import gdpr, insights, triage
from assistant.errors import AssistantError, InvalidRequest
from assistant.staff import SignInRefused, StaffMember, member_for, sign_in, sign_out
from assistant.tables import Enquiry, Note, utcnow
from ui.answering import Answering
from ui.guards import RateLimits, client_address

COOKIE = "ca_staff"
LOGIN_CSS = Path(__file__).with_name("static") / "login.css"
PROTECTED = ("/staff", "/api/staff")
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Staff sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head><body><main><h1>Cluster staff sign-in</h1>{message}
<form method="post" action="/login"><label for="email">E-mail</label><input id="email" name="email" type="email"
autocomplete="username" required><label for="password">Password</label><input id="password" name="password"
type="password" autocomplete="current-password" required><button type="submit">Sign in</button></form></main>
</body></html>"""


def staff_of(request: Request) -> StaffMember:
    member: StaffMember = request.state.staff
    return member


def require_staff(
    answering: Answering,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(PROTECTED):
            member = member_for(answering.sessions, request.cookies.get(COOKIE))
            if member is None:
                if (
                    path.startswith("/staff")
                    and request.method == "GET"
                    and "text/html" in request.headers.get("accept", "")
                ):
                    return RedirectResponse("/login", status_code=303)
                return JSONResponse({"detail": "Sign in as staff first (/login)."}, status_code=401)
            request.state.staff = member
        return await call_next(request)

    return middleware


router = APIRouter(include_in_schema=False)


@router.get("/login.css")
def login_css() -> FileResponse:
    return FileResponse(LOGIN_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


@router.get("/login")
def login_page(error: str = "") -> HTMLResponse:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(LOGIN_PAGE.format(message=message))


@router.post("/login")
def login(
    request: Request, email: str = Form(..., max_length=320), password: str = Form(..., max_length=1000)
) -> Response:
    """Sign in. Failures are counted per account and client address: past `login_lockout` that address is refused
    for that account (after the same work as any refusal), while the owner elsewhere signs in as usual."""
    answering: Answering = request.app.state.answering
    limits: RateLimits = request.app.state.limits
    key = (email.strip().lower(), client_address(request))
    try:
        token = sign_in(answering.sessions, email, password, locked=limits.blocked("lockout", *key) is not None)
    except SignInRefused as exc:
        limits.hit("lockout", *key)
        return HTMLResponse(
            LOGIN_PAGE.format(message=f'<p class="error" role="alert">{html.escape(str(exc))}</p>'), 401
        )
    response = RedirectResponse("/staff/", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    sign_out(request.app.state.answering.sessions, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


api = APIRouter(prefix="/api/staff", tags=["staff"])


class Update(BaseModel):
    status: str | None = None
    assignee: str | None = Field(None, max_length=320)
    category: str | None = None
    note: str | None = Field(None, max_length=10_000)
    reply: str | None = Field(None, max_length=50_000)


def summary(e: Enquiry) -> dict[str, Any]:
    breached = insights.sla_breached(e.due_at, e.first_response_at, utcnow())
    return {
        "id": e.id, "received": e.created_at.isoformat(), "status": e.status, "category": e.category,
        "priority": e.priority, "due_at": e.due_at.isoformat() if e.due_at else None, "sla_breached": breached,
        "channel": e.channel, "partner": e.partner_id, "name": e.name, "organisation": e.organisation,
        "subject": e.subject, "preview": e.message[:120], "needs_review": e.needs_review, "assignee": e.assignee,
        "reference": e.reference,
    }  # fmt: skip


def inbox(answering: Answering, **filters: Any) -> list[dict[str, Any]]:
    query = select(Enquiry).order_by(Enquiry.created_at.desc())
    for name in ("status", "category", "priority", "channel"):
        if filters.get(name):
            query = query.where(getattr(Enquiry, name) == filters[name])
    if filters.get("partner"):
        query = query.where(Enquiry.partner_id == filters["partner"])
    if filters.get("q"):
        like = f"%{filters['q']}%"
        query = query.where(or_(Enquiry.message.ilike(like), Enquiry.name.ilike(like), Enquiry.email.ilike(like),
                                Enquiry.organisation.ilike(like), Enquiry.subject.ilike(like),
                                Enquiry.reference == filters["q"].strip().upper()))  # fmt: skip
    if filters.get("breached"):
        query = query.where(insights.breached_clause(utcnow()))
    with answering.sessions() as session:
        return [summary(e) for e in session.scalars(query.limit(500))]


def detail(answering: Answering, enquiry_id: int) -> dict[str, Any]:
    with answering.sessions() as session:
        e = session.get(Enquiry, enquiry_id)
        if e is None:
            raise InvalidRequest(f"No enquiry {enquiry_id}.")
        notes = [{"author": n.author, "text": n.text, "at": n.created_at.isoformat()}
                 for n in session.scalars(select(Note).where(Note.enquiry_id == e.id).order_by(Note.id))]  # fmt: skip
    trail = [{"at": a.created_at.isoformat(), "who": a.actor, "what": a.action, "detail": a.detail}
             for a in triage.audit_trail(answering.sessions, enquiry_id)]  # fmt: skip
    related = [summary(r) for r in triage.related(answering.sessions, e)]
    return {**summary(e), "email": e.email, "message": e.message, "transcript": e.transcript, "route": e.route,
            "confidence": e.confidence, "reasons": e.reasons, "draft": e.draft, "draft_citations": e.draft_citations,
            "reply": e.reply, "approved_by": e.approved_by, "consent_version": e.consent_version, "notes": notes,
            "audit": trail, "related": related, "duplicates": e.duplicates}  # fmt: skip


def apply(answering: Answering, enquiry_id: int, update: Update, actor: str) -> None:
    sessions = answering.sessions
    if update.category:
        if answering.triage is None:
            raise InvalidRequest("Triage is not configured.")
        answering.triage.correct(sessions, enquiry_id, update.category, actor)
    if update.assignee is not None:
        triage.assign(sessions, enquiry_id, update.assignee, actor)
    if update.note:
        triage.add_note(sessions, enquiry_id, update.note, actor)
    if update.reply:
        triage.approve_reply(sessions, enquiry_id, update.reply, actor)
    if update.status:
        triage.change_status(sessions, enquiry_id, update.status, actor)


def _answering(request: Request) -> Answering:
    answering: Answering = request.app.state.answering
    return answering


@api.get("/enquiries")
def list_enquiries(request: Request, status: str = "", category: str = "", priority: str = "", channel: str = "",
                   partner: str = "", breached: bool = False, q: str = "") -> list[dict[str, Any]]:  # fmt: skip
    return inbox(_answering(request), status=status, category=category, priority=priority, channel=channel,
                 partner=partner, breached=breached, q=q)  # fmt: skip


@api.get("/enquiries.csv")
def enquiries_csv(request: Request) -> PlainTextResponse:
    return PlainTextResponse(gdpr.enquiries_csv(_answering(request).sessions), media_type="text/csv")


@api.get("/enquiries/{enquiry_id}")
def get_enquiry(request: Request, enquiry_id: int) -> Any:
    try:
        return detail(_answering(request), enquiry_id)
    except InvalidRequest as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)


@api.post("/enquiries/{enquiry_id}")
def update_enquiry(request: Request, enquiry_id: int, update: Update) -> Any:
    try:
        apply(_answering(request), enquiry_id, update, staff_of(request).email)
        return detail(_answering(request), enquiry_id)
    except AssistantError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)


class Consent(BaseModel):
    partner: str = Field(..., min_length=1, max_length=200)
    how: str = Field(..., min_length=1, max_length=2000, description="How the enquirer agreed, e.g. 'reply of 3 Dec'")


@api.post("/enquiries/{enquiry_id}/partner-consent")
def partner_consent(request: Request, enquiry_id: int, consent: Consent) -> Any:
    try:
        triage.record_partner_consent(_answering(request).sessions, enquiry_id, consent.partner, consent.how,
                                      staff_of(request).email)  # fmt: skip
    except AssistantError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return {"recorded": True}


@api.post("/enquiries/{enquiry_id}/share/{partner}")
def share(request: Request, enquiry_id: int, partner: str) -> Any:
    """The enquirer's details for a partner organisation; 409 unless their consent for it is recorded."""
    try:
        return triage.share_with_partner(_answering(request).sessions, enquiry_id, partner, staff_of(request).email)
    except AssistantError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)


@api.get("/subjects/{email}")
def subject_access(request: Request, email: str) -> dict[str, Any]:
    return gdpr.export_subject(_answering(request).sessions, email)


@api.delete("/subjects/{email}")
def erase(request: Request, email: str) -> Any:
    member = staff_of(request)
    if member.role != "admin":
        return JSONResponse({"detail": "Only an admin can erase personal data."}, status_code=403)
    answering = _answering(request)
    erased = gdpr.erase_subject(answering.sessions, email, member.email)
    if answering.triage is not None:
        answering.triage.forget_erased(answering.sessions)  # the classifier's copy of a correction goes too
    return {"erased": erased}


@api.get("/gaps")
def gaps(request: Request, days: int = 90) -> list[dict[str, Any]]:
    answering = _answering(request)
    return insights.knowledge_gaps(answering.sessions, answering.assistant.embedder, days)


@api.get("/figures")
def figures(request: Request, days: int = 30) -> dict[str, Any]:
    return insights.figures(_answering(request).sessions, days)
