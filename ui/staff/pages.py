"""Rendering staff pages: one Jinja2 environment (autoescaped: what the public wrote is always text), the helpers
templates use as filters, and what every page gets (the member, the CSRF token, the reader's time zone)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from assistant.desk import DocumentOrigin, DocumentStatus, JobStatus, MailStatus, Role
from assistant.errors import AssistantError, Conflict, NotAllowed, NotFound
from ui.staff import present
from ui.staff.session import csrf_token

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters.update(
    age=present.age,
    person=present.person,
    category=present.category_label,
    status_label=present.status_label,
    hours=present.hours,
    plural=present.plural,
)
# The desk's vocabularies, so templates compare with names, never with copied strings.
TEMPLATES.env.globals.update(
    DocumentOrigin=DocumentOrigin,
    DocumentStatus=DocumentStatus,
    JobStatus=JobStatus,
    MailStatus=MailStatus,
    Role=Role,
)
TZ_COOKIE = "ca_tz"  # the browser's IANA zone, set by staff.js: times are shown in the reader's own zone
ASSETS = "/ui"  # our own static files (ui/static), served by the app: never a CDN


def is_htmx(request: Request) -> bool:
    """An in-page update (htmx), answered with the same page for htmx to take its part from."""
    return bool(request.headers.get("hx-request"))


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """The page, with what every staff page needs: the signed-in member, the CSRF token, times in their zone."""
    settings = request.app.state.settings
    tz = present.zone(unquote(request.cookies.get(TZ_COOKIE, "")), settings.staff_time_zone)  # staff.js encodes it
    now = datetime.now(UTC)
    base = {
        "member": getattr(request.state, "staff", None),
        "csrf": csrf_token(request),
        "assets": ASSETS,
        "tz_name": str(tz),
        "when": lambda iso: present.local_time(iso, tz, now),
        "due": lambda iso, breached=False: present.due(iso, breached, now),
        "audit_sentence": lambda event: present.audit_sentence(event, tz, now),
        "reasons_text": present.reasons_text,
    }
    return TEMPLATES.TemplateResponse(request, template, base | context, status_code=status_code)


ERROR_TITLES = {NotFound: "Not found", NotAllowed: "Not allowed", Conflict: "Cannot do that now"}


def error_page(request: Request, exc: AssistantError) -> HTMLResponse:
    """The staff pages' one translation of the error vocabulary: the error page, with the class's status."""
    title = next((t for kind, t in ERROR_TITLES.items() if isinstance(exc, kind)), "Cannot do that")
    return render(request, "error.html", {"title": title, "error": str(exc)}, exc.http_status)
