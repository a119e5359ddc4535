"""The database: SQLite by default (WAL, synchronous=FULL, a busy timeout), PostgreSQL when its URL is given.

`open_database(settings)` creates the engine and brings the schema to the latest Alembic revision, so a new
machine and an old database both end up on the same schema without a separate step.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.errors import StoreUnavailable
from assistant.private import private_dir, private_file

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged enquiry survives a power cut
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # several workers take turns instead of failing
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            # SQLite gives the -wal and -shm files the database file's mode: 0600 for all three.
            private_file(private_dir(Path(path).parent) / Path(path).name)
            for suffix in ("-wal", "-shm"):
                if Path(path + suffix).exists():
                    Path(path + suffix).chmod(0o600)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the latest revision (a no-op when it is current)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(settings: Settings) -> sessionmaker[Session]:
    """A session factory on the configured database, migrated to the latest schema."""
    engine = make_engine(settings.database)
    try:
        migrate(engine)
    except Exception as exc:  # driver errors differ between SQLite and PostgreSQL; all mean "can't use it"
        raise StoreUnavailable(f"Cannot open the database {engine.url!r}: {exc}") from None
    return sessionmaker(engine, expire_on_commit=False)
