"""The security review's medium findings M6–M10 (sign-in, rate limits, uploads, GDPR leaks, CSV export).

Each test is named after its finding and fails on fd3884c. Rate-limit tests set their own small limits; the
multi-worker limit shared through a real Redis is in tests/test_workers.py.
"""

import csv
import io
import os
import stat
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assistant.config import Settings
from assistant.desk import gdpr
from assistant.desk import triage as triage_module
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.privacy import Privacy
from assistant.desk.records import CONSENT_VERSION, NewEnquiry, create_enquiry
from assistant.desk.tables import Enquiry, Feedback, utcnow
from assistant.desk.taxonomy import load_taxonomy
from assistant.desk.triage import Triage, correction_label
from assistant.engine.assistant import Assistant
from tests.helpers import Server, database_text
from tests.helpers import run_cli as run

PASSWORD = "a long enough password"
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


def _login(url: str, email: str, password: str, address: str) -> int:
    headers = {"X-Forwarded-For": address}
    return httpx.post(f"{url}/login", data={"email": email, "password": password}, headers=headers).status_code


def _staff(tmp_path: Path, assistant: Assistant) -> None:
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "data"}))
    add_staff(sessions, "owner@cluster.example", PASSWORD, "staff")


# M6 — concurrent failures were a lost update; a locked account answered fast; anyone could lock anyone out.


def test_m6_concurrent_failures_all_count_and_lock_out_only_that_address(
    app_server: Server, tmp_path: Path, assistant: Assistant
) -> None:
    with app_server(forwarded_allow_ips=["127.0.0.1"], login_lockout="5/15minutes") as url:
        _staff(tmp_path, assistant)
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: statuses.append(_login(url, "owner@cluster.example", "wrong guess!!", ATTACKER))
            )
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert statuses == [401] * 10
        assert _login(url, "owner@cluster.example", PASSWORD, ATTACKER) == 401  # that address is locked out
        assert _login(url, "owner@cluster.example", PASSWORD, OWNER) == 303  # the owner never is


def test_m6_every_refusal_does_the_same_work(
    app_server: Server, tmp_path: Path, assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.desk.accounts as staff_module

    work: list[str] = []
    real = staff_module._hasher

    class Counted:
        def verify(self, *args: str) -> bool:
            work.append("verify")
            return real.verify(*args)

        def hash(self, *args: str) -> str:
            work.append("hash")
            return real.hash(*args)

    monkeypatch.setattr(staff_module, "_hasher", Counted())
    staff_module._dummy_hash()  # made once per process, before the count starts
    with app_server(forwarded_allow_ips=["127.0.0.1"], login_lockout="2/15minutes") as url:
        _staff(tmp_path, assistant)
        for _ in range(2):
            _login(url, "owner@cluster.example", "wrong guess!!", ATTACKER)
        for email, password in (("owner@cluster.example", PASSWORD), ("nobody@cluster.example", PASSWORD)):
            work.clear()
            assert _login(url, email, password, ATTACKER) == 401
            assert work == ["verify"], (email, work)  # locked, or unknown: one argon2 check, like a real one


def test_m6_sign_in_is_throttled_per_address(app_server: Server) -> None:
    with app_server(rate_limit_login="3/minute") as url:
        statuses = [_login(url, "x@cluster.example", "wrong guess!!", "ignored") for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


# M7 — only the widget was rate limited; X-Forwarded-For was trusted from anyone on loopback.

LIMITED = {
    "rate_limit_ask": "2/minute",
    "rate_limit_feedback": "2/minute",
    "rate_limit_enquiries": "2/minute",
    "rate_limit_chat": "2/minute",
}


def test_m7_every_public_route_is_rate_limited(app_server: Server) -> None:
    enquiry = {
        "name": "Ann",
        "email": "ann@example.org",
        "message": "Hello",
        "consent": True,
        "consent_version": CONSENT_VERSION,
    }
    feedback = {"question": "q", "answer": "a", "rating": "up"}
    calls = [
        ("/api/ask", {"question": "What is PIONEER?"}),
        ("/api/feedback", feedback),
        ("/api/enquiries", enquiry),
        ("/gradio_api/call/chat", {"data": ["What is PIONEER?", []]}),
    ]
    with app_server(**LIMITED) as url:
        for path, body in calls:
            statuses = [httpx.post(url + path, json=body).status_code for _ in range(3)]
            assert 429 not in statuses[:2] and statuses[2] == 429, (path, statuses)
            limited = httpx.post(url + path, json=body)
            assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_m7_forwarded_for_is_ignored_unless_the_proxy_is_trusted(app_server: Server) -> None:
    with app_server(rate_limit_ask="2/minute") as url:
        statuses = [
            httpx.post(f"{url}/api/ask", json={"question": "What is PIONEER?"}, headers={"X-Forwarded-For": ip})
            for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3")
        ]
        assert [s.status_code for s in statuses] == [200, 200, 429]  # rotating the header does not help
    with app_server(rate_limit_ask="2/minute", forwarded_allow_ips=["127.0.0.1"]) as url:
        statuses = [
            httpx.post(f"{url}/api/ask", json={"question": "What is PIONEER?"}, headers={"X-Forwarded-For": ip})
            for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3")
        ]
        assert [s.status_code for s in statuses] == [200, 200, 200]  # behind a trusted proxy: one count each


# M8 — anonymous uploads of any size were accepted and never deleted.


def test_m8_the_public_chat_refuses_uploads(app_server: Server) -> None:
    with app_server() as url:
        response = httpx.post(f"{url}/gradio_api/upload", files={"files": ("big.bin", b"\0" * 100_000)})
    assert response.status_code == 403


def test_m8_every_gradio_mount_cleans_its_cache(assistant: Assistant) -> None:
    from ui.chat import DELETE_CACHE, build_chat

    assert DELETE_CACHE[1] <= 24 * 3600
    demo = build_chat(None, [], 1, 1, lambda address: None)  # type: ignore[arg-type]
    assert demo.delete_cache == DELETE_CACHE


# M9 — erasure left the text in corrections and other enquiries' evidence; feedback kept answers unredacted;
# a re-posted enquiry answered "merged".


def test_m9_erasure_removes_corrections_and_quotes_in_other_enquiries(tmp_path: Path, assistant: Assistant) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    triage = Triage(load_taxonomy(), assistant, sessions)
    secret = "Project Quasar-Zanzibar press launch with our chief executive Ada Lovelace"
    first = create_enquiry(
        sessions, NewEnquiry("Ada", "ada@analytical.example", f"Please cover the {secret}.", "api", CONSENT_VERSION)
    ).id
    triage.triage(first)
    triage.correct(first, "press", "staff@cluster.example")
    second = create_enquiry(
        sessions, NewEnquiry("Bo", "bo@example.org", "Please cover our press launch event.", "api", CONSENT_VERSION)
    ).id
    triage.triage(second)
    examples = len(triage.classifier.labels)
    assert correction_label(first) in triage.classifier.shown
    assert Privacy(sessions, load_taxonomy(), triage.forget_erased).erase_subject("ada@analytical.example", None) == 1
    remaining = database_text(sessions)
    assert "Quasar-Zanzibar" not in remaining and "Ada Lovelace" not in remaining
    assert not any("Quasar" in shown for shown in triage.classifier.shown)
    # The running classifier forgets the erased correction too (its vector was made from the enquirer's text).
    assert correction_label(first) not in triage.classifier.shown and len(triage.classifier.labels) == examples - 1


def test_m9_retention_also_removes_the_classifiers_copy(tmp_path: Path, assistant: Assistant) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    triage = Triage(load_taxonomy(), assistant, sessions)
    old = create_enquiry(sessions, NewEnquiry("Al", "al@x.example", "Press launch please", "api", CONSENT_VERSION)).id
    triage.correct(old, "press", "staff@cluster.example")
    triage_module.change_status(sessions, old, "resolved", "staff@cluster.example")
    with sessions.begin() as session:
        session.get_one(Enquiry, old).resolved_at = utcnow() - timedelta(days=4000)
    assert Privacy(sessions, load_taxonomy(), triage.forget_erased).purge() == 1
    assert correction_label(old) not in triage.classifier.shown


def test_m9_feedback_is_redacted(app_server: Server, tmp_path: Path, assistant: Assistant) -> None:
    body = {
        "question": "Call me on 07700 900123",
        "answer": "Write to ada@analytical.example or call +44 7700 900123",
        "citations": ["[1] ada@analytical.example"],
        "comment": "my address is ada@analytical.example",
        "rating": "down",
    }
    with app_server() as url:
        assert httpx.post(f"{url}/api/feedback", json=body).status_code == 201
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "data"}))
    with sessions() as session:
        row = session.scalars(select(Feedback)).one()
        stored = " ".join([row.question, row.answer, *row.citations, row.comment or ""])
    assert "ada@" not in stored and "7700" not in stored and "[email]" in row.answer


