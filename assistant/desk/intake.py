"""Enquiries from files: CSV lists (each row a `NewEnquiry`; a bad row is reported and the rest go on), and the raw
messages of .eml and .mbox files, which the mail service takes in through the same door as the mailbox's."""

import csv
import mailbox
from collections.abc import Iterator
from pathlib import Path

from assistant.desk.mail.message import MAX_MESSAGE_CHARS
from assistant.desk.records import DIRECT_CONTACT, NewEnquiry
from assistant.desk.vocabulary import Channel
from assistant.errors import InvalidRequest


def raw_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, the message as received) for each message of an .eml or .mbox file, to be taken in as the mailbox's
    are (`Mail.import_file`): one parser for all mail."""
    if path.suffix.lower() == ".mbox":
        for i, message in enumerate(mailbox.mbox(str(path), create=False)):
            yield f"{path.name} message {i + 1}", message.as_bytes()
    else:
        yield path.name, path.read_bytes()


def read_csv(path: Path) -> Iterator[tuple[str, NewEnquiry | InvalidRequest]]:
    """Rows with columns name, email, message (required) and organisation, subject (optional)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path.name} line {number}"
            missing = [c for c in ("name", "email", "message") if not (row.get(c) or "").strip()]
            if missing:
                yield where, InvalidRequest(f"missing {', '.join(missing)}")
                continue
            yield (
                where,
                NewEnquiry(
                    name=row["name"],
                    email=row["email"],
                    message=row["message"][:MAX_MESSAGE_CHARS],
                    channel=Channel.CSV,
                    consent_version=DIRECT_CONTACT,
                    organisation=row.get("organisation") or None,
                    subject=row.get("subject") or None,
                    source_ref=f"{path.name}:{number}",
                ),
            )
