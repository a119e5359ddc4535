"""The second security review's critical and high findings (N1–N4, N20), each proved over HTTP or on the real
parts where it can be. Each test fails on 98ed48d..efefaaa, the code the review read.
"""

import contextlib
import json
import os
import tempfile
import threading
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.desk import Desk
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.mail.message import parse
from assistant.desk.tables import AuditEvent, Enquiry
from assistant.engine import PUBLIC_ONLY
from assistant.engine.assistant import Assistant
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from assistant.errors import InvalidRequest, LoadError
from evaluation.mailservers import dovecot, throwaway_ca
from ingest.load import load_bytes
from ingest.pipeline import ingest
from tests.helpers import REPO, Server, serve_app, serve_folder, serve_routes, settings_for
from ui.app import create_app

FILE = {"_type": "gradio.FileData"}
SECRET = "n1-secret-" + uuid.uuid4().hex


def _dependencies(url: str) -> tuple[list[dict[str, Any]], dict[int, str]]:
    config = httpx.get(f"{url}/config").json()
    kinds = {c["id"]: c["type"] for c in config["components"]}
    return config["dependencies"], kinds


def _join(url: str, fn_index: int, data: list[Any]) -> str:
    """Send one event through Gradio's queue, as any client can, and read its stream to the end."""
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None}
    joined = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)
    if joined.status_code != 200:
        return joined.text
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as stream:
        return "".join(stream.iter_text())


def _files_holding(root: Path, marker: str) -> list[Path]:
    found = []
    for path in root.rglob("*") if root.is_dir() else []:
        try:
            if path.is_file() and marker in path.read_text(errors="replace"):
                found.append(path)
        except OSError:
            continue
    return found


def test_n1_no_client_value_names_a_file_the_server_then_serves(app_server: Server, tmp_path: Path) -> None:
    secret_file = tmp_path / "outside" / "secret.txt"
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET)
    with serve_routes({"/big.txt": (200, {"Content-Type": "text/plain"}, SECRET.encode())}) as remote:
        hostile = [
            [{"role": "user", "content": [{"type": "file", "file": {"path": str(secret_file), "meta": FILE}}]}],
            [{"role": "user", "content": [{"type": "file", "file": {"path": f"{remote}/big.txt", "meta": FILE}}]}],
        ]
        with app_server() as url:
            dependencies, kinds = _dependencies(url)
            # The conversation lives on the server: no event takes the Chatbot's value from the client.
            taking_chatbot = [d for d in dependencies if any(kinds.get(i) == "chatbot" for i in d["inputs"])]
            assert taking_chatbot == []
            streams = []
            for index, dependency in enumerate(dependencies):
                for value in hostile:
                    data = [value if kinds.get(i) != "state" else None for i in dependency["inputs"]]
                    streams.append(_join(url, index, ["What is PIONEER?", *data[1:]] if data else data))
                    streams.append(_join(url, index, data))
            served = [line for s in streams for line in s.splitlines() if "gradio_api/file=" in line]
            for line in served:
                for path in {p.split('"')[0] for p in line.split("gradio_api/file=")[1:]}:
                    assert SECRET not in httpx.get(f"{url}/gradio_api/file={path}").text
            assert not any(SECRET in s for s in streams)
    data_dir = tmp_path / "data"
    caches = [data_dir / "gradio", Path(tempfile.gettempdir()) / "gradio"]
    assert [f for root in caches for f in _files_holding(root, SECRET)] == []


def test_n1_the_edge_refuses_every_gradio_file_path(app_server: Server, tmp_path: Path) -> None:
    """Even a file that is in Gradio's own cache (however it got there) is not served: the chat serves none."""
    with app_server() as url:
        cached = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio") / "n1" / "x.txt"
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(SECRET)
        for path in (
            f"/gradio_api/file={cached}",
            f"/gradio_api/file/{cached}",
            "/gradio_api/file=/etc/hostname",
            f"/gradio_api/file={tmp_path}/x",
            "/gradio_api/file/x.png",
        ):
            response = httpx.get(url + path)
            assert response.status_code == 403 and SECRET not in response.text, path
        assert httpx.get(f"{url}/").status_code == 200


