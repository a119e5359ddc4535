"""The enquiry screen (`/staff/enquiries/{id}`): the conversation in the middle, actions beside it, the reply at the
bottom, the audit trail in words. Each action is a form: htmx posts it and swaps the enquiry in place; without
script it posts and comes back here (post/redirect/get). Routes call the desk and render what it returns."""

from typing import Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from assistant.desk import EnquiryStatus, EnquiryUpdate
from assistant.errors import AssistantError
from ui.edge import desk_of
from ui.staff.auth import check_csrf, staff_of
from ui.staff.inbox import filters_of, kept_query
from ui.staff.pages import is_htmx, render

router = APIRouter(prefix="/staff/enquiries", include_in_schema=False, dependencies=[Depends(check_csrf)])
DONE = {
    "reply": "Reply queued to be sent by e-mail: its delivery shows in the conversation.",
    "reply-resolved": "Reply queued to be sent, and the enquiry resolved.",
    "reply-waiting": "Reply queued to be sent; the enquiry now waits for the enquirer.",
    "status": "Status changed.",
    "unchanged": "Nothing changed: that is its status already.",
    "assign": "Assignment saved.",
    "category": "Category corrected: triage learns from it.",
    "note": "Note added.",
    "consent": "Consent recorded.",
}
TEXT = 50_000


def _page(request: Request, enquiry_id: int, flash: str = "", error: str = "", status_code: int = 200) -> Response:
    desk = desk_of(request)
    enquiry = desk.enquiries.enquiry(enquiry_id)  # NotFound: the error page (ui/app.py's handler)
    before, after = desk.enquiries.neighbours(filters_of(request), enquiry_id)
    context: dict[str, Any] = {
        "title": f"{enquiry.title} · enquiry {enquiry.reference or enquiry.id}",
        "section": "inbox",
        "e": enquiry,
        "previous": before,
        "next": after,
        "query": kept_query(request, page=""),
        "statuses": tuple(EnquiryStatus),
        "categories": desk.enquiries.categories(),
        "staff": desk.accounts.active(),
        "flash": flash,
        "error": error,
    }
    return render(request, "enquiry.html", context, status_code)


def _done(request: Request, action: str) -> str:
    """What a finished action says; a reply says whether it will leave at all."""
    if action.startswith("reply") and not desk_of(request).mail.sending:
        return "Reply saved. Not sent: no mail server is configured."
    return DONE.get(action, "")


@router.get("/{enquiry_id}", response_class=HTMLResponse)
def enquiry_page(request: Request, enquiry_id: int, done: str = "") -> Response:
    response = _page(request, enquiry_id, flash=_done(request, done))
    desk_of(request).enquiries.seen(enquiry_id)  # opened (it exists: the page was found)
    return response


def _act(request: Request, enquiry_id: int, action: str, change: Any) -> Response:
    """Run one staff action, then show the enquiry as it now is (htmx) or redirect to it (a plain form post)."""
    try:
        result = change()
    except AssistantError as exc:  # shown beside the form; htmx swaps only 2xx answers, so it gets a 200
        return _page(request, enquiry_id, error=str(exc), status_code=200 if is_htmx(request) else exc.http_status)
    action = result if isinstance(result, str) else action  # a change may say what it did ("unchanged")
    if action == "share":
        shared = f"Shared with the partner: {result.name} <{result.email}>"
        shared += f", {result.organisation}." if result.organisation else "."
        return _page(request, enquiry_id, flash=shared)
    if is_htmx(request):
        return _page(request, enquiry_id, flash=_done(request, action))
    query = kept_query(request, page="", done=action)
    return RedirectResponse(f"/staff/enquiries/{enquiry_id}?{query}", status_code=303)


def _update(request: Request, enquiry_id: int, **fields: str | None) -> Any:
    return lambda: desk_of(request).enquiries.update(enquiry_id, EnquiryUpdate(**fields), staff_of(request).email)


@router.post("/{enquiry_id}/reply")
def approve(
    request: Request, enquiry_id: int, reply: str = Form("", max_length=TEXT), then: str = Form("", max_length=20)
) -> Response:
    """Send the reply; "Send and resolve" or "Send and wait for the enquirer" also moves the status."""
    status = then if then in (EnquiryStatus.RESOLVED, EnquiryStatus.WAITING) else None
    action = f"reply-{status}" if status else "reply"
    return _act(request, enquiry_id, action, _update(request, enquiry_id, reply=reply, status=status))


@router.post("/{enquiry_id}/status")
def status(request: Request, enquiry_id: int, status: str = Form(..., max_length=20)) -> Response:
    actor = staff_of(request).email

    def move() -> str:  # "Move" on the status it already has changes nothing, and says so
        return "status" if desk_of(request).enquiries.move(enquiry_id, status, actor) else "unchanged"

    return _act(request, enquiry_id, "status", move)


@router.post("/{enquiry_id}/assign")
def assign(request: Request, enquiry_id: int, assignee: str = Form("", max_length=320)) -> Response:
    return _act(request, enquiry_id, "assign", _update(request, enquiry_id, assignee=assignee.strip()))


@router.post("/{enquiry_id}/category")
def category(request: Request, enquiry_id: int, category: str = Form(..., max_length=100)) -> Response:
    return _act(request, enquiry_id, "category", _update(request, enquiry_id, category=category))


@router.post("/{enquiry_id}/note")
def note(request: Request, enquiry_id: int, note: str = Form("", max_length=10_000)) -> Response:
    return _act(request, enquiry_id, "note", _update(request, enquiry_id, note=note))


@router.post("/{enquiry_id}/consent")
def consent(
    request: Request, enquiry_id: int, partner: str = Form("", max_length=200), how: str = Form("", max_length=2000)
) -> Response:
    member = staff_of(request)
    return _act(
        request,
        enquiry_id,
        "consent",
        lambda: desk_of(request).enquiries.record_partner_consent(enquiry_id, partner, how, member),
    )


@router.post("/{enquiry_id}/share")
def share(request: Request, enquiry_id: int, partner: str = Form(..., max_length=200)) -> Response:
    actor = staff_of(request).email
    return _act(
        request, enquiry_id, "share", lambda: desk_of(request).enquiries.share_with_partner(enquiry_id, partner, actor)
    )
