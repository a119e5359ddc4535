"""The staff API (`/api/staff`, JSON): the same desk calls as the console's pages, for scripts and integrations.
Cookie-authenticated like the pages, so state-changing calls carry the CSRF token from `GET /api/staff/session`.
Kept out of the public OpenAPI schema: anonymous callers need not learn its shape."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from assistant.desk import EnquiryUpdate, Filters
from assistant.desk.views import (
    DocumentRow,
    EnquiryDetail,
    Figures,
    Gap,
    InboxRow,
    JobProgress,
    PartnerShare,
    SubjectExport,
)
from assistant.errors import InvalidRequest
from ui.edge import desk_of
from ui.staff.auth import check_csrf, staff_of
from ui.staff.documents import files_of
from ui.staff.session import csrf_token

api = APIRouter(prefix="/api/staff", tags=["staff"], include_in_schema=False, dependencies=[Depends(check_csrf)])


class Update(BaseModel):
    status: str | None = None
    assignee: str | None = Field(None, max_length=320)
    category: str | None = None
    note: str | None = Field(None, max_length=10_000)
    reply: str | None = Field(None, max_length=50_000)


class Consent(BaseModel):
    partner: str = Field(..., min_length=1, max_length=200)
    how: str = Field(..., min_length=1, max_length=2000, description="How the enquirer agreed, e.g. 'reply of 3 Dec'")


@api.get("/session")
def session(request: Request) -> dict[str, str]:
    """Who is signed in, and the CSRF token to send as `X-CSRF-Token` with every state-changing call."""
    member = staff_of(request)
    return {"email": member.email, "role": member.role, "csrf_token": csrf_token(request)}


@api.get("/enquiries")
def list_enquiries(request: Request, filters: Annotated[Filters, Depends()]) -> list[InboxRow]:
    """The inbox as filtered (its filters are the query parameters: status, category, q, ...); the read is audited."""
    return desk_of(request).enquiries.inbox(filters, reader=staff_of(request).email)


@api.get("/enquiries.csv")
def enquiries_csv(request: Request) -> PlainTextResponse:
    return PlainTextResponse(desk_of(request).privacy.export_csv(staff_of(request)), media_type="text/csv")


@api.get("/enquiries/{enquiry_id}")
def get_enquiry(request: Request, enquiry_id: int) -> EnquiryDetail:
    return desk_of(request).enquiries.enquiry(enquiry_id)


@api.post("/enquiries/{enquiry_id}")
def update_enquiry(request: Request, enquiry_id: int, update: Update) -> EnquiryDetail:
    change = EnquiryUpdate(**update.model_dump())
    return desk_of(request).enquiries.update(enquiry_id, change, staff_of(request).email)


@api.post("/enquiries/{enquiry_id}/partner-consent")
def partner_consent(request: Request, enquiry_id: int, consent: Consent) -> dict[str, bool]:
    desk_of(request).enquiries.record_partner_consent(enquiry_id, consent.partner, consent.how, staff_of(request))
    return {"recorded": True}


@api.post("/enquiries/{enquiry_id}/share/{partner}")
def share(request: Request, enquiry_id: int, partner: str) -> PartnerShare:
    """The enquirer's details for a partner organisation; 409 unless their consent for it is recorded."""
    return desk_of(request).enquiries.share_with_partner(enquiry_id, partner, staff_of(request).email)


@api.get("/subjects/{email}")
def subject_access(request: Request, email: str) -> SubjectExport:
    return desk_of(request).privacy.export_subject(email, staff_of(request))


@api.delete("/subjects/{email}")
def erase(request: Request, email: str) -> dict[str, int]:
    return {"erased": desk_of(request).privacy.erase_subject(email, staff_of(request))}


@api.post("/sign-out-everywhere")
def sign_out_everywhere(request: Request) -> dict[str, int]:
    """End every session of the signed-in account, this one included."""
    return {"ended": desk_of(request).accounts.sign_out_everywhere(staff_of(request).email)}


@api.get("/gaps")
def gaps(request: Request, days: int = 90) -> list[Gap]:
    return desk_of(request).reports.knowledge_gaps(days)


@api.get("/figures")
def figures(request: Request, days: int = 30) -> Figures:
    return desk_of(request).reports.figures(days)


@api.get("/documents")
def documents(request: Request) -> list[DocumentRow]:
    """Every indexed document, and every one staff added or removed, with what the caller may do with it."""
    return desk_of(request).library.listing(staff_of(request))


class NewSite(BaseModel):
    url: str = Field(..., max_length=500, description="A page, or a sitemap.xml for a whole site")
    visibility: str = "public"
    every_hours: int = Field(24, ge=0, le=24 * 30, description="Re-crawl interval; 0: only when asked")


@api.post("/documents", status_code=202)
async def add_documents(request: Request) -> dict[str, int]:
    """Upload files (multipart `files`, several at once, with `visibility` and `tags`), or add a site (JSON
    `{"url": …}`); a job ingests them: follow it at /api/staff/jobs/{id}."""
    desk, actor = desk_of(request), staff_of(request).email
    if request.headers.get("content-type", "").startswith("application/json"):
        site = NewSite.model_validate(await request.json())
        return {"job": desk.library.add_site(site.url, site.visibility, site.every_hours, actor)}
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    received = await files_of(uploads, desk.settings.max_upload_mb)
    if not received:
        raise InvalidRequest("Send files (multipart, field `files`) or JSON with a `url`.")
    tags = str(form.get("tags", ""))[:500].split(",")
    return {"job": desk.library.add_files(received, str(form.get("visibility", "public")), tags, actor)}


@api.delete("/documents/{document:path}")
def remove_document(request: Request, document: str) -> dict[str, bool]:
    """Remove a document (its id, or its source) from the index, and keep it out; admins only."""
    library = desk_of(request).library
    library.remove(library.source_of(int(document)) if document.isdigit() else document, staff_of(request))
    return {"removed": True}


@api.get("/jobs/{job_id}")
def job(request: Request, job_id: int) -> JobProgress:
    """An ingest job's progress: total, done, chunks, current file, errors, status."""
    return desk_of(request).library.job(job_id)
