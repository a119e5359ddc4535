"""The second security review's medium findings (N5–N10), each on the real parts (SQLite, the model, the jobs
table). Each test fails on efefaaa, the code the review read."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.desk import Desk, EnquiryUpdate, Filters, NewEnquiry, jobs
from assistant.desk.accounts import add_staff, set_disabled
from assistant.desk.db import open_database
from assistant.desk.mail.message import parse
from assistant.desk.records import CONSENT_VERSION, redact
from assistant.desk.tables import AuditEvent, Enquiry, Job, MailMessage, OutboxMessage
from assistant.engine.assistant import Assistant
from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from assistant.errors import InvalidRequest, LoadError, NotAllowed
from evaluation.mailservers import dovecot, throwaway_ca
from ingest import fetch, isolate, load
from ingest.pipeline import ingest
from tests.helpers import make_pdf, serve_routes, settings_for


@pytest.fixture
def desk(assistant: Assistant, tmp_path: Path) -> Desk:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data"})
    return Desk.open(settings, assistant, open_database(settings))


def _enquiry(name: str, email: str, text: str) -> NewEnquiry:
    return NewEnquiry(name, email, text, "chat", CONSENT_VERSION)


# N5 — after an erasure SQLite reused the deleted outbox ids, and the next acknowledgement collided with an old job.


def test_n5_erase_then_receive_then_reply(desk: Desk) -> None:
    first = desk.enquiries.receive(_enquiry("Ada Byron", "ada@uni.example", "How does a university join the network?"))
    desk.run_jobs()  # the acknowledgement is "sent" (no SMTP here: kept unsent), its job done and kept a week
    with desk.sessions() as session:
        erased_outbox = set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.enquiry_id == first.id)))
    assert erased_outbox
    assert desk.privacy.erase_subject("ada@uni.example", None) == 1
    with desk.sessions() as session:  # erasure removes the subject's jobs too
        payloads = [j.payload for j in session.scalars(select(Job).where(Job.kind == "send_mail"))]
    assert not [p for p in payloads if p.get("outbox_id") in erased_outbox]
    second = desk.enquiries.receive(
        _enquiry("Bo Chen", "bo@clinic.example", "Does the cluster run events for clinics?")
    )
    with desk.sessions() as session:
        acknowledged = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.enquiry_id == second.id)
        )
        assert acknowledged == 1
        assert session.get_one(Enquiry, second.id).category  # triage ran to the end
    desk.enquiries.update(second.id, EnquiryUpdate(reply="Yes: see the events page."), "kim@cluster.example")
    desk.run_jobs()
    with desk.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.enquiry_id == second.id)).all()
        assert sorted(r.kind for r in rows) == ["acknowledgement", "reply"]
        assert all(r.to_addr == "bo@clinic.example" for r in rows)


# N6 — leases were never renewed (a long job ran twice at once) and a job that killed its worker was retried forever.


def test_n6_a_running_jobs_lease_is_renewed_so_no_one_else_claims_it(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    with sessions.begin() as session:
        jobs.enqueue(session, "slow", {}, max_attempts=3)
    started, stolen = threading.Event(), []

    def slow(job: jobs.Claimed) -> None:
        started.set()
        time.sleep(2.0)

    runner = threading.Thread(target=jobs.run_one, args=(sessions, {"slow": slow}, "worker-a", 0.6))
    runner.start()
    started.wait(5)
    for _ in range(6):  # well past the first lease
        time.sleep(0.25)
        stolen.append(jobs.claim(sessions, "worker-b", 0.6, ("slow",)))
    runner.join()
    assert stolen == [None] * 6
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.attempts) == ("done", 1)


def test_n6_a_stale_owner_cannot_write_the_end_of_a_job_it_lost(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    with sessions.begin() as session:
        jobs.enqueue(session, "work", {}, max_attempts=3)
    lost = jobs.claim(sessions, "worker-a", 0.0, ("work",))
    assert lost is not None
    time.sleep(0.05)
    taken = jobs.claim(sessions, "worker-b", 30.0, ("work",))
    assert taken is not None
    jobs.finish(sessions, lost, "worker-a", RuntimeError("late"))
    jobs.set_progress(sessions, lost.id, {"done": 99}, owner="worker-a")
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.lease_owner, job.progress.get("done")) == ("running", "worker-b", None)


def test_n6_a_job_that_kills_its_worker_is_not_retried_for_ever(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    with sessions.begin() as session:
        jobs.enqueue(session, "poison", {}, max_attempts=2)
    for worker in ("dies-1", "dies-2"):  # each claims it and dies: no finish, the lease runs out
        assert jobs.claim(sessions, worker, 0.0, ("poison",)) is not None
        time.sleep(0.05)
    assert jobs.claim(sessions, "worker-3", 30.0, ("poison",)) is None
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == "failed" and "each of its attempts" in (job.last_error or "")


# N7 — one PDF held the only job thread for 65 s, a trickling page never timed out, and mail waited behind both.


def _spin(data: bytes, source: str) -> object:
    while True:
        pass


def _hog(data: bytes, source: str) -> object:
    return bytearray(8 * 1024**3)


def _slow_pdf() -> bytes:
    return make_pdf(["word " * 400_000])  # ~0.6 s of pypdf here: far over the limits the tests set


def test_n7_a_parser_is_stopped_at_each_limit_with_the_reason() -> None:
    tight = isolate.ParseLimits(wall_s=0.3, cpu_s=30, memory_mb=2048)
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"longer than 0\.3 s"):
        isolate.run_reader(load._read_pdf, _slow_pdf(), "slow.pdf", tight)
    assert time.monotonic() - started < 5
    with pytest.raises(LoadError, match="more than 1 s of CPU"):
        isolate.run_reader(_spin, b"x", "spin.pdf", isolate.ParseLimits(wall_s=30, cpu_s=1, memory_mb=2048))
    with pytest.raises(LoadError, match="more than 512 MB of memory"):
        isolate.run_reader(_hog, b"x", "hog.pdf", isolate.ParseLimits(wall_s=30, cpu_s=30, memory_mb=512))
    _title, blocks, _meta = isolate.run_reader(load._read_pdf, make_pdf(["A plain page."]), "ok.pdf")
    assert [b.text for b in blocks] == ["A plain page."]


def test_n7_load_bytes_parses_third_party_formats_in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolate, "LIMITS", isolate.ParseLimits(wall_s=0.3, cpu_s=30, memory_mb=2048))
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"slow\.pdf: parsing took longer"):
        load.load_bytes(_slow_pdf(), "slow.pdf", ".pdf")
    assert time.monotonic() - started < 5


def _trickle(seconds: float, gap_s: float) -> Iterator[str]:
    """A page that sends its headers, then one byte every `gap_s` for `seconds` (a slow-loris server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:
                connection.sendall(b"a")
                time.sleep(gap_s)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/page.html"
    finally:
        server.close()


def _fetch(url: str) -> None:
    with fetch.http_client(fetch.FetchPolicy.allowing(["127.0.0.0/8"])) as client:
        fetch.fetch_page(client, fetch.Page(url))


def test_n7_a_trickling_page_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "MIN_RATE_AFTER_S", 1.0)
    with contextlib.contextmanager(_trickle)(12, 0.4) as url:
        started = time.monotonic()
        with pytest.raises(LoadError, match="bytes a second"):
            _fetch(url)
        assert time.monotonic() - started < 5
    monkeypatch.setattr(fetch, "MIN_RATE_AFTER_S", 60.0)
    monkeypatch.setattr(fetch, "FETCH_DEADLINE_S", 1.5)
    with contextlib.contextmanager(_trickle)(12, 0.2) as url:
        started = time.monotonic()
        with pytest.raises(LoadError, match=r"longer than 1\.5 s"):
            _fetch(url)
        assert time.monotonic() - started < 5


