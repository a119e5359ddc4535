"""Small builders for test files: a real PDF with a text layer, a real .docx, a loopback web server."""

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load import free_port
from ingest.fetch import FetchPolicy

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
