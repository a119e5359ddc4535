"""Mail with real servers on loopback: aiosmtpd (STARTTLS, a throwaway CA) receives what the desk sends; Debian's
Dovecot (IMAP over TLS) holds what the desk reads."""

import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.desk import Desk, EnquiryUpdate, Filters, NewEnquiry
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import AuditEvent, Enquiry, MailAttachment, OutboxMessage
from assistant.engine.assistant import Assistant
from assistant.errors import InvalidRequest
from evaluation.mailservers import SmtpServer, ThrowawayCA, dovecot, smtp_server, throwaway_ca


@pytest.fixture
def tls(tmp_path: Path) -> ThrowawayCA:
    return throwaway_ca(tmp_path / "tls")


@pytest.fixture
def smtp(tls: ThrowawayCA) -> Iterator[SmtpServer]:
    with smtp_server(tls) as server:
        yield server


def make_desk(assistant: Assistant, tmp_path: Path, tls: ThrowawayCA, **mail: object) -> Desk:
    settings = assistant.settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "mail_ca_file": tls.ca_file,
            "mail_from": "West Midlands HTN <desk@cluster.example>",
            "mail_retry_seconds": 0.2,
            **mail,
        }
    )
    return Desk.open(settings, assistant, open_database(settings))


def mail(sender: str, subject: str, body: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Message-ID"] = (
        sender,
        "desk@cluster.example",
        subject,
        message_id,
    )
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def test_acknowledgement_reply_and_notice_go_out_threaded(assistant: Assistant, tmp_path: Path, tls, smtp) -> None:  # type: ignore[no-untyped-def]
    desk = make_desk(assistant, tmp_path, tls, smtp_url=smtp.url)
    receipt = desk.enquiries.receive(
        NewEnquiry(
            "Robin Patel", "robin@medtech.example", "Can we license PIONEER data for a study?", "api", CONSENT_VERSION
        )
    )
    assert desk.run_jobs() == 1
    [ack] = smtp.received
    assert ack["To"] == "robin@medtech.example" and receipt.reference in ack["Subject"]
    assert receipt.reference in ack.get_content() and "We aim to reply by" in ack.get_content()
    assert ack["Auto-Submitted"] == "auto-replied" and ack["From"] == "West Midlands HTN <desk@cluster.example>"
    with desk.sessions() as session:
        assert session.scalar(select(OutboxMessage.message_id)) == ack["Message-ID"]
    add_staff(desk.sessions, "lee@cluster.example", "a long enough password", "staff")  # an assignee is an account
    desk.enquiries.update(receipt.id, EnquiryUpdate(assignee="lee@cluster.example"), "kim@cluster.example")
    desk.enquiries.update(
        receipt.id, EnquiryUpdate(reply="Dear Robin,\n\nYes: here is how.\n\nKim"), "kim@cluster.example"
    )
    assert desk.run_jobs() == 2
    notice, reply = smtp.received[1:]
    assert notice["To"] == "lee@cluster.example" and "robin" not in notice.get_content().lower()  # no personal data
    assert reply["In-Reply-To"] == ack["Message-ID"] and reply["References"] == ack["Message-ID"]
    assert reply.get_content().startswith("Dear Robin,") and "Auto-Submitted" not in reply
    trail = [a.what for a in desk.enquiries.enquiry(receipt.id).audit]
    assert trail.count("mail_sent") == 3 and trail.index("reply_approved") < len(trail) - 1


def test_a_refused_message_is_retried_and_the_per_address_cap_holds(
    assistant: Assistant, tmp_path: Path, tls, smtp
) -> None:  # type: ignore[no-untyped-def]
    desk = make_desk(assistant, tmp_path, tls, smtp_url=smtp.url, acks_per_address_per_day=2)
    smtp.refuse_next = 1
    for i in range(4):  # a stranger's address typed into the public form four times
        desk.enquiries.receive(
            NewEnquiry("Victim", "victim@example.org", f"Spam number {i} about funding", "api", CONSENT_VERSION)
        )
    assert desk.run_jobs() == 2 and len(smtp.received) == 1  # the first was refused (451) and waits
    outbox = desk.mail.outgoing()
    assert [r.status for r in outbox] == ["queued", "sent"] and outbox[0].error.startswith("451")
    time.sleep(0.3)
    assert desk.run_jobs() == 1 and len(smtp.received) == 2  # the retry went through
    assert all(r.status == "sent" for r in desk.mail.outgoing())
    with desk.sessions() as session:
        skipped = session.scalar(select(func.count()).where(AuditEvent.action == "acknowledgement_skipped"))
    assert skipped == 2


