"""The web app: FastAPI with the Gradio chat at `/`, the HTTP API under `/api`, OpenAPI docs at `/docs`, `/healthz`,
and the staff console (server-rendered pages, `ui/staff/`) at `/staff`.

`create_app` loads the model, the index and the database once; every channel shares them through `Desk`.
"""

import hashlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant.config import Settings
from assistant.desk import Desk
from assistant.errors import AssistantError
from assistant.private import private_dir
from ui import mail_hook
from ui.api import router
from ui.chat import build_chat
from ui.chat_style import CSS, PAGE_SCRIPT, THEME
from ui.docs import router as docs_router
from ui.edge import (
    assistant_error,
    cap_body,
    chat_cookie,
    cors_for,
    desk_of,
    one_layer,
    rate_limit,
    refuse_gradio_fetches,
    security_headers,
    shed_load,
    staff_host_only,
)
from ui.ratelimit import RateLimits
from ui.reading import router as reading_router
from ui.staff import auth, documents, enquiry, inbox, reports
from ui.staff import mail as staff_mail
from ui.staff.api import api as staff_api
from ui.staff.pages import ASSETS, error_page
from ui.staff.session import session_token
from ui.tokens import TokenSigner, load_secret
from ui.widget import router as widget_router

log = logging.getLogger(__name__)


async def error_response(request: Request, exc: Exception) -> Response:
    """The error vocabulary translated once per edge: the staff console's pages get the error page, every other
    route (the APIs, the widget) `{"detail": message}` with the class's status."""
    if isinstance(exc, AssistantError) and request.url.path.startswith("/staff"):
        return error_page(request, exc)
    return await assistant_error(request, exc)


os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's footer links, run history, monitoring dashboard, MCP server, SSR and PWA: none is wanted here.
GRADIO_EXTRAS_OFF: dict[str, Any] = {
    "footer_links": [],
    "run_history": False,
    "enable_monitoring": False,
    "mcp_server": False,
    "ssr_mode": False,
    "pwa": False,
}

KEEP_ALIVE_S = 75
STATIC = Path(__file__).parent / "static"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with where and what, without echoing the input: FastAPI's own handler crashes (500) on bodies that are
    not UTF-8, and echoing would repeat personal data back into logs and proxies."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", ""))} for e in errors]
    return JSONResponse({"detail": detail or "The request is not valid."}, status_code=422, headers=cors_for(request))


def create_app(settings: Settings, desk: Desk | None = None) -> FastAPI:
    """The whole app: the desk (engine, database, triage) loaded once and shared by every route and screen."""
    desk = desk or Desk.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.jobs_enabled:
            desk.start_jobs()  # e-mail, mailbox polls, retention: each job once across every worker
        yield
        desk.close()  # stops the jobs; the question log is written in batches: write the last one

    app = FastAPI(
        lifespan=lifespan,
        title="Cluster Assistant",
        version="0.1.0",
        description="Answers about the West Midlands health tech network from its own documents, cited.",
        docs_url=None,  # ours, in ui/docs.py: served from a package, not from a CDN
        redoc_url=None,
    )
    app.state.desk = desk
    app.state.settings = settings
    app.state.limits = RateLimits(settings)
    app.state.partners = desk.partners
    secret = load_secret(settings.widget_secret, settings.data_dir)
    app.state.signer = TokenSigner(secret)
    # CSRF tokens get a key of their own, derived from the secret, so neither kind of token can stand for the other.
    app.state.csrf_key = hmac.new(secret, b"staff csrf tokens", hashlib.sha256).digest()
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(AssistantError, error_response)
    staff_pages = [auth.router, inbox.router, enquiry.router, reports.router, staff_mail.router, documents.router]
    staff_pages.append(staff_api)
    for routes in (router, docs_router, reading_router, widget_router, health_router, mail_hook.router, *staff_pages):
        app.include_router(routes)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="assets")  # htmx (vendored), the console's CSS and JS
    if not settings.staff_host:
        log.warning(
            "CLUSTER_ASSISTANT_STAFF_HOST is not set: the staff console and the public chat share one "
            "origin. Exposed to the internet, give staff a host of their own (docs/deploy.md)."
        )
    _install_edge(app, settings, desk)
    return _mount_chat(app, settings, desk)


