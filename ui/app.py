"""The web app: FastAPI with the Gradio chat at `/`, the HTTP API under `/api`, OpenAPI docs at `/docs`, `/healthz`.

`create_app` loads the model, the index and the database once; every channel shares them through `Answering`.
"""

import os
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.db import open_database
from assistant.partners import PartnerDirectory
from assistant.service import Assistant
from ui import staff
from ui.answering import Answering
from ui.api import router
from ui.chat import CSS, build_chat
from ui.console import build_console
from ui.guards import RateLimiter, TokenSigner, load_secret
from ui.widget import WidgetGuard, cors_for
from ui.widget import router as widget_router

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


ANSWER_PATHS = ("/api/ask", "/api/widget/ask")
KEEP_ALIVE_S = 75


def shed_load(limit: int) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
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


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with where and what, without echoing the input: FastAPI's own handler crashes (500) on bodies that are
    not UTF-8, and echoing would repeat personal data back into logs and proxies."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", ""))} for e in errors]
    return JSONResponse({"detail": detail or "The request is not valid."}, status_code=422, headers=cors_for(request))


def create_app(
    settings: Settings, assistant: Assistant | None = None, sessions: sessionmaker[Session] | None = None
) -> FastAPI:
    assistant = assistant or Assistant.load(settings)
    sessions = sessions or open_database(settings)
    answering = Answering.for_settings(settings, assistant, sessions)
    app = FastAPI(
        title="Cluster Assistant",
        version="0.1.0",
        description="Answers about the West Midlands health tech network from its own documents, cited.",
    )
    app.state.answering = answering
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.widget = WidgetGuard(
        PartnerDirectory(settings.partners_file),
        TokenSigner(load_secret(settings.widget_secret, settings.data_dir)),
        RateLimiter(sessions),
    )
    app.include_router(router)
    app.include_router(widget_router)
    app.include_router(staff.router)
    app.include_router(staff.api)
    app.middleware("http")(staff.require_staff(answering))
    app.middleware("http")(shed_load(settings.max_in_flight))

    @app.get("/healthz", tags=["ops"], summary="Index loaded, vector store and database reachable")
    def healthz() -> JSONResponse:
        problems = []
        try:
            chunks = assistant.store.count()
        except Exception as exc:  # the store's client raises its own types; any failure means unhealthy
            chunks = 0
            problems.append(f"vector store unreachable: {exc}")
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # likewise for database drivers
            problems.append(f"database unreachable: {exc}")
        if not assistant.index.chunks:
            problems.append("the index is empty: run `cluster-assistant ingest`")
        body: dict[str, object] = {
            "ok": not problems,
            "chunks": chunks,
            "index_loaded": bool(assistant.index.chunks),
            "worker": os.getpid(),
        }
        if problems:
            body["reason"] = "; ".join(problems)
        return JSONResponse(body, status_code=200 if not problems else 503)

    def staff_email(request: Request) -> str | None:
        member = staff.member_for(sessions, request.cookies.get(staff.COOKIE))
        return member.email if member else None

    app = gr.mount_gradio_app(
        app,
        build_console(answering, list(answering.triage.taxonomy.categories) if answering.triage else []),
        path="/staff",
        auth_dependency=staff_email,
        **GRADIO_EXTRAS_OFF,
    )
    chat = build_chat(
        answering,
        answering.starter_questions(settings.starter_questions),
        settings.chat_concurrency,
        settings.chat_queue_size,
    )
    return gr.mount_gradio_app(
        app,
        chat,
        path="/",
        **GRADIO_EXTRAS_OFF,
        css=CSS,
        theme=gr.themes.Default(),
    )


def app_from_env() -> FastAPI:
    """The app for one worker process: each reads the same environment, so all serve alike."""
    return create_app(Settings())


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve on host:port. With several workers, each process loads the model and the index; everything they
    must agree on (widget signing key, rate limits, conversations, staff sessions, records) is in data_dir or
    the database."""
    import uvicorn

    print(f"Serving the Cluster Assistant on http://{host}:{port} (API docs: http://{host}:{port}/docs)")
    # Keep-alive longer than a proxy's or a busy client's idle gap: uvicorn's 5 s default closes connections that
    # clients are about to reuse, and those requests fail with a reset (3 in 5,356 at 200 clients, measured).
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "timeout_keep_alive": KEEP_ALIVE_S}
    if workers > 1:
        uvicorn.run("ui.app:app_from_env", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