def test_n7_mail_never_waits_behind_an_ingest(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    ingesting = threading.Event()

    def long_ingest(job: jobs.Claimed) -> None:
        ingesting.set()
        time.sleep(6)

    monkeypatch.setattr(desk.library, "run", long_ingest)
    with desk.sessions.begin() as session:
        jobs.enqueue(session, "ingest", {"documents": []})
    desk.start_jobs()
    try:
        assert ingesting.wait(5)
        receipt = desk.enquiries.receive(_enquiry("Ada Byron", "ada@uni.example", "How does a university join?"))
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            with desk.sessions() as session:
                row = session.scalars(select(OutboxMessage).where(OutboxMessage.enquiry_id == receipt.id)).first()
            if row is not None and row.status != "queued":
                break
            time.sleep(0.1)
        assert row is not None and row.status == "unsent"  # handled (no SMTP configured) while the ingest ran
    finally:
        desk.close()


# N9 — acknowledgements echoed the sender's subject to any address, capped only per exact address; forged senders
# and floods of mail from one sender were acknowledged and taken in without limit.


def _raw(sender: str, subject: str, message_id: str, verdict: str | None = None) -> bytes:
    auth = f"Authentication-Results: mx.cluster.example; {verdict}\r\n" if verdict else ""
    head = f"{auth}From: {sender}\r\nTo: desk@cluster.example\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
    return (head + "\r\nHow does a small clinic join the network?\r\n").encode()


def _acks(desk: Desk) -> list[OutboxMessage]:
    with desk.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "acknowledgement")))