def _install_edge(app: FastAPI, settings: Settings, desk: Desk) -> None:
    """What every request meets before a route (ui/edge.py), outermost first, as one layer."""
    app.middleware("http")(
        one_layer(
            security_headers(settings),
            chat_cookie(),
            cap_body(settings.max_request_kb * 1024, {"/api/inbound-mail": settings.max_inbound_mail_kb * 1024}),
            refuse_gradio_fetches(every_path=False),  # remote addresses: refused before anything else
            staff_host_only(settings.staff_host),
            rate_limit(app.state.limits),
            auth.require_staff(desk),
            refuse_gradio_fetches(),  # every other path: the chat serves no files
            shed_load(settings.max_in_flight),
        )
    )
    if settings.forwarded_allow_ips:  # only these proxies may say who the client is (and whether it used https)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def _mount_chat(app: FastAPI, settings: Settings, desk: Desk) -> FastAPI:
    """The public chat (Gradio) at /. It is the only Gradio screen: the staff side is our own pages."""
    # Gradio keeps the files it makes or receives in GRADIO_TEMP_DIR (read when the Blocks and its routes are
    # made): inside the private data directory, not in a world-readable /tmp/gradio shared with other programs.
    os.environ["GRADIO_TEMP_DIR"] = str(private_dir(settings.data_dir / "gradio"))
    starters = desk.questions.starters(settings.starter_questions)
    limits: RateLimits = app.state.limits
    chat = build_chat(
        desk,
        starters,
        settings.chat_concurrency,
        settings.chat_queue_size,
        lambda address: limits.hit("enquiries", address),
    )
    return gr.mount_gradio_app(
        app,
        chat,
        path="/",
        max_file_size=0,  # the chat takes no files; uploads are refused before Gradio (ui/edge.py) as well
        **GRADIO_EXTRAS_OFF,
        css=CSS,
        js=PAGE_SCRIPT,
        theme=THEME,
    )


health_router = APIRouter(tags=["ops"])


@health_router.get("/healthz", summary="Index loaded, vector store and database reachable")
def healthz(request: Request) -> JSONResponse:
    """200 when healthy; 503 with reason codes (the details go to the server log, never to the caller)."""
    desk = desk_of(request)
    problems = desk.health()
    try:
        chunks = desk.engine.catalogue.count()
    except Exception:  # the store's client raises its own types; any failure means unhealthy
        log.exception("vector store health check failed")
        chunks = 0
        problems.append("vector store unreachable")
    loaded = desk.engine.catalogue.loaded()
    if not loaded:
        problems.append("the index is empty: run `cluster-assistant ingest`")
    body: dict[str, object] = {
        "ok": not problems,
        "chunks": chunks,
        "index_loaded": bool(loaded),
        "worker": os.getpid(),
    }
    if problems:
        body["reason"] = "; ".join(problems)
    if desk.accounts.member(session_token(request)) is not None:  # staff see how mail is doing too
        body["mail"] = jsonable_encoder(desk.mail.health())
    return JSONResponse(body, status_code=200 if not problems else 503)


def app_from_env() -> FastAPI:
    """The app for one worker process: each reads the same environment, so all serve alike."""
    return create_app(Settings())


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve on host:port with `settings.workers` processes. Each loads the model and the index; what they must
    agree on (widget signing key, conversations, staff sessions, records) is in data_dir or the database, and rate
    limits are in Redis when `redis_url` is set (else each worker enforces its share)."""
    import uvicorn

    print(f"Serving the Cluster Assistant on http://{host}:{port} (API docs: http://{host}:{port}/docs)")
    if settings.workers > 1 and not settings.redis_url:
        print(
            f"Note: {settings.workers} workers without CLUSTER_ASSISTANT_REDIS_URL: each worker counts rate limits "
            f"alone and enforces 1/{settings.workers} of each. Set a Redis URL to share one count."
        )
    # Keep-alive longer than a proxy's or a busy client's idle gap: uvicorn's 5 s default closes connections that
    # clients are about to reuse, and those requests fail with a reset (3 in 5,356 at 200 clients, measured).
    # uvicorn's own proxy-header handling is off: it trusts loopback by default; the app trusts only the
    # operator's list (`forwarded_allow_ips`).
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "timeout_keep_alive": KEEP_ALIVE_S}
    options["proxy_headers"] = False
    if settings.workers > 1:
        # Each worker builds its app from the environment: hand it what the command line said.
        os.environ["CLUSTER_ASSISTANT_WORKERS"] = str(settings.workers)
        os.environ["CLUSTER_ASSISTANT_FORWARDED_ALLOW_IPS"] = json.dumps(settings.forwarded_allow_ips)
        uvicorn.run("ui.app:app_from_env", factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
