"""The web app over a real HTTP server on loopback, and Gradio's chat through gradio_client."""

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from assistant.service import Assistant
from ui.app import create_app


@pytest.fixture(scope="module")
def base_url(assistant: Assistant) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(assistant.settings, assistant), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_healthz(base_url: str) -> None:
    body = httpx.get(f"{base_url}/healthz").json()
    assert body["ok"] is True and body["chunks"] > 0 and body["index_loaded"] is True


def test_api_ask_returns_the_public_shape(base_url: str) -> None:
    body = httpx.post(f"{base_url}/api/ask", json={"question": "What is PIONEER?"}, timeout=30).json()
    assert body["abstained"] is False and body["citations"][0]["title"] == "Health Tech in the West Midlands"


@pytest.mark.parametrize("payload", [{"question": ""}, {"question": "x" * 2001}, {}, {"question": 5}])
def test_bad_questions_are_422_not_500(base_url: str, payload: dict) -> None:  # type: ignore[type-arg]
    response = httpx.post(f"{base_url}/api/ask", json=payload, timeout=30)
    assert response.status_code == 422


def test_chat_page_and_gradio_client(base_url: str) -> None:
    from gradio_client import Client

    assert "<html" in httpx.get(f"{base_url}/").text.lower()
    reply = Client(f"{base_url}/", verbose=False).predict("What is PIONEER?", api_name="/chat")
    assert "PIONEER" in str(reply) and "Sources" in str(reply)
