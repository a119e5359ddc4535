"""Small builders for test files: a real PDF with a text layer, a real .docx, a loopback web server."""

import contextlib
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import inspect
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.engine import Assistant, Writer
from evaluation.load import free_port
from ingest.fetch import FetchPolicy

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"
# The tests' own web servers listen on loopback, which ingest refuses unless allowed.
LOOPBACK = FetchPolicy.allowing(["127.0.0.0/8"])


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF, one text line per page (Helvetica), with a correct xref table."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_docx(path: Path, title: str, sections: dict[str, list[str]]) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(title, style="Title")
    for heading, paragraphs in sections.items():
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(str(path))
    return path


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder over HTTP on a free loopback port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def make_squad(path: Path, articles: dict[str, list[tuple[str, list[tuple[str, str]]]]]) -> Path:
    """A SQuAD v2.0 file: article title → paragraphs of (context, [(question, answer)]); answer "" = impossible."""
    data = {
        "version": "v2.0",
        "data": [
            {
                "title": title,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": f"{title}-{p}-{i}",
                                "question": question,
                                "is_impossible": not answer,
                                "answers": [{"text": answer, "answer_start": context.find(answer)}] if answer else [],
                            }
                            for i, (question, answer) in enumerate(qas)
                        ],
                    }
                    for p, (context, qas) in enumerate(paragraphs)
                ],
            }
            for title, paragraphs in articles.items()
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@contextmanager
def serve_app(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yields the base URL once it answers."""
    import time

    import httpx
    import uvicorn

    port = free_port()
    # As `serve` runs it: uvicorn trusts no proxy headers itself (the app does, for `forwarded_allow_ips` only).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_routes(routes: dict[str, tuple[int, dict[str, str], bytes]], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve fixed answers (status, headers, body) by path on `host` (any 127.x address); yields the base URL.
    A body may name `{base}`, replaced by the server's own base URL (for redirects and sitemaps)."""

    class Fixed(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path.split("?")[0], (404, {}, b"not here"))
            body = body.replace(b"{base}", base.encode())
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value.replace("{base}", base))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Fixed)
    base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


# What the security tests' servers are configured with: one partner, allowed on an origin nothing listens on.
ORIGIN = "http://127.0.0.1:9"
PARTNERS = f"partners:\n  p:\n    name: P\n    allowed_origins: ['{ORIGIN}']\n"
Server = Callable[..., AbstractContextManager[str]]


@contextmanager
def fake_llm(
    reply: str, delay_s: float = 0.0, status: int = 200, word_delay_s: float = 0.0
) -> Iterator[tuple[str, list[dict]]]:  # type: ignore[type-arg]
    received: list[dict] = []  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            time.sleep(delay_s)
            with contextlib.suppress(BrokenPipeError):  # the client timed out first, as the timeout test intends
                self._stream()

        def _stream(self) -> None:
            """Server-sent events, one word a chunk, as OpenAI-compatible servers stream (the engine always streams)."""
            self.send_response(status)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in reply.split(" "):
                delta = {
                    "id": "fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "fake",
                    "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                self.wfile.flush()
                time.sleep(word_delay_s)
            self.wfile.write(b"data: [DONE]\n\n")
            received.append({"finished_streaming": True})

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    finally:
        server.shutdown()
        server.server_close()


def with_llm(assistant: Assistant, url: str, timeout: float = 5.0) -> Assistant:
    """The same assistant with an LLM writer at `url` (the writer is an argument, like the embedder)."""
    settings = assistant.settings.model_copy(update={"llm_url": url, "llm_timeout_s": timeout})
    return Assistant(
        settings, assistant.embedder, assistant.store, assistant.calibration, Writer.from_settings(settings)
    )


def database_text(sessions: sessionmaker[Session]) -> str:
    """Every value in every table, as one string: personal data left anywhere shows up here."""
    out = []
    with sessions() as session:
        engine = session.get_bind()
        for table in inspect(engine).get_table_names():
            for row in session.execute(sql(f"SELECT * FROM {table}")):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def run_cli(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`cluster-assistant ARGS` as a user runs it: a subprocess, the data directory given by its env var."""
    env = {**os.environ, "CLUSTER_ASSISTANT_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        input=stdin,
    )


def until(check: Callable[[], object], timeout_s: float = 30.0, every_s: float = 0.1) -> object:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"still not true after {timeout_s} s: {check}"
        time.sleep(every_s)


# Tests send many requests from one address: they set their own rate limits, generous unless a test is about them
# (the sign-in lockout keeps its default: signing in correctly never meets it).
GENEROUS_LIMITS = {
    name: "100000/minute"
    for name in (
        "rate_limit_ask",
        "rate_limit_chat",
        "rate_limit_feedback",
        "rate_limit_enquiries",
        "rate_limit_widget_session",
        "rate_limit_login",
    )
}


def settings_for(data_dir: Path, model_cache: Path, **overrides) -> Settings:  # type: ignore[no-untyped-def]
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, limit in GENEROUS_LIMITS.items():
        overrides.setdefault(name, limit)
    models = data_dir / "models"
    if not models.exists():
        models.symlink_to(model_cache, target_is_directory=True)  # reuse the exported model
    overrides.setdefault("corpus_dir", REPO / "corpus")
    return Settings(data_dir=data_dir, **overrides)


def log_now(
    sessions: sessionmaker[Session],
    channel: str,
    question: str,
    answer,
    latency_ms: float,  # type: ignore[no-untyped-def]
    partner_id: str | None = None,
) -> int:
    """Log a question as the desk does (a logbook), and wait until it is written: tests read it back at once."""
    from assistant.desk.logbook import Logbook
    from assistant.desk.records import question_row

    book = Logbook(sessions)
    question_id = book.log(question_row(channel, question, answer, latency_ms, partner_id))
    book.flush()
    return question_id


def staff_client(url: str, email: str, password: str) -> httpx.Client:
    """An HTTP client signed in as staff, sending the session's CSRF token with every request (as the pages do)."""
    client = httpx.Client(base_url=url, follow_redirects=False)
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = client.get("/api/staff/session").json()["csrf_token"]
    return client


AXE = REPO / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical violations on the page. Evaluated through the DevTools protocol: an injected
    <script> tag would be (rightly) refused by our pages' CSP."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[str] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)"
    )
    return found
