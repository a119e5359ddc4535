"""Retention, subject-access export and erasure, checked in the database itself, on SQLite and on PostgreSQL."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import gdpr, inbox, triage
from assistant.desk.db import open_database
from assistant.desk.mail.message import parse, store
from assistant.desk.mail.outbox import Outbox
from assistant.desk.partners import PartnerDirectory
from assistant.desk.records import CONSENT_VERSION, NewEnquiry, create_enquiry
from assistant.desk.tables import Enquiry, utcnow
from tests.helpers import database_text

PERSONAL = ("Ada Lovelace", "ada@analytical.example", "Analytical Engines Ltd", "my secret project Babbage")


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return open_database(Settings(data_dir=tmp_path))
    url = request.getfixturevalue("postgres_url")
    made = open_database(Settings(data_dir=tmp_path, database_url=url))
    with made.begin() as session:  # each test starts empty on the shared server
        session.execute(
            text("TRUNCATE enquiries, audit_events, enquiry_notes, partner_consents, jobs RESTART IDENTITY CASCADE")
        )
    return made


def personal_enquiry(sessions: sessionmaker[Session]) -> int:
    name, email, organisation, secret = PERSONAL
    new = NewEnquiry(
        name,
        email,
        f"Please help with {secret}.",
        "chat",
        CONSENT_VERSION,
        organisation,
        [{"role": "user", "content": f"I am {name} of {organisation}"}],
    )
    enquiry_id = create_enquiry(sessions, new).id
    triage.add_note(sessions, enquiry_id, f"Called {name} about {secret}", "staff@cluster.example")
    triage.record_partner_consent(sessions, enquiry_id, "Example Trust", f"{name} said yes by phone", "staff@x")
    # E-mail both ways: a reply from the enquirer with an attachment, and our reply in the outbox.
    raw = (
        f"From: {name} <{email}>\r\nSubject: About {secret}\r\nMessage-ID: <m1@analytical.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        f"Content-Type: text/plain\r\n\r\nMore on {secret}.\r\n--b\r\nContent-Type: text/plain\r\n"
        f"Content-Disposition: attachment; filename=notes.txt\r\n\r\n{secret} notes\r\n--b--\r\n"
    ).encode()
    inbound = parse(raw, 1024)
    mail = Outbox(Settings(), None, PartnerDirectory(None))
    with sessions.begin() as session:
        store(session, enquiry_id, inbound, "imap")
        mail.reply(session, session.get_one(Enquiry, enquiry_id), f"Dear {name}, about {secret}: yes.", "staff@x")
    return enquiry_id


def test_subject_access_export_has_everything(sessions: sessionmaker[Session]) -> None:
    personal_enquiry(sessions)
    exported = gdpr.export_subject(sessions, "ADA@analytical.example ", "test")
    [enquiry] = exported.enquiries
    assert enquiry["name"] == "Ada Lovelace" and enquiry["transcript"] and enquiry["consent_version"] == CONSENT_VERSION
    assert enquiry["notes"][0]["text"].startswith("Called Ada") and enquiry["partner_consents"][0]["partner"]
    assert enquiry["mail_received"][0]["attachments"] == [{"filename": "notes.txt", "size": 31}]
    assert enquiry["mail_sent"][0]["to"] == "ada@analytical.example" and "Babbage" in enquiry["mail_sent"][0]["text"]
    assert gdpr.export_subject(sessions, "nobody@example.org", "test").enquiries == []


def test_erasure_leaves_no_personal_data_anywhere(sessions: sessionmaker[Session]) -> None:
    enquiry_id = personal_enquiry(sessions)
    assert all(p in database_text(sessions) for p in PERSONAL)
    assert gdpr.erase_subject(sessions, "ada@analytical.example", "admin@cluster.example") == 1
    remaining = database_text(sessions)
    assert not [p for p in PERSONAL if p in remaining]
    with sessions() as session:
        row = session.get_one(Enquiry, enquiry_id)
    assert row.status == "new" and row.erased_at is not None  # what is not personal stays for the figures
    assert [e.action for e in inbox.audit_trail(sessions(), enquiry_id)][-1] == "erased"


def test_retention_erases_only_old_resolved_enquiries(sessions: sessionmaker[Session]) -> None:
    old = personal_enquiry(sessions)
    recent = create_enquiry(sessions, NewEnquiry("Bo", "bo@example.org", "Hello there", "api", CONSENT_VERSION)).id
    for enquiry_id in (old, recent):
        triage.change_status(sessions, enquiry_id, "resolved", "staff@x")
    with sessions.begin() as session:
        session.get_one(Enquiry, old).resolved_at = utcnow() - timedelta(days=400)
    assert gdpr.purge_resolved(sessions, retention_days=365) == 1
    remaining = database_text(sessions)
    assert not [p for p in PERSONAL if p in remaining] and "bo@example.org" in remaining
    assert gdpr.purge_resolved(sessions, retention_days=365) == 0  # already erased


def test_retention_per_category(sessions: sessionmaker[Session]) -> None:
    clinical = create_enquiry(sessions, NewEnquiry("Al", "al@example.org", "My chest hurts", "api", CONSENT_VERSION)).id
    other = create_enquiry(sessions, NewEnquiry("Cy", "cy@example.org", "Membership?", "api", CONSENT_VERSION)).id
    with sessions.begin() as session:
        for enquiry_id, category in ((clinical, "clinical-advice"), (other, "membership-events")):
            row = session.get_one(Enquiry, enquiry_id)
            row.category, row.status, row.resolved_at = category, "resolved", utcnow() - timedelta(days=40)
    assert gdpr.purge_resolved(sessions, 365, {"clinical-advice": 30}) == 1
    remaining = database_text(sessions)
    assert "al@example.org" not in remaining and "cy@example.org" in remaining


def test_csv_export_lists_every_enquiry(sessions: sessionmaker[Session]) -> None:
    personal_enquiry(sessions)
    lines = gdpr.enquiries_csv(sessions, "test").splitlines()
    assert lines[0].startswith("id,created_at,channel") and "Ada Lovelace" in lines[1] and len(lines) == 2
    with sessions() as session:
        assert session.scalars(select(Enquiry.channel)).all() == ["chat"]
