"""The security review's low findings L1–L11, at the HTTP edge where there is one. Each test fails on fd3884c."""

import os
import stat
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from assistant.desk import Desk, accounts, conversations
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION, NewEnquiry, create_enquiry
from assistant.desk.tables import AuditEvent, Conversation
from assistant.engine.assistant import Assistant
from assistant.engine.store import Store
from assistant.errors import UnsafeConfiguration
from ingest.pipeline import ingest
from tests.helpers import Server, serve_app, staff_client
from tests.helpers import run_cli as run
from ui.app import create_app
from ui.tokens import load_secret

PASSWORD = "a long enough password"


def _accounts(settings_dir: Path, assistant: Assistant) -> sessionmaker:  # type: ignore[type-arg]
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": settings_dir}))
    add_staff(sessions, "admin@cluster.example", PASSWORD, "admin")
    add_staff(sessions, "staff@cluster.example", PASSWORD, "staff")
    return sessions


def _signed_in(url: str, email: str) -> httpx.Client:
    return staff_client(url, email, PASSWORD)


def _works(client: httpx.Client) -> bool:
    return client.get("/api/staff/enquiries").status_code == 200


# L1 — a password reset left sessions alive; no way to disable an account or sign it out everywhere.


def test_l1_reset_disable_and_sign_out_everywhere_end_sessions(app_server: Server, tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    sessions = _accounts(tmp_path / "data", assistant)
    with app_server() as url:
        before_reset = _signed_in(url, "staff@cluster.example")
        add_staff(sessions, "staff@cluster.example", PASSWORD, "staff")  # the password is reset
        assert not _works(before_reset)

        laptop, phone = _signed_in(url, "staff@cluster.example"), _signed_in(url, "staff@cluster.example")
        assert laptop.post("/api/staff/sign-out-everywhere").json() == {"ended": 2}
        assert not _works(laptop) and not _works(phone)

        signed = _signed_in(url, "staff@cluster.example")
        settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
        assert run(settings, "staff", "disable", "staff@cluster.example").returncode == 0
        assert not _works(signed)
        refused = httpx.post(f"{url}/login", data={"email": "staff@cluster.example", "password": PASSWORD})
        assert refused.status_code == 401  # refused like a wrong password: nothing says the account exists
        accounts.set_disabled(sessions, "staff@cluster.example", False)
        assert _works(_signed_in(url, "staff@cluster.example"))
        other = _signed_in(url, "admin@cluster.example")
        done = run(settings, "staff", "sign-out", "admin@cluster.example")
        assert done.returncode == 0 and "(1 sessions ended)" in done.stdout, done.stdout + done.stderr
        assert not _works(other)
        assert run(settings, "staff", "disable", "nobody@cluster.example").returncode != 0


# L2 — any staff account could bulk-export personal data, and exports were not audited.


def test_l2_exports_are_admin_only_and_audited(app_server: Server, tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    sessions = _accounts(tmp_path / "data", assistant)
    create_enquiry(sessions, NewEnquiry("Ada", "ada@example.org", "Data access?", "api", CONSENT_VERSION))
    with app_server() as url:
        staff = _signed_in(url, "staff@cluster.example")
        assert staff.get("/api/staff/enquiries.csv").status_code == 403
        assert staff.get("/api/staff/subjects/ada@example.org").status_code == 403
        admin = _signed_in(url, "admin@cluster.example")
        assert admin.get("/api/staff/enquiries.csv").text.startswith("id,")
        assert admin.get("/api/staff/subjects/ada@example.org").json()["enquiries"]
    with sessions() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.actor)).all()
    assert ("exported_csv", "admin@cluster.example") in events
    assert ("subject_exported", "admin@cluster.example") in events
    assert not any(actor == "staff@cluster.example" for action, actor in events if "export" in action)


# L3 — GET /logout was Gradio's route and did not sign staff out.


