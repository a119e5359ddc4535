"""The web app over a real HTTP server on loopback: the API, its validation, its records; Gradio's client."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import Desk, insights
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import Enquiry, Feedback, QuestionLog
from assistant.engine.assistant import Assistant
from tests.helpers import serve_app, until
from ui.app import create_app


@pytest.fixture(scope="module")
def sessions(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("app-db")})
    return open_database(settings)


@pytest.fixture(scope="module")
def base_url(assistant: Assistant, sessions: sessionmaker[Session]) -> Iterator[str]:
    with serve_app(create_app(assistant.settings, Desk.open(assistant.settings, assistant, sessions))) as url:
        yield url


def count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def logged(sessions: sessionmaker[Session], question_id: int) -> QuestionLog:
    """The log row of an answer: written in batches off the request path, so within a moment, not at once."""

    def row() -> QuestionLog | None:
        with sessions() as session:
            return session.get(QuestionLog, question_id)

    found = until(row, timeout_s=5)
    assert isinstance(found, QuestionLog)
    return found


def enquiry(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Priya Shah",
        "email": "priya@example.org",
        "organisation": "Example Diagnostics Ltd",
        "message": "We'd like to talk about PIONEER data access.",
        "consent": True,
        "consent_version": CONSENT_VERSION,
        "transcript": [{"role": "user", "content": "What is PIONEER?"}, {"role": "assistant", "content": "…"}],
    }
    return {**body, **overrides}


def test_healthz_and_docs(base_url: str) -> None:
    body = httpx.get(f"{base_url}/healthz").json()
    assert body == {"ok": True, "chunks": body["chunks"], "index_loaded": True, "worker": body["worker"]}
    assert body["chunks"] > 0
    assert httpx.get(f"{base_url}/docs").status_code == 200
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/feedback", "/api/enquiries", "/api/consent", "/healthz"} <= set(paths)


def test_ask_is_answered_logged_and_redacted(base_url: str, sessions: sessionmaker[Session]) -> None:
    body = httpx.post(f"{base_url}/api/ask", json={"question": "What is PIONEER?"}, timeout=30).json()
    assert body["abstained"] is False and body["citations"][0]["title"] == "Health Tech in the West Midlands"
    row = logged(sessions, body["question_id"])
    assert row.channel == "api" and len(row.sources) == len(body["citations"])
    assert "health-tech-west-midlands.md#" in row.sources[0]  # the staff-side log keeps where the file is
    assert row.abstained is False and row.confidence == pytest.approx(body["confidence"], abs=1e-3)
    personal = "Who runs PIONEER? Reply to jo.bloggs@example.org or 0121 496 0000"
    body = httpx.post(f"{base_url}/api/ask", json={"question": personal}, timeout=30).json()
    row = logged(sessions, body["question_id"])
    assert row.question == "Who runs PIONEER? Reply to [email] or [phone]"


@pytest.mark.parametrize(
    "payload", [{"question": ""}, {"question": "x" * 2001}, {}, {"question": 5}, {"question": "q", "history": "no"}]
)
def test_bad_questions_are_422_with_a_message(base_url: str, payload: dict[str, object]) -> None:
    response = httpx.post(f"{base_url}/api/ask", json=payload, timeout=30)
    assert response.status_code == 422 and response.json()["detail"]


def test_feedback_is_stored_and_checked(base_url: str, sessions: sessionmaker[Session]) -> None:
    asked = httpx.post(f"{base_url}/api/ask", json={"question": "Where does Dignio come from?"}, timeout=30).json()
    before = count(sessions, Feedback)
    good = {"question": "Where does Dignio come from?", "answer": asked["answer"], "rating": "up"}
    created = httpx.post(f"{base_url}/api/feedback", json={**good, "question_id": asked["question_id"]})
    assert created.status_code == 201
    for bad in ({**good, "rating": "meh"}, {**good, "question_id": 10**9}, {**good, "answer": ""}, {"rating": "up"}):
        response = httpx.post(f"{base_url}/api/feedback", json=bad)
        assert response.status_code == 422, bad
    assert count(sessions, Feedback) == before + 1
    with sessions() as session:
        row = session.get(Feedback, created.json()["id"])
    assert row is not None and row.rating == "up" and row.question_id == asked["question_id"]


def test_enquiry_with_consent_is_stored_with_transcript_and_version(
    base_url: str, sessions: sessionmaker[Session]
) -> None:
    response = httpx.post(f"{base_url}/api/enquiries", json=enquiry())
    assert response.status_code == 201 and response.json()["status"] == "received"
    with sessions() as session:
        row = session.scalar(select(Enquiry).where(Enquiry.reference == response.json()["reference"]))
    assert row is not None and row.channel == "api" and row.consent_version == CONSENT_VERSION
    assert row.transcript[0] == {"role": "user", "content": "What is PIONEER?"} and row.status == "triaged"
    assert row.category == "health-data-access" and row.draft and row.draft.startswith("Dear Priya,")
    assert row.email == "priya@example.org" and row.consented_at is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"consent": False},
        {"consent_version": "1999-01-01"},
        {"email": "not-an-address"},
        {"name": "   "},
        {"message": ""},
        {"transcript": [{"role": "system", "content": "x"}]},
    ],
)
def test_declined_or_bad_enquiries_store_nothing(
    base_url: str, sessions: sessionmaker[Session], overrides: dict[str, object]
) -> None:
    before = count(sessions, Enquiry)
    response = httpx.post(f"{base_url}/api/enquiries", json=enquiry(**overrides))
    assert response.status_code == 422 and response.json()["detail"]
    assert count(sessions, Enquiry) == before


def test_gradio_client_reaches_only_the_chat_endpoint(base_url: str) -> None:
    from gradio_client import Client

    client = Client(f"{base_url}/", verbose=False)
    reply = client.predict("What is PIONEER?", [], api_name="/chat")
    assert reply["abstained"] is False and reply["citations"][0]["n"] == 1
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/chat"]
    assert httpx.get(f"{base_url}/monitoring").status_code == 403  # Gradio's monitoring dashboard is off


def test_database_survives_a_second_open(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    first = open_database(settings)
    with serve_app(create_app(settings, Desk.open(settings, assistant, first))) as url:
        assert httpx.post(f"{url}/api/enquiries", json=enquiry()).status_code == 201
    again = open_database(settings)  # migrating an up-to-date database changes nothing
    assert count(again, Enquiry) == 1


def test_session_id_carries_follow_ups(base_url: str) -> None:
    first = {"question": "What is Dignio?", "session_id": "s-1"}
    assert httpx.post(f"{base_url}/api/ask", json=first, timeout=30).json()["abstained"] is False
    follow = httpx.post(f"{base_url}/api/ask", json={"question": "Who is it for?", "session_id": "s-1"}, timeout=30)
    text = follow.json()["answer"].lower()
    assert "longterm conditions" in text or "healthcare professionals" in text
    other = httpx.post(f"{base_url}/api/ask", json={"question": "Who is it for?", "session_id": "s-2"}, timeout=30)
    assert other.json()["answer"] != follow.json()["answer"]  # another conversation has no "it" to resolve


def test_small_talk_and_contact_requests_are_logged_as_their_own_kind(
    base_url: str, sessions: sessionmaker[Session], embedder
) -> None:  # type: ignore[no-untyped-def]
    hello = httpx.post(f"{base_url}/api/ask", json={"question": "hi"}, timeout=30).json()
    assert hello["kind"] == "smalltalk" and hello["handoff"] is False and hello["citations"] == []
    contact = httpx.post(f"{base_url}/api/ask", json={"question": "how do I contact you"}, timeout=30).json()
    assert contact["kind"] == "contact" and contact["handoff"] is True
    typo = httpx.post(f"{base_url}/api/ask", json={"question": "wat is pioner"}, timeout=30).json()
    assert typo["corrections"] == [{"typed": "pioner", "read": "PIONEER"}]
    kinds = {logged(sessions, body["question_id"]).kind for body in (hello, contact)}
    assert kinds == {"smalltalk", "contact"}
    gaps = insights.knowledge_gaps(sessions, embedder)
    assert not any(e in ("hi", "how do I contact you") for g in gaps for e in g.examples)
    assert insights.figures(sessions).messages_by_kind["smalltalk"] >= 1


def test_a_cited_public_document_opens_whole_at_the_quoted_section(base_url: str) -> None:
    """Issue 30: a source could not be opened whole; each public document has a page, and cards link to it."""
    answer = httpx.post(f"{base_url}/api/ask", json={"question": "What is PIONEER?"}, timeout=30).json()
    page = answer["citations"][0]["page"]
    assert re.fullmatch(r"/documents/[0-9a-f]{16}#the-four-ds", page), page
    shown = httpx.get(f"{base_url}{page.split('#')[0]}")
    assert shown.status_code == 200 and "default-src 'self'" in shown.headers["content-security-policy"]
    html = shown.text
    assert '<section id="the-four-ds"' in html and "PIONEER holds all data within a central repository" in html
    assert "<h1>Health Tech in the West Midlands</h1>" in html and "Dated 25 November 2026" in html
    assert "corpus/" not in html  # where the file sits on the server is no visitor's business
    assert httpx.get(f"{base_url}/documents/0000000000000000").status_code == 404