def test_n9_an_acknowledgement_has_our_subject_never_the_senders(desk: Desk) -> None:
    spam = "Cheap pills at https://spam.example — reply now"
    assert desk.mail.receive(_raw("victim@home.example", spam, "<n9-1@x>"), "webhook") == "created"
    [ack] = _acks(desk)
    assert "spam" not in ack.subject and ack.subject.startswith("Your enquiry to the West Midlands health tech")
    assert "[WM-" in ack.subject


def test_n9_caps_per_mailbox_with_tags_per_domain_and_per_hour(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "acks_per_address_per_day": 2,
            "acks_per_domain_per_day": 4,
            "acks_per_hour": 6,
        }
    )
    desk = Desk.open(settings, assistant, open_database(settings))
    for i in range(4):  # one mailbox behind four +tags
        desk.enquiries.receive(_enquiry("Vic Tim", f"victim+{i}@home.example", f"Question number {i} about joining?"))
    assert len(_acks(desk)) == 2
    for i in range(4):  # new mailboxes on one domain
        desk.enquiries.receive(_enquiry("Vic Tim", f"person{i}@home.example", f"Another question {i} about joining?"))
    assert len(_acks(desk)) == 4
    for i in range(4):  # anywhere: the hourly cap
        desk.enquiries.receive(
            _enquiry("Vic Tim", f"someone@domain{i}.example", f"A third question {i} about joining?")
        )
    assert len(_acks(desk)) == 6


def test_n9_no_acknowledgement_to_a_sender_failing_spf_dkim_and_dmarc(desk: Desk) -> None:
    forged = _raw(
        "victim@home.example",
        "Hello",
        "<n9-forged@x>",
        "spf=fail smtp.mailfrom=home.example; dkim=none; dmarc=fail (p=reject) header.from=home.example",
    )
    assert desk.mail.receive(forged, "imap") == "created"  # kept for staff to read
    passing = _raw("ada@uni.example", "Hello", "<n9-real@x>", "spf=pass; dkim=pass header.d=uni.example; dmarc=pass")
    assert desk.mail.receive(passing, "imap") == "created"
    assert [a.to_addr for a in _acks(desk)] == ["ada@uni.example"]


def test_n9_intake_is_rate_limited_per_sender(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "data", "mail_per_sender_per_hour": 3})
    desk = Desk.open(settings, assistant, open_database(settings))
    results = [
        desk.mail.receive(_raw(f"flood+{i}@spam.example", f"Offer {i}", f"<n9-{i}@x>"), "webhook") for i in range(6)
    ]
    assert results == ["created"] * 3 + ["refused"] * 3
    assert desk.mail.receive(_raw("ada@uni.example", "Hello", "<n9-ada@x>"), "webhook") == "created"


# N11 — the IMAP poll downloaded messages of any size, and kept every attachment under the per-file cap.