def test_l3_logout_shows_a_button_on_get_and_signs_out_on_post(app_server: Server, tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    _accounts(tmp_path / "data", assistant)
    with app_server() as url:
        client = _signed_in(url, "staff@cluster.example")
        page = client.get("/logout")
        assert page.status_code == 200 and '<form method="post" action="/logout">' in page.text
        assert _works(client)  # a GET (a link, a prefetch) changes nothing
        assert client.post("/logout").status_code == 303
        assert not _works(client)


# L4 — the cookie's Secure flag followed the request's scheme, so it was lost behind a TLS-terminating proxy.


def test_l4_the_session_cookie_can_be_forced_secure_with_the_host_prefix(
    app_server: Server, tmp_path: Path, assistant: Assistant
) -> None:
    _accounts(tmp_path / "data", assistant)
    with app_server(cookie_secure=True) as url:
        response = httpx.post(f"{url}/login", data={"email": "staff@cluster.example", "password": PASSWORD})
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-ca_staff=") and "secure" in cookie.lower() and "Path=/" in cookie
        assert "domain" not in cookie.lower()
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        assert httpx.get(f"{url}/api/staff/enquiries", cookies={"__Host-ca_staff": token}).status_code == 200
        assert httpx.get(f"{url}/api/staff/enquiries", cookies={"ca_staff": token}).status_code == 401
    with app_server() as url:  # plain http without the setting: a plain cookie (a browser would drop a Secure one)
        response = httpx.post(f"{url}/login", data={"email": "staff@cluster.example", "password": PASSWORD})
        assert response.headers["set-cookie"].startswith("ca_staff=")
        assert "secure" not in response.headers["set-cookie"].lower()


# L5 — data/, cluster.db and its WAL were world-readable.


def test_l5_the_data_directory_and_database_are_private(tmp_path: Path, assistant: Assistant) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    sessions = open_database(settings)
    create_enquiry(sessions, NewEnquiry("Ada", "ada@example.org", "Hello", "api", CONSENT_VERSION))  # WAL in use
    Store.open(settings, assistant.embedder)
    load_secret(None, settings.data_dir)

    def mode(name: str) -> int:
        return stat.S_IMODE((tmp_path / "data" / name).stat().st_mode)

    assert mode(".") == 0o700
    assert mode("cluster.db") == mode("cluster.db-wal") == mode("widget-secret") == 0o600


# L6 — /healthz returned raw exception text (database host and user) to anyone.


def test_l6_healthz_gives_a_reason_code_not_the_exception(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    unreachable = create_engine(
        "postgresql+psycopg://leaky_user:pw@127.0.0.1:9/secret_db", connect_args={"connect_timeout": 2}
    )
    desk = Desk(settings, assistant, sessionmaker(unreachable))
    with serve_app(create_app(settings, desk)) as url:
        health = httpx.get(f"{url}/healthz", timeout=30)
    assert health.status_code == 503 and health.json()["reason"] == "database unreachable"
    assert "leaky_user" not in health.text and "secret_db" not in health.text and "127.0.0.1" not in health.text


# L7 — citations exposed absolute server paths.


def test_l7_citations_show_a_public_url_or_nothing_never_a_server_path(tmp_path: Path, assistant: Assistant) -> None:
    corpus = tmp_path / "srv" / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "quill.md").write_text(
        "---\ntitle: Quill notes\nurl: https://cluster.example/quill\n---\n# Quill notes\n\n## Opening\n\n"
        "The Quill innovation library opens at nine on Mondays for everyone.\n",
        encoding="utf-8",
    )
    (corpus / "zephyr.md").write_text(
        "---\ntitle: Zephyr notes\n---\n# Zephyr notes\n\n## Rota\n\nThe Zephyr hub opens at ten on Fridays.\n",
        encoding="utf-8",
    )
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    ingest([str(corpus)], Store.open(settings, assistant.embedder), assistant.embedder, progress=False)
    local = Assistant.load(settings, assistant.embedder)
    with serve_app(create_app(settings, Desk.open(settings, local, open_database(settings)))) as url:
        quill = httpx.post(f"{url}/api/ask", json={"question": "When does the Quill innovation library open?"})
        zephyr = httpx.post(f"{url}/api/ask", json={"question": "When does the Zephyr hub open?"})
    assert quill.json()["citations"][0]["source"] == "https://cluster.example/quill"
    assert zephyr.json()["citations"][0] == {**zephyr.json()["citations"][0], "title": "Zephyr notes", "source": None}
    assert str(tmp_path) not in quill.text + zephyr.text


# L8 — /openapi.json listed every staff route to anonymous callers.


def test_l8_the_public_schema_lists_no_staff_route(app_server: Server) -> None:
    with app_server() as url:
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert "/api/ask" in paths
    assert not [p for p in paths if p.startswith(("/api/staff", "/staff", "/login", "/logout"))]


# L9 — "$…$" in public enquiry text rendered as KaTeX in the console; bare URLs became links.


def test_l9_enquiry_text_is_plain_text_in_the_console(app_server: Server, tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    sessions = _accounts(tmp_path / "data", assistant)
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    desk = Desk.open(settings, assistant, sessions)
    message = "Price is $x^2$ <img src=x onerror=alert(1)> see http://evil.example ``` done"
    new = NewEnquiry("<b>Eve</b>", "a@b.example", message, "api", CONSENT_VERSION, subject="Visit http://evil.example")
    enquiry_id = desk.enquiries.receive(new).id
    with app_server() as url:
        client = _signed_in(url, "staff@cluster.example")
        shown = client.get(f"/staff/enquiries/{enquiry_id}").text
        for page in (shown, client.get("/staff/").text):
            assert "<img" not in page and "<b>Eve" not in page and 'href="http://evil' not in page
            assert "&lt;b&gt;Eve&lt;/b&gt;" in page
        assert "Price is $x^2$ &lt;img src=x onerror=alert(1)&gt; see http://evil.example ``` done" in shown
        assert "katex" not in shown.lower()  # no maths renderer on staff pages: "$…$" stays text


# L10 — conversations grew without bound (a row per invented session id), and request bodies were unbounded.


def test_l10_conversations_are_capped_and_bodies_bounded(app_server: Server, tmp_path: Path, assistant) -> None:  # type: ignore[no-untyped-def]
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "db"}))
    for i in range(150):
        conversations.remember(sessions, f"invented-{i}", "What is PIONEER?")
    conversations.forget_idle(sessions, days=1, keep=100)
    with sessions() as session:
        kept = set(session.scalars(select(Conversation.session_id)))
        assert session.scalar(select(func.count()).select_from(Conversation)) == 100
    assert "invented-149" in kept and "invented-0" not in kept  # the longest idle went first
    with app_server(max_request_kb=64) as url:
        big = httpx.post(
            f"{url}/api/ask",
            content=b'{"question": "' + b"x" * 70_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413
        chunked = httpx.post(f"{url}/api/enquiries", content=iter([b"{}"] * 3))
        assert chunked.status_code == 411
        assert httpx.post(f"{url}/api/ask", json={"question": "What is PIONEER?"}).status_code == 200


# L11 — a worker could read the widget secret half-written and sign with an empty key; short keys were accepted.


def test_l11_the_widget_secret_is_whole_or_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeConfiguration, match="at least 32 bytes"):
        load_secret("too-short", tmp_path)
    found: list[bytes] = []
    threads = [threading.Thread(target=lambda: found.append(load_secret(None, tmp_path / "shared"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found[0]) >= 32  # every worker signs with the same, whole key
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["widget-secret"]  # no temporary file left
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "widget-secret").write_text("")
    with pytest.raises(UnsafeConfiguration, match="no usable key"):
        load_secret(None, tmp_path / "empty")
    os.chmod(tmp_path / "empty", 0o700)
