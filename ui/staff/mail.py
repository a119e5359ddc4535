"""The mail screen (`/staff/mail`): is mail on, when the mailbox was last read, and the outbox, with a way to send
a failed or unsent message again; and attachments, downloaded (never shown inline)."""

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ui.edge import desk_of
from ui.staff.auth import check_csrf, staff_of
from ui.staff.pages import render

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.get("/mail", response_class=HTMLResponse)
def mail_page(request: Request, error: str = "") -> HTMLResponse:
    desk = desk_of(request)
    context = {
        "title": "Mail",
        "section": "mail",
        "health": desk.mail.health(),
        "rows": desk.mail.outgoing(),
        "error": error[:300],
    }
    return render(request, "mail.html", context)


@router.post("/mail/{outbox_id}/retry")
def retry(request: Request, outbox_id: int, back: str = Form("/staff/mail", max_length=300)) -> Response:
    """Queue a failed or unsent message again; back to where the button was (a path of ours only)."""
    target = back if back.startswith("/staff/") and not back.startswith("//") else "/staff/mail"
    desk_of(request).mail.retry(outbox_id, staff_of(request).email)  # NotFound, Conflict: the error page
    return RedirectResponse(target, status_code=303)


@router.get("/attachments/{attachment_id}")
def attachment(request: Request, attachment_id: int) -> Response:
    """The file as a download: a neutral type and `attachment`, so a browser never renders what a stranger sent."""
    filename, data = desk_of(request).mail.attachment(attachment_id)
    disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(data, media_type="application/octet-stream", headers=headers)
