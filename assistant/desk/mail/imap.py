"""Reading the mailbox over IMAP with TLS (`imap-tools`: a maintained wrapper over imaplib with UID searches,
bulk fetches and folder status, so this module holds only our policy).

A poll reads the messages whose UID is above the last one read (kept in `mailbox_state` with the folder's
UIDVALIDITY: if the server renumbers the folder, the poll starts over, and Message-IDs keep that from creating
anything twice). Messages are left on the server, unflagged: the mailbox stays the staff's, and a second poll,
or a second worker, stores nothing new. The UID moves on after each message, so a poll cut short resumes there.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from imap_tools import AND, MailBox, U
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.mail.tls import tls_context
from assistant.desk.tables import MailboxState, utcnow
from assistant.desk.vocabulary import Received
from assistant.errors import InvalidRequest

log = logging.getLogger(__name__)
BATCH = 100  # messages fetched per IMAP round trip


@dataclass
class PollReport:
    messages: int = 0
    results: Counter[Received] = field(default_factory=Counter)
    seconds: float = 0.0


def mailbox_address(settings: Settings) -> tuple[str, int, str, str, str]:
    """(host, port, user, password, folder) of `imap_url` (imaps://user:pass@host:993/INBOX)."""
    url = urlsplit(settings.imap_url or "")  # imaps:// with a host and a user: checked when Settings was built
    folder = unquote(url.path.lstrip("/")) or "INBOX"
    return url.hostname or "", url.port or 993, unquote(url.username or ""), unquote(url.password or ""), folder


def _state(session: Session, name: str) -> MailboxState:
    state = session.get(MailboxState, name)
    if state is None:
        state = MailboxState(name=name, last_uid=0, last_count=0)
        session.add(state)
    return state


def poll(
    sessions: sessionmaker[Session],
    settings: Settings,
    receive: Callable[[bytes], Received],
    too_large: Callable[[int], None],
) -> PollReport:
    """Read new messages and hand each to `receive` (raw bytes → what became of it); the last UID read and the
    poll's outcome are kept for the console and /healthz. Raises the mail server's error after recording it.

    Headers and sizes are fetched first: a message over `max_inbound_mail_kb` is never downloaded (`too_large` is
    told its size and it counts as refused), as the webhook refuses one."""
    cap = settings.max_inbound_mail_kb * 1024
    host, port, user, password, folder = mailbox_address(settings)
    name = f"{user}@{host}/{folder}"
    report, started = PollReport(), time.perf_counter()
    try:
        with MailBox(host, port, timeout=60, ssl_context=tls_context(settings)).login(user, password, folder) as box:
            validity = str(box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
            with sessions.begin() as session:
                state = _state(session, name)
                if state.uidvalidity != validity:  # a new folder, or renumbered: read it from the start
                    state.uidvalidity, state.last_uid = validity, 0
                last = int(state.last_uid)
            for header in box.fetch(AND(uid=U(str(last + 1), "*")), mark_seen=False, headers_only=True, bulk=BATCH):
                uid = int(header.uid or 0)
                if uid <= last:  # "n:*" returns the newest message even when it is below n
                    continue
                if header.size_rfc822 > cap:
                    too_large(header.size_rfc822)
                    report.results[Received.REFUSED] += 1
                else:
                    whole = next(box.fetch(AND(uid=str(uid)), mark_seen=False), None)
                    raw = whole.obj.as_bytes() if whole is not None else b""
                    report.results[_receive_one(receive, raw) if raw else Received.GONE] += 1
                report.messages += 1
                with sessions.begin() as session:
                    _state(session, name).last_uid = last = uid
    except Exception as exc:
        _record(sessions, name, report, f"{type(exc).__name__}: {exc}")
        raise
    report.seconds = round(time.perf_counter() - started, 3)
    _record(sessions, name, report, None)
    return report


def _receive_one(receive: Callable[[bytes], Received], raw: bytes) -> Received:
    """What became of one message. One we cannot read is skipped (logged); any other failure (the database away)
    ends the poll before its UID is passed, so the next poll tries it again."""
    try:
        return receive(raw)
    except InvalidRequest as exc:
        log.warning("a message in the mailbox was skipped: %s", exc)
        return Received.REFUSED


def _record(sessions: sessionmaker[Session], name: str, report: PollReport, error: str | None) -> None:
    with sessions.begin() as session:
        state = _state(session, name)
        state.last_poll_at, state.last_error, state.last_count = utcnow(), error, report.messages
