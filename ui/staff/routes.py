"""Staff sign-in and the staff API. Every `/staff` page and `/api/staff` call needs a signed-in staff member:
pages redirect to `/login`, API calls get 401 (enforced once, in `require_staff`, for the whole prefix)."""

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field

from assistant.desk import Desk, EnquiryUpdate, Filters, RateLimits, SignInRefused, StaffMember
from ui.edge import client_address

COOKIE = "ca_staff"
LOGIN_CSS = Path(__file__).parents[1] / "static" / "login.css"
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


def require_staff(desk: Desk) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(PROTECTED):
            member = desk.member(request.cookies.get(COOKIE))
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
    limits: RateLimits = request.app.state.limits
    key = (email.strip().lower(), client_address(request))
    try:
        token = _desk(request).sign_in(email, password, locked=limits.blocked("lockout", *key) is not None)
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
    _desk(request).sign_out(request.cookies.get(COOKIE))
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


class Consent(BaseModel):
    partner: str = Field(..., min_length=1, max_length=200)
    how: str = Field(..., min_length=1, max_length=2000, description="How the enquirer agreed, e.g. 'reply of 3 Dec'")


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@api.get("/enquiries")
def list_enquiries(request: Request, status: str = "", category: str = "", priority: str = "", channel: str = "",
                   partner: str = "", breached: bool = False, q: str = "") -> list[dict[str, Any]]:  # fmt: skip
    return _desk(request).inbox(Filters(status, category, priority, channel, partner, breached, q))


@api.get("/enquiries.csv")
def enquiries_csv(request: Request) -> PlainTextResponse:
    return PlainTextResponse(_desk(request).export_csv(), media_type="text/csv")


@api.get("/enquiries/{enquiry_id}")
def get_enquiry(request: Request, enquiry_id: int) -> dict[str, Any]:
    return _desk(request).enquiry(enquiry_id)


@api.post("/enquiries/{enquiry_id}")
def update_enquiry(request: Request, enquiry_id: int, update: Update) -> dict[str, Any]:
    change = EnquiryUpdate(**update.model_dump())
    return _desk(request).update(enquiry_id, change, staff_of(request).email)


@api.post("/enquiries/{enquiry_id}/partner-consent")
def partner_consent(request: Request, enquiry_id: int, consent: Consent) -> dict[str, bool]:
    _desk(request).record_partner_consent(enquiry_id, consent.partner, consent.how, staff_of(request).email)
    return {"recorded": True}


@api.post("/enquiries/{enquiry_id}/share/{partner}")
def share(request: Request, enquiry_id: int, partner: str) -> dict[str, Any]:
    """The enquirer's details for a partner organisation; 409 unless their consent for it is recorded."""
    return _desk(request).share_with_partner(enquiry_id, partner, staff_of(request).email)


@api.get("/subjects/{email}")
def subject_access(request: Request, email: str) -> dict[str, Any]:
    return _desk(request).export_subject(email)


@api.delete("/subjects/{email}")
def erase(request: Request, email: str) -> dict[str, int]:
    return {"erased": _desk(request).erase_subject(email, staff_of(request))}


@api.get("/gaps")
def gaps(request: Request, days: int = 90) -> list[dict[str, Any]]:
    return _desk(request).knowledge_gaps(days)


@api.get("/figures")
def figures(request: Request, days: int = 30) -> dict[str, Any]:
    return _desk(request).figures(days)
