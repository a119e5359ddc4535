"""`/documents/<key>`: a public document shown whole, so a source card's link opens it at the quoted section.
Server-rendered, no script; only public documents, whatever the key."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from assistant.errors import NotFound
from ui.edge import desk_of

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/documents/{key}", response_class=HTMLResponse)
def document_page(request: Request, key: str) -> HTMLResponse:
    try:
        document = desk_of(request).questions.document(key[:64])
    except NotFound as exc:
        return TEMPLATES.TemplateResponse(request, "missing.html", {"error": str(exc)}, status_code=404)
    return TEMPLATES.TemplateResponse(request, "reading.html", {"d": document})