def test_without_a_mail_server_the_outbox_fills_and_says_why(assistant: Assistant, tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    desk = make_desk(assistant, tmp_path, tls)
    receipt = desk.enquiries.receive(
        NewEnquiry("Al", "al@example.org", "I have chest pain, what should I do?", "api", CONSENT_VERSION)
    )
    desk.run_jobs()
    [row] = desk.mail.outgoing()
    assert row.kind == "signpost" and row.status == "unsent"
    assert row.error == "not sent: no mail server configured"
    with desk.sessions() as session:
        assert "NHS 111" in session.scalars(select(OutboxMessage.body)).one()
    assert desk.mail.health().unsent == 1 and not desk.mail.health().sending
    assert desk.enquiries.enquiry(receipt.id).category == "clinical-advice"


def test_received_mail_threads_reopens_ignores_robots_and_keeps_attachments(
    assistant: Assistant, tmp_path: Path, tls, smtp
) -> None:  # type: ignore[no-untyped-def]
    desk = make_desk(assistant, tmp_path, tls, smtp_url=smtp.url, max_attachment_kb=1)
    first = mail(
        "Ada Byron <ada@uni.example>",
        "Funding for a pilot",
        "Is there funding for a digital health pilot in Birmingham?",
        "<q1@uni.example>",
    )
    assert desk.mail.receive(first, "webhook") == "created"
    assert desk.mail.receive(first, "webhook") == "duplicate"
    desk.run_jobs()
    [ack] = smtp.received
    assert ack["In-Reply-To"] == "<q1@uni.example>"  # threaded under the enquiry, with our own subject (N9)
    assert ack["Subject"].startswith("Your enquiry to the West Midlands health tech network [WM-")
    with desk.sessions() as session:
        enquiry = session.scalars(select(Enquiry)).one()
    desk.enquiries.update(enquiry.id, EnquiryUpdate(status="resolved"), "kim@cluster.example")
    reply = EmailMessage()
    reply["From"], reply["Subject"], reply["Message-ID"] = "ada@uni.example", "Re: funding", "<q2@uni.example>"
    reply["In-Reply-To"] = ack["Message-ID"]
    reply.set_content("Thanks, one more question: what about matched funding?")
    reply.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="budget.pdf")
    reply.add_attachment(b"x" * 5000, maintype="application", subtype="octet-stream", filename="big.bin")
    assert desk.mail.receive(reply.as_bytes(), "imap") == "reply"
    shown = desk.enquiries.enquiry(enquiry.id)
    assert shown.status == "in_progress"  # reopened
    [received] = [m for m in shown.timeline if m.kind == "mail_in"]
    assert [(a.filename, a.kept) for a in received.attachments] == [("budget.pdf", True), ("big.bin", False)]
    assert desk.mail.attachment(received.attachments[0].id) == ("budget.pdf", b"%PDF-1.4 small")
    by_reference = mail("ada@uni.example", f"About {enquiry.reference}", "A third note.", "<q3@uni.example>")
    assert desk.mail.receive(by_reference, "imap") == "reply"
    stranger = mail("eve@evil.example", f"About {enquiry.reference}", "Let me in.", "<q4@evil.example>")
    assert desk.mail.receive(stranger, "imap") == "created"  # a reference alone does not join someone's enquiry
    robots = [
        mail(
            "ada@uni.example",
            "Out of office",
            "I am away.",
            "<o1@uni.example>",
            Auto_Submitted="auto-replied",
            In_Reply_To=ack["Message-ID"],
        ),
        mail("news@list.example", "Newsletter", "Our news.", "<o2@list.example>", Precedence="bulk"),
        mail("MAILER-DAEMON@mx.example", "Undelivered Mail", "It bounced.", "<o3@mx.example>"),
    ]
    sent_before = len(smtp.received) + desk.run_jobs()
    assert [desk.mail.receive(raw, "imap") for raw in robots] == ["ignored"] * 3
    assert desk.run_jobs() == 0 and len(smtp.received) == sent_before  # nothing answers a robot
    with desk.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 2
        assert session.scalar(select(func.count()).select_from(MailAttachment)) == 2