def test_n1_gradio_keeps_its_files_in_the_private_data_directory(app_server: Server, tmp_path: Path) -> None:
    with app_server() as url:
        config = httpx.get(f"{url}/config").json()
        assert json.dumps(config)  # the page still boots
        cache = tmp_path / "data" / "gradio"
        assert cache.is_dir() and oct(cache.stat().st_mode & 0o777) == "0o700"


# N3 — one e-mail stopped mail intake for good: an unknown charset raised out of the poll, which retried it forever.

UNKNOWN_CHARSET = (
    b"From: Pat Lee <pat@clinic.example>\r\nTo: desk@cluster.example\r\nSubject: Joining\r\n"
    b"Message-ID: <n3-charset@clinic.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="unknown-8bit"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    b"Caf\xe9 owner here: how does a small clinic join the network?\r\n"
)


def _nested(depth: int) -> bytes:
    head = b"From: deep@clinic.example\r\nMessage-ID: <n3-deep@clinic.example>\r\nMIME-Version: 1.0\r\n"
    body = b"Content-Type: text/plain\r\n\r\nhello, a question about joining?\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return head + body


def _many_parts(count: int) -> bytes:
    head = (
        b"From: many@clinic.example\r\nMessage-ID: <n3-many@clinic.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n'
    )
    part = b"--x\r\nContent-Type: text/plain\r\n\r\nhow do we join?\r\n"
    return head + part * count + b"--x--\r\n"


def test_n3_parse_is_total() -> None:
    read = parse(UNKNOWN_CHARSET, 1024)
    assert "how does a small clinic join the network?" in read.text and read.address == "pat@clinic.example"
    for hostile, why in ((_nested(200), "nested"), (_many_parts(2000), "parts")):
        with pytest.raises(InvalidRequest, match=why):
            parse(hostile, 1024)
    for junk in (b"", b"\xff\xfe\x00" * 50, b"From: =?unknown-8bit?q?caf=E9?= <x@y.example>\r\n\r\nhi?"):
        with contextlib.suppress(InvalidRequest):  # a refusal with its reason is the only failure there is
            parse(junk, 1024)


def test_n3_a_bad_message_is_refused_and_the_poll_moves_past_it(assistant: Assistant, tmp_path: Path) -> None:
    tls = throwaway_ca(tmp_path / "tls")
    with dovecot(tls) as box:
        settings = assistant.settings.model_copy(
            update={"data_dir": tmp_path / "data", "mail_ca_file": tls.ca_file, "imap_url": box.url}
        )
        desk = Desk.open(settings, assistant, open_database(settings))
        box.append(UNKNOWN_CHARSET, _nested(200), _good("<n3-after@clinic.example>"))
        report = desk.mail.poll()
        assert dict(report.results) == {"created": 2, "refused": 1}
        assert desk.mail.poll().messages == 0  # moved past: nothing is read again
        with desk.sessions() as session:
            refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "mail_refused")).all()
            assert len(refused) == 1 and "nested" in refused[0].detail["reason"]
            assert refused[0].detail["via"] == "imap"


def test_n3_a_message_that_crashes_storing_is_refused_not_retried_forever(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = throwaway_ca(tmp_path / "tls")
    with dovecot(tls) as box:
        settings = assistant.settings.model_copy(
            update={"data_dir": tmp_path / "data", "mail_ca_file": tls.ca_file, "imap_url": box.url}
        )
        desk = Desk.open(settings, assistant, open_database(settings))
        real = desk.enquiries.receive

        def crash_on_poison(new):  # type: ignore[no-untyped-def]
            if "poison" in new.message:
                raise TypeError("a bug meets an odd message")
            return real(new)

        monkeypatch.setattr(desk.enquiries, "receive", crash_on_poison)
        box.append(_good("<n3-poison@clinic.example>", "poison: how do we join?"), _good("<n3-next@clinic.example>"))
        assert dict(desk.mail.poll().results) == {"refused": 1, "created": 1}
        assert desk.mail.poll().messages == 0


def test_n3_the_webhook_answers_422_for_an_unreadable_message(app_server: Server) -> None:
    with app_server(inbound_mail_secret="a-webhook-secret-of-some-length") as url:
        headers = {"Authorization": "Bearer a-webhook-secret-of-some-length", "Content-Type": "message/rfc822"}
        deep = httpx.post(f"{url}/api/inbound-mail", content=_nested(200), headers=headers)
        assert deep.status_code == 422 and "nested" in deep.json()["detail"]
        odd = httpx.post(f"{url}/api/inbound-mail", content=UNKNOWN_CHARSET, headers=headers)
        assert odd.status_code == 202 and odd.json() == {"result": "created"}


def test_n3_lxml_html_clean_is_a_declared_dependency() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.replace("_", "-").startswith("lxml-html-clean") for d in declared)
    html = (
        b"From: h@clinic.example\r\nMessage-ID: <n3-html@clinic.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>How do we join the network as a clinic "
        b"in Coventry, and what does it cost?</p></body></html>"
    )
    assert "How do we join" in parse(html, 1024).text


