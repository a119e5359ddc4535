"""Staff sign-in and the staff API. Every `/staff` page and `/api/staff` call needs a signed-in staff member:
pages redirect to `/login`, API calls get 401 (enforced once, in `require_staff`, for the whole prefix)."""

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.desk import Desk, EnquiryUpdate, Filters, RateLimits, SignInRefused, StaffMember
from ui.edge import STAFF_ONLY, client_address

COOKIE = "ca_staff"
# Over https (or with `cookie_secure`), the cookie is Secure and `__Host-`-prefixed: the browser then keeps it only
# from a secure origin, for this host alone and path /, so no subdomain or plain-http page can set or shadow it.
SECURE_COOKIE = "__Host-ca_staff"
LOGIN_CSS = Path(__file__).parents[1] / "static" / "login.css"
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Staff sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head><body><main><h1>Cluster staff sign-in</h1>{message}
<form method="post" action="/login"><label for="email">E-mail</label><input id="email" name="email" type="email"
autocomplete="username" required><label for="password">Password</label><input id="password" name="password"
type="password" autocomplete="current-password" required><button type="submit">Sign in</button></form></main>
</body></html>"""


def secure_cookie(request: Request, settings: Settings | None = None) -> bool:
    """Whether the session cookie is Secure (and `__Host-`) for this request. `settings` defaults to the app's: pass
    them from a mounted app (Gradio's), whose `request.app` is not ours."""
    settings = settings or request.app.state.settings
    return settings.cookie_secure or request.url.scheme == "https"


def session_token(request: Request, settings: Settings | None = None) -> str | None:
    """The staff session cookie's value, under the name this request's security calls for."""
    return request.cookies.get(SECURE_COOKIE if secure_cookie(request, settings) else COOKIE)


LOGOUT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head><body><main><h1>Sign out of the staff console?</h1>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<p><a href="/staff/">Back to the console</a></p></main></body></html>"""


def staff_of(request: Request) -> StaffMember:
    member: StaffMember = request.state.staff
    return member


def require_staff(desk: Desk) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(STAFF_ONLY):
            member = desk.member(session_token(request))
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
    secure = secure_cookie(request)
    name = SECURE_COOKIE if secure else COOKIE
    response.set_cookie(name, token, httponly=True, samesite="strict", secure=secure, path="/")
    return response


@router.get("/logout")
def logout_page() -> HTMLResponse:
    """A sign-out button: signing out changes state, so it is a POST (a link or a prefetch must not do it)."""
    return HTMLResponse(LOGOUT_PAGE)


@router.post("/logout")
def logout(request: Request) -> Response:
    _desk(request).sign_out(session_token(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(SECURE_COOKIE, path="/", secure=True)
    return response


# Staff routes stay out of the public OpenAPI schema: anonymous callers need not learn the staff API's shape.
api = APIRouter(prefix="/api/staff", tags=["staff"], include_in_schema=False)


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
    return PlainTextResponse(_desk(request).export_csv(staff_of(request)), media_type="text/csv")


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
    return _desk(request).export_subject(email, staff_of(request))


@api.delete("/subjects/{email}")
def erase(request: Request, email: str) -> dict[str, int]:
    return {"erased": _desk(request).erase_subject(email, staff_of(request))}


@api.post("/sign-out-everywhere")
def sign_out_everywhere(request: Request) -> dict[str, int]:
    """End every session of the signed-in account, this one included."""
    return {"ended": _desk(request).sign_out_everywhere(staff_of(request))}


@api.get("/gaps")
def gaps(request: Request, days: int = 90) -> list[dict[str, Any]]:
    return _desk(request).knowledge_gaps(days)


@api.get("/figures")
def figures(request: Request, days: int = 30) -> dict[str, Any]:
    return _desk(request).figures(days)