def test_n11_the_mailbox_poll_refuses_a_message_over_the_size_cap_unread(assistant: Assistant, tmp_path: Path) -> None:
    tls = throwaway_ca(tmp_path / "tls")
    with dovecot(tls) as box:
        settings = assistant.settings.model_copy(
            update={
                "data_dir": tmp_path / "data",
                "mail_ca_file": tls.ca_file,
                "imap_url": box.url,
                "max_inbound_mail_kb": 16,
            }
        )
        desk = Desk.open(settings, assistant, open_database(settings))
        huge = _raw("big@home.example", "Big", "<n11-big@x>").replace(b"How does", b"x" * 40_000 + b" How does")
        box.append(huge, _raw("ada@uni.example", "Hello", "<n11-ok@x>"))
        assert dict(desk.mail.poll().results) == {"refused": 1, "created": 1}
        assert desk.mail.poll().messages == 0


def test_n11_attachments_kept_per_message_are_bounded_in_total() -> None:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "ada@uni.example", "Files", "<n11-files@x>"
    message.set_content("Please see the files attached: how do we join?")
    for i in range(6):
        message.add_attachment(bytes([i]) * 900, maintype="application", subtype="octet-stream", filename=f"{i}.bin")
    read = parse(message.as_bytes(), 1024)
    assert len(read.attachments) == 6
    assert sum(a.data is not None for a in read.attachments) == 4  # 4 KiB kept in all: the rest listed only


# N12 — a reply threaded by its headers from a stranger's address was added to the enquiry, and reopened it.


def test_n12_a_threaded_reply_from_a_stranger_is_a_linked_new_enquiry(desk: Desk) -> None:
    assert desk.mail.receive(_raw("ada@uni.example", "Joining", "<n12-first@x>"), "imap") == "created"
    with desk.sessions() as session:
        first = session.scalars(select(Enquiry)).one()
    desk.enquiries.update(first.id, EnquiryUpdate(status="resolved"), "kim@cluster.example")
    stranger = _raw("mallory@else.example", "Re: Joining", "<n12-stranger@x>").replace(
        b"Message-ID:", b"In-Reply-To: <n12-first@x>\r\nMessage-ID:"
    )
    assert desk.mail.receive(stranger, "imap") == "created"
    owner = _raw("ada+list@uni.example", "Re: Joining", "<n12-owner@x>").replace(
        b"Message-ID:", b"In-Reply-To: <n12-first@x>\r\nMessage-ID:"
    )
    with desk.sessions() as session:
        assert session.get_one(Enquiry, first.id).status == "resolved"  # not reopened by a stranger
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "linked")).all()
        assert sorted(e.enquiry_id == first.id for e in events) == [False, True]
    assert desk.mail.receive(owner, "imap") == "reply"  # the enquirer's own mailbox, +tag or not, still threads


# N16 — any text was saved (and mailed) as the assignee; any staff member could record a partner consent; the staff
# API's bulk reads left no trace.


def test_n16_the_assignee_must_be_an_active_account(desk: Desk) -> None:
    receipt = desk.enquiries.receive(_enquiry("Ada Byron", "ada@uni.example", "How does a university join?"))
    add_staff(desk.sessions, "lou@cluster.example", "a long enough password", "staff")
    gone = add_staff(desk.sessions, "old@cluster.example", "a long enough password", "staff")
    set_disabled(desk.sessions, gone.email, True)
    for outsider in ("attacker@evil.example", "old@cluster.example", "not an address"):
        with pytest.raises(InvalidRequest, match="not an active staff account"):
            desk.enquiries.update(receipt.id, EnquiryUpdate(assignee=outsider), "kim@cluster.example")
    desk.enquiries.update(receipt.id, EnquiryUpdate(assignee="Lou@cluster.example"), "kim@cluster.example")
    with desk.sessions() as session:
        assert session.get_one(Enquiry, receipt.id).assignee == "lou@cluster.example"
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr.contains("evil"))).all()