def _good(message_id: str, text: str = "How does a small clinic join the network?") -> bytes:
    return (
        f"From: Sam <sam@clinic.example>\r\nTo: desk@cluster.example\r\nSubject: Joining\r\n"
        f"Message-ID: {message_id}\r\n\r\n{text}\r\n"
    ).encode()


# N4 — "Add back" published internal documents: the tombstone kept no level, and adding back ingested as public.
# N20 — a crawled page's own front matter raised it above its site's level.


def _levels(desk: Desk, source: str) -> set[str]:
    desk.engine.reload()
    return {c.metadata.get("visibility", "?") for c in desk.engine.index.chunks if c.source == source}


def _own_desk(tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder) -> Desk:
    corpus = tmp_path / "own-corpus"
    corpus.mkdir()
    settings = settings_for(
        tmp_path / "own-data", model_cache, corpus_dir=corpus, ingest_allowed_networks=["127.0.0.0/8"]
    )
    (corpus / "seed.md").write_text("---\ntitle: Seed\n---\n# Seed\n\nThe cluster was founded to join people up.\n")
    ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    return Desk.open(settings, Assistant.load(settings, embedder), open_database(settings))


def test_n4_a_crawled_page_added_back_keeps_its_sites_level(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    desk = _own_desk(tmp_path, model_cache, embedder)
    admin = add_staff(desk.sessions, "admin@cluster.example", "a long enough password", "admin")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "rota.html").write_text(
        "<html><head><title>Rota</title></head><body><p>The Quexbury on-call rota changes every Tuesday at "
        "noon, and the internal line is extension 4471.</p></body></html>"
    )
    with serve_folder(folder) as base:
        page = f"{base}/rota.html"
        desk.library.add_site(page, "internal", 0, admin.email)
        desk.run_jobs()
        assert _levels(desk, page) == {"internal"}
        desk.library.remove(page, admin)
        assert _levels(desk, page) == set()
        desk.library.restore(page, admin)
        desk.run_jobs()
        assert _levels(desk, page) == {"internal"}  # not public: the tombstone kept the site's level
    answer = desk.engine.ask("When does the Quexbury on-call rota change?", None, PUBLIC_ONLY)
    assert answer.abstained


