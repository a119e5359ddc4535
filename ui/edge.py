"""What every request meets before a route: security headers, Gradio routes we refuse, rate limits, load shedding.

Each is a plain HTTP middleware built from the settings; `ui/app.py` installs them in one place.
"""

import logging
import re
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from assistant.config import Settings
from assistant.desk import Desk, PartnerDirectory
from assistant.errors import AssistantError
from ui.ratelimit import RateLimits

log = logging.getLogger(__name__)
Middleware = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]

# Pages we render ourselves (sign-in, the staff console, API docs) run no inline script or style and load nothing
# from elsewhere; the console's htmx runs with eval off.
STRICT_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
# Gradio's page boots from an inline script, styles itself inline, and its HTML component (the source cards)
# compiles templates with `new Function` ('unsafe-eval'); it loads nothing from other origins (the theme uses
# system fonts). This is the strictest policy it runs under: the browser tests fail on any CSP violation.
GRADIO_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}"
)
# Swagger UI styles elements inline and draws its icons as data: images; scripts stay our own files.
DOCS_CSP = STRICT_CSP + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
HSTS = "max-age=31536000; includeSubDomains"
# Our own pages and files (`/ui/`: htmx, the console's CSS and JS); everything else is the Gradio chat.
OWN_PAGES = (
    "/login",
    "/logout",
    "/staff",
    "/api",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/widget.js",
    "/ui/",
    "/documents/",
)
STAFF_PATHS = ("/staff", "/api/staff", "/login", "/logout")
SHARED_PATHS = ("/ui/", "/healthz")  # the console's own files, and the health check, on either host
# Gradio serves files from its cache at `file=` / `file/` (and fetches `file=<url>` from anywhere), and `proxy=`
# forwards requests. The chat serves no files at all, so every such path is refused, whatever it names: a file that
# reached the cache by any route still cannot be read back. Remote targets are refused before anything else.
_GRADIO_FETCH = re.compile(r"(?:^|/)gradio_api/(?:file=|file/|proxy=)(?P<target>.*)$", re.S)
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:|[/\\]{2})", re.I)
_GRADIO_CALLS = re.compile(r"^/gradio_api/(?:queue/join|call/|run/|api/)")
_PUBLIC_UPLOAD = re.compile(r"^/gradio_api/upload")


