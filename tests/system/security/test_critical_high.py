"""The security review's critical and high findings (C1, H1, H2), each tested at the HTTP edge where it can be.

Each test is named after its finding and fails on fd3884c, the commit the review was made on.
"""

from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from sqlalchemy import select

from assistant.config import MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS
from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.desk.partners import PartnersFileError, read_partners
from assistant.desk.tables import Conversation
from assistant.engine import PUBLIC_ONLY, followup
from assistant.engine.assistant import Assistant
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from ingest.pipeline import ingest
from tests.helpers import ORIGIN, Server, serve_app, serve_routes, settings_for
from ui.app import create_app

PRONOUNS = "what about it and it"


# C1 — one request pinned a CPU core: follow-ups re-resolved the whole history per item, recursively.


def test_c1_follow_up_resolution_is_linear_in_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = followup.subject_of

    def counted(question: str) -> str | None:
        nonlocal calls
        calls += 1
        return real(question)

    monkeypatch.setattr(followup, "subject_of", counted)
    followup.resolve("and it?", [PRONOUNS] * 20)  # 2^20 resolutions before the fix
    assert calls <= 21
    calls = 0
    followup.resolve("and it?", [PRONOUNS] * 200)  # the engine never gets this many; the work stays linear
    assert calls <= 201


def test_c1_history_is_capped_on_the_api(app_server: Server) -> None:
    with app_server() as url:
        ok = httpx.post(f"{url}/api/ask", json={"question": "and it?", "history": [PRONOUNS] * MAX_HISTORY_ITEMS})
        assert ok.status_code == 200
        too_many = [PRONOUNS] * (MAX_HISTORY_ITEMS + 1)
        assert httpx.post(f"{url}/api/ask", json={"question": "and it?", "history": too_many}).status_code == 422
        too_long = ["x" * (MAX_QUESTION_CHARS + 1)]
        assert httpx.post(f"{url}/api/ask", json={"question": "and it?", "history": too_long}).status_code == 422


def test_c1_history_is_capped_on_the_widget(app_server: Server) -> None:
    with app_server() as url:
        token = httpx.post(f"{url}/api/widget/session", json={"partner": "p"}, headers={"Origin": ORIGIN}).json()
        headers = {"Origin": ORIGIN, "Authorization": f"Bearer {token['token']}"}
        body = {"question": "and it?", "history": [PRONOUNS] * (MAX_HISTORY_ITEMS + 1)}
        assert httpx.post(f"{url}/api/widget/ask", json=body, headers=headers).status_code == 422
        body["history"] = [PRONOUNS] * MAX_HISTORY_ITEMS
        assert httpx.post(f"{url}/api/widget/ask", json=body, headers=headers).status_code == 200


def test_c1_history_is_capped_on_the_gradio_chat_endpoint(app_server: Server) -> None:
    with app_server() as url:
        client = Client(url, verbose=False)
        assert client.predict("and it?", [PRONOUNS] * MAX_HISTORY_ITEMS, api_name="/chat")["answer"]
        with pytest.raises(Exception, match="earlier questions"):
            client.predict("and it?", [PRONOUNS] * (MAX_HISTORY_ITEMS + 1), api_name="/chat")


def test_c1_session_memory_keeps_at_most_the_cap(app_server: Server, tmp_path: Path, assistant: Assistant) -> None:
    with app_server() as url:
        for i in range(MAX_HISTORY_ITEMS + 3):
            body = {"question": f"What is PIONEER? ({i})", "session_id": "capped"}
            assert httpx.post(f"{url}/api/ask", json=body).status_code == 200
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "data"}))
    with sessions() as session:
        remembered = session.scalars(select(Conversation.questions)).one()
    assert len(remembered) == MAX_HISTORY_ITEMS and remembered[-1].endswith(f"({MAX_HISTORY_ITEMS + 2})")


# H1 — Gradio's file route served remote HTML inline on our origin; no security headers.


def test_h1_gradio_file_routes_refuse_remote_addresses(app_server: Server) -> None:
    html = b"<script>alert(document.cookie)</script>"
    with serve_routes({"/x.png": (200, {"Content-Type": "text/html"}, html)}) as remote, app_server() as url:
        probes = [
            f"/gradio_api/file={remote}/x.png",
            f"/gradio_api/file/{remote}/x.png",
            f"/gradio_api/file={remote.upper()}/x.png",
            "/gradio_api/file=https://attacker.example/x.png",
            "/gradio_api/file=//attacker.example/x.png",
            f"/gradio_api/proxy={remote}/x.png",
            f"/staff/gradio_api/file={remote}/x.png",
            f"/gradio_api/file=http%3A%2F%2F127.0.0.1%3A{remote.rsplit(':', 1)[1]}/x.png",
        ]
        for path in probes:
            response = httpx.get(url + path)
            assert response.status_code == 403, (path, response.status_code)
            assert "alert" not in response.text and response.headers["x-content-type-options"] == "nosniff"