def test_the_mailbox_poll_reads_each_message_once(assistant: Assistant, tmp_path: Path, tls, smtp) -> None:  # type: ignore[no-untyped-def]
    with dovecot(tls) as box:
        desk = make_desk(assistant, tmp_path, tls, smtp_url=smtp.url, imap_url=box.url)
        box.append(
            mail("Sam <sam@clinic.example>", "Joining", "How does a small clinic join the network?", "<p1@clinic>"),
            mail(
                "sam@clinic.example", "Auto: away", "Away until Monday.", "<p2@clinic>", Auto_Submitted="auto-replied"
            ),
        )
        report = desk.mail.poll()
        assert report.messages == 2 and dict(report.results) == {"created": 1, "ignored": 1}
        desk.run_jobs()
        [ack] = smtp.received
        box.append(
            mail("sam@clinic.example", "Re: Joining", "And the fee?", "<p3@clinic>", In_Reply_To=ack["Message-ID"])
        )
        assert dict(desk.mail.poll().results) == {"reply": 1}
        again = desk.mail.poll()
        assert again.messages == 0
        with desk.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Enquiry)) == 1
        health = desk.mail.health()
        assert health.receiving and health.last_poll_at and health.last_poll_error is None


def test_plain_smtp_goes_only_to_a_relay_the_operator_named(assistant: Assistant, tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    """A relay on loopback without STARTTLS (Postfix): refused unless `smtp_plain_relay` says so, then used."""
    with smtp_server(None) as relay:
        strict = make_desk(assistant, tmp_path / "strict", tls, smtp_url=relay.url, mail_max_attempts=1)
        strict.enquiries.receive(NewEnquiry("Ada", "ada@x.example", "Can we join?", "api", CONSENT_VERSION))
        strict.run_jobs()
        assert relay.received == [] and [r.status for r in strict.mail.outgoing()] == ["failed"]
        plain = make_desk(assistant, tmp_path / "plain", tls, smtp_url=relay.url, smtp_plain_relay=True)
        plain.enquiries.receive(NewEnquiry("Bo", "bo@x.example", "Can we join?", "api", CONSENT_VERSION))
        assert plain.run_jobs() == 1
        assert [m["To"] for m in relay.received] == ["bo@x.example"]
        assert [r.status for r in plain.mail.outgoing()] == ["sent"]


def test_imported_mail_comes_in_through_the_mailboxs_door(assistant: Assistant, tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    """`enquiries import` of .eml/.mbox: robots ignored, Message-IDs de-duplicated, replies threaded, attachments
    kept, unreadable messages refused and the rest go on; no acknowledgement goes to old mail."""
    desk = make_desk(assistant, tmp_path, tls)
    first = mail("Ann <ann@uni.example>", "Research partners", "Which universities train health staff?", "<a1@uni>")
    again = first  # the same message twice in the archive
    robot = mail("MAILER-DAEMON@uni.example", "Undelivered", "Delivery failed.", "<r1@uni>")
    reply = mail(
        "Ann <ann@uni.example>", "Re: Research partners", "Who funds them?", "<a2@uni>", In_Reply_To="<a1@uni>"
    )
    box = tmp_path / "archive.mbox"
    box.write_bytes(b"".join(b"From x\n" + m + b"\n" for m in (first, again, robot, reply, b"Subject: no sender\n\nx")))
    results = [r for _, r in desk.mail.import_file(box)]
    assert results[:4] == ["created", "duplicate", "ignored", "reply"] and isinstance(results[4], InvalidRequest)
    [enquiry] = desk.enquiries.inbox(Filters(q="ann@uni.example"))
    assert [m.kind for m in desk.enquiries.enquiry(enquiry.id).timeline].count("mail_in") == 1  # the reply, threaded
    assert desk.mail.outgoing() == []  # no acknowledgement to old mail


def test_staff_see_what_was_read_and_the_message_as_received(assistant: Assistant, tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    desk = make_desk(assistant, tmp_path, tls)
    quoted = "Who can use PIONEER's data?\n\nOn Tue, 25 Nov 2026 at 09:12, Alex <a@x.example> wrote:\n> What is it?"
    assert desk.mail.receive(mail("Bo <bo@x.example>", "Data", quoted, "<q1@x>"), "imap") == "created"
    [row] = desk.enquiries.inbox(Filters(q="bo@x.example"))
    [message] = [m for m in desk.enquiries.enquiry(row.id).timeline if m.kind == "message"]
    assert message.text == "Who can use PIONEER's data?" and "wrote:" in (message.as_received or "")