def test_n4_a_corpus_file_added_back_keeps_the_level_it_was_ingested_at(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    desk = _own_desk(tmp_path, model_cache, embedder)
    admin = add_staff(desk.sessions, "admin@cluster.example", "a long enough password", "admin")
    notes = tmp_path / "own-corpus" / "notes.txt"
    notes.write_text("The Quexbury board meets in the Larkspur room on the first Monday of each month.\n")
    ingest([str(notes)], desk.engine.store, desk.engine.embedder, progress=False, visibility="staff")
    source = next(s for s in desk.engine.store.documents() if s.endswith("notes.txt"))
    assert _levels(desk, source) == {"staff"}
    desk.library.remove(source, admin)
    desk.library.restore(source, admin)
    desk.run_jobs()
    assert _levels(desk, source) == {"staff"}


def test_n20_a_pages_front_matter_never_raises_its_sites_level(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    desk = _own_desk(tmp_path, model_cache, embedder)
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "plan.md").write_text(
        "---\ntitle: Plan\nvisibility: public\n---\n# Plan\n\nThe Quexbury merger closes in March, not yet announced.\n"
    )
    (folder / "secret.md").write_text(
        "---\ntitle: Secret\nvisibility: confidential\n---\n# Secret\n\nThe Quexbury price is nine million.\n"
    )
    with serve_folder(folder) as base:
        for name in ("plan.md", "secret.md"):
            desk.library.add_site(f"{base}/{name}", "internal", 0, "admin@cluster.example")
        desk.run_jobs()
        assert _levels(desk, f"{base}/plan.md") == {"internal"}  # a ceiling: public in the page is not obeyed
        assert _levels(desk, f"{base}/secret.md") == {"confidential"}  # stricter than the site: kept


# N8 — the chat's hand-off skipped the enquiries limit and the API's field bounds (12 in 1.9 s went through).


def test_n8_the_chats_hand_off_counts_against_the_enquiries_limit(
    app_server: Server, tmp_path: Path, assistant: Assistant
) -> None:
    with app_server(rate_limit_enquiries="2/minute") as url:
        dependencies, _kinds = _dependencies(url)
        config = httpx.get(f"{url}/config").json()
        send_button = next(
            c["id"] for c in config["components"] if c.get("props", {}).get("value") == "Send to the team"
        )
        send = next(i for i, d in enumerate(dependencies) if [send_button, "click"] in d["targets"])
        fields = ["Ada Byron", "ada@uni.example", "", "Can someone call me about joining?"]
        streams = [_join(url, send, [*fields, None]) for _ in range(5)]
        assert sum("a little fast" in s for s in streams) == 3
        too_long = _join(url, send, [*fields[:3], "x" * 5001, None])
        assert "a message (at most 5,000 characters)" in too_long
    sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "data"}))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 1  # two hand-offs, merged into one open


# N10 — the draft's "[NOT PUBLIC …]" label vanished when a source's name held a `#`. N13 — drafts opened "Dear there,".


