"""Records on a real SQLite file: durability settings, consent, redaction, retention."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from assistant.config import Settings
from assistant.desk.db import MIGRATIONS, open_database
from assistant.desk.records import CONSENT_VERSION, NewEnquiry, create_enquiry, purge_questions, redact
from assistant.desk.tables import Enquiry, QuestionLog, utcnow
from assistant.errors import InvalidRequest
from assistant.models import Answer
from tests.helpers import log_now


def _head() -> str:
    """The newest migration's revision, read from the scripts (not a number this test would have to chase)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    with sessions() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()


@pytest.mark.parametrize(
    ("changes", "message"), [({"consent_version": "old"}, "Consent version"), ({"channel": "fax"}, "Unknown channel")]
)
def test_enquiry_needs_current_consent_and_a_known_channel(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    fields = {"name": "A", "email": "a@example.org", "message": "m", "channel": "chat"}
    fields["consent_version"] = CONSENT_VERSION
    with pytest.raises(InvalidRequest, match=message):
        create_enquiry(sessions, NewEnquiry(**{**fields, **changes}))
    first = create_enquiry(sessions, NewEnquiry(**fields))
    assert (first.id, first.created) == (1, True)
    merged = create_enquiry(sessions, NewEnquiry(**{**fields, "message": " M "}))
    assert (merged.id, merged.created) == (1, False) and merged.reference != first.reference


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mail jo.bloggs+x@nhs.example.uk now", "mail [email] now"),
        ("call +44 (0)121 496 0000 or 07700 900123", "call [phone] or [phone]"),
        ("In 2019 the hub had 4 partners", "In 2019 the hub had 4 partners"),
    ],
)
def test_redact_removes_contact_details_but_not_numbers(raw: str, clean: str) -> None:
    assert redact(raw) == clean


def test_old_questions_are_purged_and_recent_ones_kept(tmp_path: Path) -> None:
    sessions = open_database(Settings(data_dir=tmp_path))
    answer = Answer("text", [], False, 0.9, {})
    old = log_now(sessions, "chat", "old question", answer, 3.0)
    new = log_now(sessions, "chat", "new question", answer, 3.0)
    with sessions.begin() as session:
        session.get_one(QuestionLog, old).created_at = utcnow() - timedelta(days=91)
    assert purge_questions(sessions, days=90) == 1
    with sessions() as session:
        assert session.scalars(select(QuestionLog.id)).all() == [new]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0004_upgrades_a_database_with_enquiries(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from assistant.desk.db import MIGRATIONS, make_engine

    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if backend == "postgresql":  # the server is shared by the session: start from an empty schema
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        for i in range(3):
            connection.execute(
                text(
                    "INSERT INTO enquiries (created_at, updated_at, channel, name, email, message, transcript, "
                    "consent_version, consented_at, status, needs_review, reasons, duplicates, draft_citations) "
                    "VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'api', 'N', :email, 'M', '[]', 'v', "
                    "CURRENT_TIMESTAMP, 'new', false, '{}', 0, '[]')"
                ),
                {"email": f"n{i}@example.org"},
            )
    sessions = open_database(Settings(data_dir=tmp_path, database_url=url))  # upgrades to head
    with sessions() as session:
        references = session.scalars(select(Enquiry.reference)).all()
        columns = {c["name"] for c in inspect(session.get_bind()).get_columns("staff_users")}
        tables = inspect(session.get_bind()).get_table_names()
    assert len(set(references)) == 3 and all(r and r.startswith("WM-") for r in references)
    assert "failed_logins" not in columns and "rate_hits" not in tables
    engine.dispose()
