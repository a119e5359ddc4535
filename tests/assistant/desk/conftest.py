"""The desk's records on SQLite and on a throwaway PostgreSQL, emptied for each test."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.db import open_database


@pytest.fixture(params=["sqlite", "postgresql"])
def both_databases(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return open_database(Settings(data_dir=tmp_path))
    made = open_database(Settings(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url")))
    with made.begin() as session:
        session.execute(text("TRUNCATE enquiries, audit_events, question_log, feedback RESTART IDENTITY CASCADE"))
    return made
