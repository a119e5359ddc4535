"""Staff sign-in, the session cookie and CSRF. Every `/staff` page and `/api/staff` call needs a signed-in staff
member: pages redirect to `/login`, API calls get 401 (enforced once, in `require_staff`, for the whole prefix).

CSRF: every state-changing staff request carries a token tied to the session (the synchronizer-token pattern):
HMAC-SHA256 of the session cookie under the app's secret. Pages put it in each form (`csrf_token`) and in htmx's
headers (`X-CSRF-Token`); API clients read it from `GET /api/staff/session`. A request without it gets 403. It
needs no storage and no second cookie, and it changes with each sign-in.
"""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from assistant.desk import Desk, SignInRefused, StaffMember
from assistant.errors import NotAllowed
from ui.edge import STAFF_ONLY, client_address, desk_of
from ui.ratelimit import RateLimits
from ui.staff.pages import render
from ui.staff.session import COOKIE, SECURE_COOKIE, csrf_token, secure_cookie, session_token

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


async def check_csrf(request: Request) -> None:
    """A dependency of every staff route: a state-changing request must carry this session's CSRF token, in the
    `X-CSRF-Token` header or a form's `csrf_token` field; raises `NotAllowed` (403) otherwise."""
    if request.method not in UNSAFE_METHODS or not session_token(request):
        return  # no session, nothing to forge: staff routes have already refused it (`require_staff`)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(("application/x-www-form", "multipart/")):
        sent = str((await request.form()).get(CSRF_FIELD, ""))  # parsed once; the route's Form(...) reuses it
    expected = csrf_token(request)
    if not expected or not hmac.compare_digest(sent, expected):
        raise NotAllowed("This form has expired or did not come from the console: reload the page and try again.")


def staff_of(request: Request) -> StaffMember:
    member: StaffMember = request.state.staff
    return member


def require_staff(desk: Desk) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(STAFF_ONLY):
            member = desk.accounts.member(session_token(request))
            if member is None:
                if request.headers.get("hx-request"):  # an in-page update after the session ended: to sign-in
                    return Response(status_code=401, headers={"HX-Redirect": "/login"})
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


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"error": ""})


@router.post("/login")
def login(
    request: Request, email: str = Form(..., max_length=320), password: str = Form(..., max_length=1000)
) -> Response:
    """Sign in. Each attempt is counted before the (slow) password check, so concurrent guesses cannot all slip in
    before the first is counted: past `login_account_slowdown` for the account from all addresses together the
    attempt is not checked (429, wait); past `login_lockout` from one address that address is refused for that
    account (after the same work as any refusal), while the owner elsewhere signs in as usual. A success clears the
    address's count."""
    limits: RateLimits = request.app.state.limits
    account = email.strip().lower()
    key = (account, client_address(request))
    wait = limits.hit("account", account)
    if wait is not None:
        error = f"Too many sign-in attempts for this account. Please wait {wait} seconds."
        slowed = render(request, "login.html", {"error": error, "email": email[:320]}, status_code=429)
        slowed.headers["Retry-After"] = str(wait)
        return slowed
    locked = limits.hit("lockout", *key) is not None
    try:
        token = desk_of(request).accounts.sign_in(email, password, locked=locked)
    except SignInRefused as exc:
        # The typed address goes back in its field (the reader typed it: it tells nothing about which accounts exist).
        return render(request, "login.html", {"error": str(exc), "email": email[:320]}, status_code=401)
    limits.clear("lockout", *key)
    response = RedirectResponse("/staff/", status_code=303)
    secure = secure_cookie(request)
    name = SECURE_COOKIE if secure else COOKIE
    response.set_cookie(name, token, httponly=True, samesite="strict", secure=secure, path="/")
    return response


@router.get("/logout")
def logout_page(request: Request) -> HTMLResponse:
    """A sign-out button: signing out changes state, so it is a POST (a link or a prefetch must not do it)."""
    return render(request, "logout.html", {"csrf": csrf_token(request)})


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    desk_of(request).accounts.sign_out(session_token(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(SECURE_COOKIE, path="/", secure=True)
    return response