def test_h1_security_headers_on_every_response(app_server: Server) -> None:
    with app_server() as url:
        for path in ("/", "/login", "/api/consent", "/healthz", "/widget.js", "/docs", "/nowhere"):
            response = httpx.get(url + path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            assert "strict-transport-security" not in response.headers, path  # plain http
        login = httpx.get(f"{url}/login").headers["content-security-policy"]
        assert login == (
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        )
        chat = httpx.get(f"{url}/").headers["content-security-policy"]
        assert "object-src 'none'" in chat and "frame-ancestors 'none'" in chat and "default-src 'self'" in chat
        assert "http:" not in chat and "https:" not in chat and "*" not in chat  # nothing from elsewhere


def test_h1_frame_ancestors_setting_and_hsts_behind_a_trusted_proxy(app_server: Server) -> None:
    with app_server(chat_frame_ancestors="https://partner.example", forwarded_allow_ips=["127.0.0.1"]) as url:
        chat = httpx.get(f"{url}/").headers["content-security-policy"]
        assert "frame-ancestors https://partner.example" in chat
        over_tls = httpx.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"})
        assert over_tls.headers["strict-transport-security"].startswith("max-age=")


def test_h1_staff_pages_can_live_on_their_own_host(app_server: Server) -> None:
    with app_server(staff_host="staff.cluster.example") as url:
        assert httpx.get(f"{url}/login").status_code == 404
        assert httpx.get(f"{url}/api/staff/enquiries").status_code == 404
        assert httpx.get(f"{url}/login", headers={"Host": "staff.cluster.example"}).status_code == 200
        assert httpx.get(f"{url}/").status_code == 200  # the public chat is unaffected


# H2 — visibility failed open: only the exact string `internal` was hidden.

SECRET_DOCS = {
    "members.md": ("members", "The Zephyr members lounge opens at seven on Tuesdays for member companies."),
    "listed.md": ("[internal, staff]", "The Zephyr staff rota names Quill Harrow as the duty officer."),
    "confidential.md": ("confidential", "The Zephyr board approved a budget of four million pounds."),
    "typo.md": ("pubic", "The Zephyr typo document says the cellar holds archived records."),
}


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "public.md").write_text(
        "---\ntitle: Zephyr public notes\nvisibility: public\n---\n# Zephyr public notes\n\n"
        "The Zephyr innovation library opens at nine on Mondays for everyone.\n",
        encoding="utf-8",
    )
    for name, (level, text) in SECRET_DOCS.items():
        (folder / name).write_text(f"---\ntitle: Zephyr {name}\nvisibility: {level}\n---\n\n{text}\n", "utf-8")
    return folder


def test_h2_only_public_documents_reach_the_public_api(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    settings = settings_for(tmp_path / "data", model_cache)
    corpus = _corpus(tmp_path / "docs")
    report = ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    failed = dict((Path(source).name, reason) for source, reason in report.failed)
    assert set(failed) == {"listed.md", "typo.md"}  # a list or an unknown level is refused, with the reason
    assert "give exactly one level" in failed["listed.md"] and "'pubic'" in failed["typo.md"]
    assistant = Assistant.load(settings, embedder)
    with serve_app(create_app(settings, Desk.open(settings, assistant, open_database(settings)))) as url:
        shown = httpx.post(f"{url}/api/ask", json={"question": "When does the Zephyr innovation library open?"})
        assert shown.json()["citations"] and shown.json()["citations"][0]["title"] == "Zephyr public notes"
        for question in (
            "When does the Zephyr members lounge open?",
            "What budget did the Zephyr board approve?",
            "Who is the duty officer on the Zephyr staff rota?",
        ):
            answer = httpx.post(f"{url}/api/ask", json={"question": question}).json()
            titles = {c["title"] for c in answer["citations"]}
            assert titles <= {"Zephyr public notes"}, (question, titles)
            assert "four million" not in answer["answer"] and "seven on Tuesdays" not in answer["answer"]


def test_h2_formats_without_front_matter_take_the_ingest_visibility(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    settings = settings_for(tmp_path / "data", model_cache)
    notes = tmp_path / "notes.txt"
    notes.write_text("Zephyr notes\n\nThe Zephyr staff kitchen closes at noon on Fridays.\n", encoding="utf-8")
    store = Store.open(settings, embedder)
    ingest([str(notes)], store, embedder, progress=False, visibility="staff")
    assert {c.metadata["visibility"] for c in store.load_all()[0]} == {"staff"}
    answer = Assistant.load(settings, embedder).ask("When does the Zephyr staff kitchen close?", None, PUBLIC_ONLY)
    assert answer.abstained and not answer.citations
    with pytest.raises(Exception, match="not one of"):
        ingest([str(notes)], store, embedder, progress=False, visibility="everyone")


def test_h2_a_partner_cannot_widen_what_its_widget_sees(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    for levels in ("[members]", "[public, staff]", "[confidential]"):
        path.write_text(f"partners:\n  p:\n    name: P\n    visibility: {levels}\n", encoding="utf-8")
        with pytest.raises(PartnersFileError, match="public documents only"):
            read_partners(path)
    path.write_text("partners:\n  p:\n    name: P\n    tags: [data]\n", encoding="utf-8")
    assert read_partners(path)["p"].tags == ["data"]  # narrowing by tags is allowed
