"""The documents screen (`/staff/documents`): what the assistant knows, files added (uploads, several at once),
documents removed or ingested again, and each ingest's progress, updated in place while it runs."""

from collections.abc import Callable, Sequence
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile as StarletteUpload

from assistant.desk import DocumentOrigin, Visibility
from assistant.desk.views import DocumentRow, WrittenAnswer
from assistant.errors import AssistantError
from ui.edge import desk_of
from ui.staff.auth import check_csrf, staff_of
from ui.staff.pages import is_htmx, render

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(check_csrf)])
LEVELS = tuple(Visibility)
MAX_FILES = 20
MAX_QUESTIONS = 10  # a gap's questions shown and tried on the answer form


def _then_show(change: Callable[[], int | None]) -> Response:
    """Make a change and go back to the documents page: with its job's progress, or with the error in words (these
    forms' one translation of the error vocabulary)."""
    try:
        job_id = change()
    except AssistantError as exc:
        return RedirectResponse(f"/staff/documents?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/staff/documents?job={job_id}" if job_id else "/staff/documents", status_code=303)


def shown(documents: list[DocumentRow], q: str, status: str) -> list[DocumentRow]:
    """The documents whose title or source contains `q`, in `status` when given."""
    q = q.strip().lower()
    found = [d for d in documents if not q or q in f"{d.title} {d.source}".lower()]
    return [d for d in found if not status or d.status == status]


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, q: str = "", status: str = "", job: int = 0, error: str = "") -> HTMLResponse:
    desk = desk_of(request)
    everything = desk.library.listing(staff_of(request))
    context = {
        "title": "Documents",
        "section": "documents",
        "documents": shown(everything, q[:200], status[:20]),
        "total": len(everything),
        "q": q[:200],
        "status": status,
        "levels": LEVELS,
        "job": desk.library.job(job) if job else None,
        "error": error[:300],
        "sites": desk.library.sites(),
    }
    return render(request, "documents.html", context)


async def files_of(uploads: Sequence[StarletteUpload], limit_mb: int) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes), each read up to its limit (a larger one is refused by the library)."""
    files = []
    for upload in uploads[:MAX_FILES]:
        if upload.filename:
            files.append((upload.filename, await upload.read(limit_mb * 1024 * 1024 + 1)))
    return files


@router.post("/documents")
async def add(
    request: Request,
    files: Annotated[list[UploadFile], File()],
    visibility: str = Form("public"),
    tags: str = Form("", max_length=500),
) -> Response:
    desk = desk_of(request)
    received = await files_of(files, desk.settings.max_upload_mb)
    return _then_show(lambda: desk.library.add_files(received, visibility, tags.split(","), staff_of(request).email))


@router.post("/documents/site")
def add_site(
    request: Request, url: str = Form(..., max_length=500), visibility: str = Form("public"), daily: str = Form("")
) -> Response:
    every_hours = 24 if daily else 0
    return _then_show(lambda: desk_of(request).library.add_site(url, visibility, every_hours, staff_of(request).email))


@router.post("/sites/{site_id}/crawl")
def crawl_now(request: Request, site_id: int) -> Response:
    return _then_show(lambda: desk_of(request).library.crawl_now(site_id, staff_of(request).email))


@router.post("/documents/remove")
def remove(request: Request, source: str = Form(..., max_length=500)) -> Response:
    return _then_show(lambda: desk_of(request).library.remove(source, staff_of(request)))


@router.post("/documents/restore")
def restore(request: Request, source: str = Form(..., max_length=500)) -> Response:
    """Add a removed document again (admins; staff for written answers, as for removing them)."""
    return _then_show(lambda: desk_of(request).library.restore(source, staff_of(request)))


@router.post("/documents/reingest")
def reingest(request: Request, document_id: int = Form(0)) -> Response:
    """Ingest one kept document again, or all of them (no `document_id`)."""
    chosen = [document_id] if document_id else None
    return _then_show(lambda: desk_of(request).library.reingest(chosen, staff_of(request).email))


@router.get("/documents/view", response_class=HTMLResponse)
def document_page(request: Request, source: str, question: str = "") -> Response:
    """One document: its sections and chunks; a question tried against it alone; a written answer's editor."""
    desk = desk_of(request)
    chunks = desk.library.chunks_of(source)  # NotFound: the error page (ui/app.py's handler)
    entry = desk.library.document(source, staff_of(request))
    sections = list(dict.fromkeys(c.section for c in chunks if c.section))
    tried = desk.library.try_question(source, question[:500]) if question.strip() else None
    answer = entry.origin == DocumentOrigin.ANSWER and entry.id is not None
    written = desk.library.answer_of(entry.id) if answer and entry.id is not None else None
    context = {
        "title": entry.title,
        "section": "documents",
        "d": entry,
        "chunks": chunks,
        "sections": sections,
        "question": question[:500],
        "tried": tried,
        "written": written,
        "levels": LEVELS,
    }
    return render(request, "document.html", context)


@router.get("/gaps/answer", response_class=HTMLResponse)
def answer_form(request: Request, question: Annotated[list[str], Query()] = []) -> HTMLResponse:  # noqa: B006
    """The form for a written answer to a knowledge gap: the gap's questions (staff may add rewordings), its title
    started from the first, and how the assistant answers them now."""
    questions = list(dict.fromkeys(q.strip()[:300] for q in question if q.strip()))[:MAX_QUESTIONS]
    context = {
        "title": "Write an answer",
        "section": "gaps",
        "levels": LEVELS,
        "answer_title": questions[0].rstrip("?")[:200] if questions else "",
        "answer_questions": "\n".join(questions),
        "now": list(zip(questions, desk_of(request).library.answers_now(questions), strict=True)),
    }
    return render(request, "answer.html", context)


@router.post("/answers")
def write_answer(
    request: Request,
    title: str = Form("", max_length=200),
    text: str = Form("", max_length=20_000),
    questions: str = Form("", max_length=6_000),
    visibility: str = Form("public"),
    document_id: int = Form(0),
) -> Response:
    """A new written answer, or a new version of one: a document of its own, ingested at once."""
    author = staff_of(request).email
    written = WrittenAnswer(title, text, visibility, questions.splitlines())
    return _then_show(lambda: desk_of(request).library.write_answer(written, author, document_id or None))


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_progress(request: Request, job_id: int) -> Response:
    """The progress panel alone (htmx polls it while the job runs)."""
    job = desk_of(request).library.job(job_id)  # NotFound: the error page
    response = render(request, "_job.html", {"job": job})
    if is_htmx(request) and job.over:
        response.headers["HX-Trigger"] = "ingest-done"  # the list below refreshes itself
    return response


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: int) -> Response:
    try:
        desk_of(request).library.cancel(job_id, staff_of(request).email)
    except AssistantError as exc:
        return RedirectResponse(f"/staff/documents?error={quote(str(exc))}", status_code=303)
    if is_htmx(request):
        return job_progress(request, job_id)
    return RedirectResponse(f"/staff/documents?job={job_id}", status_code=303)