def test_n10_a_citation_carries_its_documents_visibility_into_the_draft(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    desk = _own_desk(tmp_path, model_cache, embedder)
    minutes = tmp_path / "own-corpus" / "board#minutes.md"
    fact = "The Quexbury board meets in the Larkspur room on the first Monday of each month."
    minutes.write_text(f"---\ntitle: Board minutes\nvisibility: staff\n---\n# Board minutes\n\n{fact}\n")
    ingest([str(minutes)], desk.engine.store, desk.engine.embedder, progress=False)
    desk.engine.reload()
    assert desk.enquiries.triage is not None
    question = "Where does the Quexbury board meet?"
    drafted = desk.enquiries.triage.draft("Ada Byron", question, desk.enquiries.triage.classifier.classify(question))
    text, citations = drafted.text, drafted.citations
    assert citations and citations[0]["visibility"] == "staff" and "#" in citations[0]["source"]
    assert "Larkspur" in text and "[NOT PUBLIC: check before sending]" in text


def test_n13_a_draft_greets_by_name_only_when_it_looks_like_one(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    desk = Desk.open(settings, assistant, open_database(settings))
    assert desk.enquiries.triage is not None
    question = "How does a clinic join the network?"
    found = desk.enquiries.triage.classifier.classify(question)
    for name, opening in (
        ("Ada Byron", "Dear Ada,"),
        ("", "Hello,"),
        ("12345", "Hello,"),
        ("https://spam.example", "Hello,"),
    ):
        text = desk.enquiries.triage.draft(name, question, found).text
        assert text.startswith(opening + "\n"), (name, text[:40])


# N14 — a document's `url:` could be any scheme (a `javascript:` link behind "Open the source").


def test_n14_a_documents_url_must_be_http_or_https() -> None:
    for url in ("javascript:alert(document.cookie)", "JavaScript:x", "data:text/html,<b>", "file:///etc/passwd"):
        text = f"---\ntitle: Page\nurl: {url}\n---\n# Page\n\nA sentence about the cluster.\n".encode()
        with pytest.raises(LoadError, match="not an http"):
            load_bytes(text, "page.md", ".md")
    kept = load_bytes(b"---\nurl: https://cluster.example/page\n---\n# Page\n\nA sentence.\n", "page.md", ".md")
    assert kept.url == "https://cluster.example/page"


# N15 — the staff host served the public chat too (Gradio's page on the staff origin); nothing warned that staff and
# public shared one origin when no staff host was set.


def test_n15_the_staff_host_serves_only_staff_paths(app_server: Server) -> None:
    staff = {"Host": "staff.cluster.example"}
    with app_server(staff_host="staff.cluster.example") as url:
        assert httpx.get(f"{url}/login", headers=staff).status_code == 200
        assert httpx.get(f"{url}/ui/htmx.min.js", headers=staff).status_code in (200, 404)  # assets: not refused
        for path in ("/", "/config", "/api/consent", "/widget.js", "/docs", "/gradio_api/info"):
            assert httpx.get(url + path, headers=staff).status_code == 404, path
        assert httpx.get(f"{url}/healthz", headers=staff).status_code in (200, 503)
        assert httpx.get(f"{url}/").status_code == 200 and httpx.get(f"{url}/login").status_code == 404


def test_n15_without_a_staff_host_the_start_up_log_says_so(
    assistant: Assistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    with caplog.at_level("WARNING", logger="ui.app"):
        create_app(settings, Desk.open(settings, assistant, open_database(settings)))
    assert any("share one origin" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="ui.app"):
        create_app(
            settings.model_copy(update={"staff_host": "staff.example"}),
            Desk.open(settings, assistant, open_database(settings)),
        )
    assert not any("share one origin" in r.getMessage() for r in caplog.records)


# N18 — a sign-in was counted after the slow password check (concurrent guesses all got checked), and guesses at one
# account from many addresses were never slowed.


def test_n18_each_attempt_is_counted_before_the_password_check(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data", "login_lockout": "3/15minutes"})
    desk = Desk.open(settings, assistant, open_database(settings))
    add_staff(desk.sessions, "owner@cluster.example", "a long enough password", "staff")
    checked_unlocked: list[bool] = []
    real = desk.accounts.sign_in

    def slow_check(email: str, password: str, locked: bool = False) -> str:
        time.sleep(0.3)  # argon2 takes a while: every guess in flight before the first is counted
        checked_unlocked.append(not locked)
        return real(email, password, locked)

    desk.accounts.sign_in = slow_check  # type: ignore[method-assign]
    with serve_app(create_app(settings, desk)) as url:
        guesses = [
            threading.Thread(
                target=httpx.post,
                args=(f"{url}/login",),
                kwargs={"data": {"email": "owner@cluster.example", "password": f"guess {i}!!"}},
            )
            for i in range(8)
        ]
        for thread in guesses:
            thread.start()
        for thread in guesses:
            thread.join()
    assert len(checked_unlocked) == 8 and sum(checked_unlocked) == 3


def test_n18_guesses_at_one_account_from_many_addresses_are_slowed(
    app_server: Server, tmp_path: Path, assistant: Assistant
) -> None:
    with app_server(forwarded_allow_ips=["127.0.0.1"], login_account_slowdown="4/minute") as url:
        sessions = open_database(assistant.settings.model_copy(update={"data_dir": tmp_path / "data"}))
        add_staff(sessions, "owner@cluster.example", "a long enough password", "staff")
        wrong = {"email": "owner@cluster.example", "password": "wrong guess!!"}
        addresses = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(6)]
        statuses = [httpx.post(f"{url}/login", data=wrong, headers=h).status_code for h in addresses]
        assert statuses == [401] * 4 + [429] * 2
        other = httpx.post(f"{url}/login", data={"email": "someone@cluster.example", "password": "wrong guess!!"})
        assert other.status_code == 401  # per account: others are not slowed


def test_n19_the_webhook_secret_must_be_long() -> None:
    with pytest.raises(ValidationError):
        Settings(inbound_mail_secret="short-secret")
    assert Settings(inbound_mail_secret="x" * 24).inbound_mail_secret == "x" * 24