def one_layer(*layers: Middleware) -> Middleware:
    """Several middlewares run as one Starlette layer, outermost first. Each `app.middleware("http")` layer costs
    a task group and a stream per request; chained as plain coroutines they cost a function call (measured on
    `GET /api/consent`, one client: 2.1 ms p50 with six layers, 1.6 ms as one)."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        async def run(i: int, current: Request) -> Response:
            if i == len(layers):
                return await call_next(current)
            return await layers[i](current, lambda inner: run(i + 1, inner))

        return await run(0, request)

    return middleware


def _is_own_page(path: str) -> bool:
    return path.startswith(OWN_PAGES)


def security_headers(settings: Settings) -> Middleware:
    """nosniff and a referrer policy on every response; a CSP fit for each page; HSTS over https."""
    gradio_csp = GRADIO_CSP.format(ancestors=settings.chat_frame_ancestors)

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        path = request.url.path
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if path.startswith("/docs"):
            headers["Content-Security-Policy"] = DOCS_CSP
        elif _is_own_page(path):
            headers["Content-Security-Policy"] = STRICT_CSP
        else:
            headers["Content-Security-Policy"] = gradio_csp
        if request.url.scheme == "https":
            headers["Strict-Transport-Security"] = HSTS
        return response

    return middleware


STAFF_ONLY = ("/staff", "/api/staff")  # signed-in staff only (`require_staff`, before any body is read)


def cap_body(max_bytes: int, by_path: dict[str, int] | None = None) -> Middleware:
    """413 for a body over `max_bytes` (or the path's own cap in `by_path`), 411 for one of unknown length
    (chunked), outside the staff pages: what an anonymous caller can make the server read is bounded. Checked on
    the headers, before any byte is read."""
    by_path = by_path or {}

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method in ("POST", "PUT", "PATCH") and not request.url.path.startswith(STAFF_ONLY):
            max_bytes_here = by_path.get(request.url.path, max_bytes)
            length = request.headers.get("content-length")
            if length is None and "chunked" in request.headers.get("transfer-encoding", "").lower():
                return JSONResponse({"detail": "Send the request with a Content-Length."}, 411, cors_for(request))
            if length is not None and (not length.isdigit() or int(length) > max_bytes_here):
                detail = f"The request is larger than {max_bytes_here // 1024} KiB."
                return JSONResponse({"detail": detail}, 413, cors_for(request))
        return await call_next(request)

    return middleware


def refuse_gradio_fetches(every_path: bool = True) -> Middleware:
    """403 for Gradio's `file=`, `file/` and `proxy=` on every mount, before Gradio sees them: for every target
    (the chat serves no files), or with `every_path` False only for remote addresses and `proxy=` (the first
    layer, before sign-in is checked)."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        found = _GRADIO_FETCH.search(request.url.path)
        remote = found and (
            found.group(0).lstrip("/").startswith("gradio_api/proxy=") or _REMOTE.match(found["target"])
        )
        if found and (every_path or remote):
            return PlainTextResponse("The chat serves no files.", status_code=403)
        return await call_next(request)

    return middleware


def staff_host_only(staff_host: str | None) -> Middleware:
    """With `staff_host` set, staff pages, sign-in and the staff API exist only on that host name, and that host
    serves nothing else (404 both ways, but for their assets and /healthz): the public chat's origin never carries
    a staff session, and no public page (Gradio's) runs on the staff origin."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower()
        path = request.url.path
        misplaced = staff_host and (host == staff_host.lower()) != path.startswith(STAFF_PATHS)
        if misplaced and not path.startswith(SHARED_PATHS):
            return PlainTextResponse("Not found.", status_code=404)
        return await call_next(request)

    return middleware


def cors_headers(origin: str) -> dict[str, str]:
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
    partners: PartnerDirectory | None = getattr(request.app.state, "partners", None)
    origin = request.headers.get("origin")
    return cors_headers(origin) if partners and origin and origin in partners.origins() else {}


async def assistant_error(request: Request, exc: Exception) -> Response:
    """The HTTP edge's one translation of the error vocabulary: the class's status, `{"detail": message}`."""
    status = exc.http_status if isinstance(exc, AssistantError) else 500
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=cors_for(request))


def client_address(request: Request) -> str:
    """The client's address: the connecting one, or X-Forwarded-For's when a trusted proxy set it (the app
    installs uvicorn's proxy-headers middleware only for `forwarded_allow_ips`)."""
    return request.client.host if request.client else "unknown"


def _limit_for(method: str, path: str) -> str | None:
    """Which named rate limit a public request counts against (None: not limited here)."""
    if method != "POST":
        return None
    if path in ("/api/ask", "/api/feedback", "/api/enquiries"):
        return path.removeprefix("/api/").replace("/", "")
    if path == "/api/widget/enquiries":
        return "enquiries"  # on top of the partner's own limits: a hand-off is a message to a person
    if path == "/login":
        return "login"
    if path == "/api/inbound-mail":
        return "inbound_mail"
    if _GRADIO_CALLS.match(path):
        return "chat"
    return None


def rate_limit(limits: RateLimits) -> Middleware:
    """429 with Retry-After past a public route's limit; uploads to the public chat are refused outright."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if _PUBLIC_UPLOAD.match(path):
            return PlainTextResponse("The chat accepts no files.", status_code=403)
        name = _limit_for(request.method, path)
        if name is None:
            return await call_next(request)
        try:
            wait = limits.hit(name, client_address(request))
        except Exception:  # Redis down: refuse rather than serve unlimited
            log.exception("rate-limit storage unavailable")
            return JSONResponse({"detail": "The assistant is unavailable. Please try again shortly."}, 503)
        if wait is not None:
            return JSONResponse(
                {"detail": f"You're sending requests a little fast. Please wait {wait} seconds and try again."},
                status_code=429,
                headers={"Retry-After": str(wait), **cors_for(request)},
            )
        return await call_next(request)

    return middleware


ANSWER_PATHS = ("/api/ask", "/api/widget/ask")


def shed_load(limit: int) -> Middleware:
    """Past `limit` questions in flight, answer 503 at once: a bounded wait beats an unbounded queue that ends in
    timeouts for everyone. Only the answering paths are gated; health checks and staff pages are not."""
    in_flight = 0

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        nonlocal in_flight
        if request.url.path not in ANSWER_PATHS or request.method != "POST":
            return await call_next(request)
        if in_flight >= limit:
            headers = {"Retry-After": "1", **cors_for(request)}
            return JSONResponse({"detail": "The assistant is busy. Please try again in a moment."}, 503, headers)
        in_flight += 1
        try:
            return await call_next(request)
        finally:
            in_flight -= 1

    return middleware


def desk_of(request: Request) -> Desk:
    """The app's desk (one per app, made at start-up): what every route calls."""
    desk: Desk = request.app.state.desk
    return desk


CHAT_COOKIE = "ca_chat"  # names the visitor's kept chat conversation (`ui/chat_state.py`)


def chat_cookie() -> Middleware:
    """The chat page names the visitor's kept conversation in a cookie of its own (random, HttpOnly, SameSite=Lax):
    a reload shows the conversation again (`ui/chat_state.py`). Only the page sets it; nothing else reads it."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.method == "GET" and request.url.path == "/" and CHAT_COOKIE not in request.cookies:
            secure = request.url.scheme == "https"
            response.set_cookie(
                CHAT_COOKIE, secrets.token_urlsafe(24), httponly=True, samesite="lax", secure=secure, path="/"
            )
        return response

    return middleware