def test_n16_recording_partner_consent_needs_an_admin(desk: Desk) -> None:
    receipt = desk.enquiries.receive(_enquiry("Ada Byron", "ada@uni.example", "Could a partner trust contact me?"))
    staff = add_staff(desk.sessions, "kim@cluster.example", "a long enough password", "staff")
    admin = add_staff(desk.sessions, "root@cluster.example", "a long enough password", "admin")
    with pytest.raises(NotAllowed):
        desk.enquiries.record_partner_consent(receipt.id, "Example Trust", "said yes by phone", staff)
    desk.enquiries.record_partner_consent(receipt.id, "Example Trust", "said yes by phone", admin)


def test_n16_bulk_reads_of_the_staff_api_are_audited(desk: Desk) -> None:
    desk.enquiries.receive(_enquiry("Ada Byron", "ada@uni.example", "How does a university join?"))
    assert len(desk.enquiries.inbox(Filters(), reader="kim@cluster.example")) == 1
    with desk.sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "enquiries_read")).all()
    assert (event.actor, event.detail["count"]) == ("kim@cluster.example", 1)


# N17 — a bad redirect raised out of expand() and aborted a whole ingest run.


def test_n17_a_bad_redirect_fails_its_target_and_the_run_goes_on(
    tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder
) -> None:
    settings = settings_for(tmp_path / "data", model_cache)
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe Quexbury clinic opens at nine.\n")
    routes = {"/bad": (302, {"Location": "http://[::1"}, b""), "/idna": (302, {"Location": "http://a..b/"}, b"")}
    with serve_routes(routes) as base:
        report = ingest(
            [f"{base}/bad", f"{base}/idna", str(note)],
            Store.open(settings, embedder),
            embedder,
            progress=False,
            fetch_policy=fetch.FetchPolicy.allowing(["127.0.0.0/8"]),
        )
    assert {source for source, _ in report.failed} == {f"{base}/bad", f"{base}/idna"}
    assert len(report.added) == 1


# N19 — a subject's mail threaded into other enquiries was neither exported nor erased; the question log kept
# postcodes and names people gave.


def test_n19_a_subjects_mail_in_other_enquiries_is_exported_and_erased(desk: Desk) -> None:
    assert desk.mail.receive(_raw("ada@uni.example", "Joining", "<n19-first@x>"), "imap") == "created"
    with desk.sessions.begin() as session:  # from before N12: Bo's reply stored on Ada's thread, and a copy to Bo
        enquiry = session.scalars(select(Enquiry)).one()
        session.add(
            MailMessage(
                enquiry_id=enquiry.id,
                message_id="<n19-bo@x>",
                from_addr="bo@clinic.example",
                subject="Re: Joining",
                text="Bo's own words",
                received_via="imap",
            )
        )
        desk.enquiries.outbox.reply(session, enquiry, "A reply Bo was copied on", "kim@cluster.example")
        session.flush()
        copy = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
        copy.to_addr = "bo@clinic.example"
    exported = desk.privacy.export_subject("bo@clinic.example", None)
    assert exported.enquiries == [] and [m["text"] for m in exported.mail_elsewhere["received"]] == ["Bo's own words"]
    assert [m["text"] for m in exported.mail_elsewhere["sent"]] == ["A reply Bo was copied on"]
    desk.privacy.erase_subject("bo@clinic.example", None)
    with desk.sessions() as session:
        assert not session.scalars(select(MailMessage).where(MailMessage.from_addr == "bo@clinic.example")).all()
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == "bo@clinic.example")).all()
        assert session.scalars(select(MailMessage).where(MailMessage.from_addr == "ada@uni.example")).all()


@pytest.mark.parametrize(
    ("said", "logged"),
    [
        (
            "Hi, my name is Ada Byron and I live at B15 2TT: can I join?",
            "Hi, my name is [name] and I live at [postcode]: can I join?",
        ),
        ("I'm Sam from Acme, what is PIONEER?", "I'm [name] from Acme, what is PIONEER?"),
        ("i am a nurse near sw1a1aa", "i am a nurse near [postcode]"),
        ("What is PIONEER?", "What is PIONEER?"),
    ],
)
def test_n19_the_question_log_keeps_no_postcode_or_given_name(said: str, logged: str) -> None:
    assert redact(said) == logged