def test_m9_a_re_posted_enquiry_answers_like_a_new_one(app_server: Server) -> None:
    body = {
        "name": "Ann",
        "email": "ann@example.org",
        "message": "Please help with data access.",
        "consent": True,
        "consent_version": CONSENT_VERSION,
    }
    with app_server() as url:
        first = httpx.post(f"{url}/api/enquiries", json=body)
        again = httpx.post(f"{url}/api/enquiries", json=body)
        other = httpx.post(f"{url}/api/enquiries", json={**body, "email": "cy@example.org"})
    for response in (first, again, other):
        assert response.status_code == 201 and set(response.json()) == {"reference", "status"}
        assert response.json()["status"] == "received"
    references = {r.json()["reference"] for r in (first, again, other)}
    assert len(references) == 3  # a merged one gets its own reference too: nothing points at the first


# M10 — CSV cells were written raw (formula injection); the CLI wrote the file 0644.


def test_m10_csv_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    hostile = ['=HYPERLINK("http://x.example","click")', "+1+1", "-2+3", "@SUM(A1)", "Plain"]
    for i, name in enumerate(hostile):
        create_enquiry(sessions, NewEnquiry(name, f"p{i}@example.org", "=cmd|' /C calc'!A0", "api", CONSENT_VERSION))
    rows = list(csv.DictReader(io.StringIO(gdpr.enquiries_csv(sessions, "test"))))
    cells = [row["name"] for row in rows] + [row["message"] for row in rows]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], cells
    assert rows[0]["name"] == "'" + hostile[0] and rows[-1]["name"] == "Plain"
    assert gdpr.csv_cell("\tTab") == "'\tTab" and gdpr.csv_cell("\rCR") == "'\rCR" and gdpr.csv_cell(3) == 3


def test_m10_the_cli_writes_the_export_for_its_owner_only(tmp_path: Path, corpus_settings: Settings) -> None:
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path})
    target = tmp_path / "enquiries.csv"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o644)
    result = run(settings, "enquiries", "export-csv", str(target))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text().startswith("id,")
