"""The API docs at `/docs`: Swagger UI 5 served from the files the `swagger-ui-py` package ships (with their
Apache-2.0 licence), never from a CDN, with its start-up in our own script file so the page runs under a policy
that allows no inline script. Only its static files are used: the package's own code is never imported."""

import importlib.util
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse

DOCS_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
"""
DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cluster Assistant API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>"""


def _swagger_ui_files() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install -e . (it ships Swagger UI's files)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs_page() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)


@router.get("/docs/init.js")
def docs_init() -> HTMLResponse:
    return HTMLResponse(DOCS_INIT, media_type="text/javascript", headers=CACHE)


@router.get("/docs/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:
        return HTMLResponse("Not found.", status_code=404)
    return FileResponse(_swagger_ui_files() / name, media_type=ASSETS[name], headers=CACHE)
