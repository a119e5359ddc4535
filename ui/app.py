"""The web app: FastAPI with the Gradio chat mounted at `/`, `/api/ask` and `/healthz`.

The chat here is deliberately plain; source cards, feedback and hand-off come with the chat issue.
"""

import html
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.errors import AssistantError, InvalidQuestion
from assistant.models import Answer
from assistant.service import Assistant


class AskRequest(BaseModel):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS * 2)
    history: list[str] = Field(default_factory=list, max_length=50)


def render(answer: Answer) -> str:
    """Answer text plus its sources, as Markdown with every document string escaped."""
    lines = [html.escape(answer.text)]
    if answer.citations:
        lines.append("\n**Sources**")
        for c in answer.citations:
            where = f" — <{c.url}>" if c.url and c.url.startswith(("http://", "https://")) else f" — `{c.source}`"
            lines.append(f"{c.n}. {html.escape(c.title)}, {html.escape(c.section or '')}{where}")
    return "\n".join(lines)


def _history(messages: list[dict[str, Any]]) -> list[str]:
    return [
        str(m.get("content", "")) for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)
    ]


def build_chat(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, messages: list[dict[str, Any]]) -> str:
        try:
            return render(assistant.ask(message, _history(messages)))
        except AssistantError as exc:
            return f"⚠️ {html.escape(str(exc))}"

    return gr.ChatInterface(
        respond,
        title="West Midlands Health Tech — Cluster Assistant",
        description="Answers come from the cluster's documents, with numbered sources, or it says it doesn't know.",
        examples=["What is PIONEER?", "Which universities are in the West Midlands?", "Where does Dignio come from?"],
        api_name="chat",
    )


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """The app; loads the assistant (model and index) once."""
    assistant = assistant or Assistant.load(settings)
    app = FastAPI(title="Cluster Assistant", version="0.1.0")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            chunks = assistant.store.count()
        except Exception as exc:  # the store's own error types vary by client; any failure means unhealthy
            return JSONResponse({"ok": False, "reason": f"store unreachable: {exc}"}, status_code=503)
        return JSONResponse({"ok": chunks > 0, "chunks": chunks, "index_loaded": bool(assistant.index.chunks)})

    @app.post("/api/ask")
    def ask(request: AskRequest) -> JSONResponse:
        try:
            answer = assistant.ask(request.question, request.history)
        except InvalidQuestion as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        except AssistantError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return JSONResponse(answer.to_json())

    return gr.mount_gradio_app(app, build_chat(assistant), path="/")


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    app = create_app(settings)
    print(f"Serving the Cluster Assistant on http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
