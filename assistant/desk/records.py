"""Writing the relational records: enquiries with consent, the question log, feedback; and retention.

Each function takes a session factory and plain values, commits, and returns the new row's id; after it returns
the record is durable (SQLite runs with synchronous=FULL).
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.audit import audit
from assistant.desk.logbook import FLUSH_S, Logbook
from assistant.desk.tables import Enquiry, Feedback, IdBlock, QuestionLog, utcnow
from assistant.desk.vocabulary import AuditAction, Channel, EnquiryStatus, Rating
from assistant.errors import InvalidRequest
from assistant.models import Answer

# Bump the version whenever the text changes: each enquiry records the version its sender agreed to.
CONSENT_VERSION = "2026-11-25"
CONSENT_TEXT = (
    "To pass your question to a person, the West Midlands health tech network will store your name, e-mail "
    "address, organisation and message together with this conversation. We use them only to answer your "
    "enquiry, keep them no longer than needed for that, and share them with a partner organisation only if you "
    "agree to that separately. You can ask us to see or delete them at any time."
)
# Enquiries that arrive by e-mail or an imported list were sent to us directly: no consent text was shown, and
# the lawful basis is answering the sender. They record this instead of a consent version.
DIRECT_CONTACT = "direct-contact"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on the phone
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ()-]{7,}\d")
# A UK postcode (SW1A 1AA, B15 2TT, b152tt): it narrows a home to a street.
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)
# A name its writer gives: after "my name is", "I'm", "I am" or "call me" (any case), one to three words that start
# with a capital ("I am a nurse" keeps its words).
_OWN_NAME = re.compile(r"\b((?i:my name is|my name's|i'm|i am|call me)\s+)[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2}")


def redact(text: str) -> str:
    """The text without e-mail addresses, phone numbers, UK postcodes or a name its writer gives ("my name is Ada
    Byron", "I'm Ada"): logs and feedback must not hold personal data."""
    text = _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
    return _OWN_NAME.sub(lambda m: m.group(1) + "[name]", _POSTCODE.sub("[postcode]", text))


@dataclass(frozen=True)
class NewEnquiry:
    name: str
    email: str
    message: str
    channel: str
    consent_version: str
    organisation: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    partner_id: str | None = None
    subject: str | None = None
    source_ref: str | None = None
    acknowledge: bool = True  # False for e-mail whose sender failed SPF, DKIM and DMARC: no mail goes back to it


def find_duplicate(session: Session, email: str, message: str) -> Enquiry | None:
    """An open enquiry from the same sender with the same text (whitespace and case aside)."""
    normal = " ".join(message.split()).lower()
    for candidate in session.scalars(
        select(Enquiry).where(
            Enquiry.email == email, Enquiry.status != EnquiryStatus.RESOLVED, Enquiry.erased_at.is_(None)
        )
    ):
        if " ".join(candidate.message.split()).lower() == normal:
            return candidate
    return None


def _insert(sessions: sessionmaker[Session], row: Enquiry | QuestionLog | Feedback) -> int:
    """Add one row and commit; returns its id."""
    with sessions.begin() as session:
        session.add(row)
        session.flush()
        return row.id


@dataclass(frozen=True)
class Receipt:
    """What storing an enquiry did: its row, whether it is new, and the reference to give its sender."""

    id: int
    created: bool
    reference: str


def new_reference() -> str:
    """A reference for the sender: random, so it says nothing about how many enquiries there are, or which."""
    return "WM-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def create_enquiry(sessions: sessionmaker[Session], new: NewEnquiry) -> Receipt:
    """Store an enquiry, or merge it into an open one with the same sender and text.

    A merged duplicate gets a reference of its own (kept in the merge's audit event), so whoever sent it learns
    nothing about the enquiry it joined. Raises `InvalidRequest` unless its sender agreed to the current consent
    text (or wrote to us directly).
    """
    direct = new.channel in tuple(Channel) and Channel(new.channel).direct and new.consent_version == DIRECT_CONTACT
    if new.consent_version != CONSENT_VERSION and not direct:
        raise InvalidRequest(
            f"Consent version '{new.consent_version}' is not the current one ({CONSENT_VERSION}): "
            "show the current consent text and ask again."
        )
    if new.channel not in tuple(Channel):
        raise InvalidRequest(f"Unknown channel '{new.channel}'; one of {', '.join(Channel)}.")
    now = utcnow()
    email = new.email.strip().lower()
    with sessions.begin() as session:
        duplicate = find_duplicate(session, email, new.message)
        reference = new_reference()
        if duplicate is not None:
            duplicate.duplicates += 1
            merged = {"channel": new.channel, "reference": reference}
            audit(session, duplicate.id, "system", AuditAction.DUPLICATE_MERGED, **merged)
            return Receipt(duplicate.id, False, reference)
        enquiry = Enquiry(
            created_at=now,
            updated_at=now,
            channel=new.channel,
            partner_id=new.partner_id,
            name=new.name.strip(),
            email=email,
            email_domain=email.rsplit("@", 1)[-1] if "@" in email else None,
            organisation=(new.organisation or "").strip() or None,
            subject=(new.subject or "").strip()[:300] or None,
            source_ref=new.source_ref,
            message=new.message.strip(),
            transcript=new.transcript,
            consent_version=new.consent_version,
            consented_at=now,
            status=EnquiryStatus.NEW,
            reference=reference,
        )
        session.add(enquiry)
        session.flush()
        audit(session, enquiry.id, "system", AuditAction.RECEIVED, channel=new.channel)
        return Receipt(enquiry.id, True, reference)


def question_row(
    channel: str, question: str, answer: Answer, latency_ms: float, partner_id: str | None = None
) -> QuestionLog:
    """The log row of one answered (or abstained, or small-talk) question, its text redacted."""
    return QuestionLog(
        channel=channel,
        partner_id=partner_id,
        question=redact(question),
        kind=answer.kind,
        abstained=answer.abstained,
        confidence=answer.confidence,
        sources=sorted({c.source for c in answer.citations}),
        latency_ms=round(latency_ms, 2),
    )


@dataclass(frozen=True)
class NewFeedback:
    """A thumbs up or down on one answer, as a channel received it."""

    channel: str
    question: str
    answer: str
    rating: str  # up | down
    citations: list[str] = field(default_factory=list)
    comment: str | None = None
    question_id: int | None = None
    partner_id: str | None = None


def record_feedback(
    sessions: sessionmaker[Session], new: NewFeedback, logbook: Logbook | None = None, replaces: int | None = None
) -> int:
    """Store a rating with every text redacted; raises `InvalidRequest` for a bad rating or unknown question id.
    `replaces` is the id of the rating it supersedes (the same visitor changed their mind, or added a comment), so
    one answer counts once per visitor.

    The question it rates may still be queued in a logbook (this process's, written on demand; or another
    worker's, written within `FLUSH_S`): it is waited for, briefly, before the id is called unknown.
    """
    if new.rating not in tuple(Rating):
        raise InvalidRequest("A rating is 'up' or 'down'.")
    if new.question_id is not None and not _question_logged(sessions, new.question_id, logbook):
        raise InvalidRequest(f"No logged question {new.question_id}: send the question_id that the answer came with.")
    comment = new.comment.strip() if new.comment else ""
    row = Feedback(
        channel=new.channel,
        partner_id=new.partner_id,
        question_id=new.question_id,
        question=redact(new.question),
        answer=redact(new.answer),
        citations=[redact(c) for c in new.citations],
        rating=new.rating,
        comment=redact(comment) if comment else None,
    )
    with sessions.begin() as session:
        if replaces is not None:
            session.execute(delete(Feedback).where(Feedback.id == replaces))
        session.add(row)
        session.flush()
        return row.id


def withdraw_feedback(sessions: sessionmaker[Session], feedback_id: int) -> None:
    with sessions.begin() as session:
        session.execute(delete(Feedback).where(Feedback.id == feedback_id))


def _question_logged(sessions: sessionmaker[Session], question_id: int, logbook: Logbook | None) -> bool:
    if logbook is not None and logbook.pending(question_id):
        logbook.flush()
    with sessions() as session:
        issued = session.scalar(select(IdBlock.next_id).where(IdBlock.name == "question_log")) or 0
    if not 0 < question_id < issued:
        return False  # never handed out: no need to wait for it
    deadline = time.monotonic() + 3 * FLUSH_S
    while True:
        with sessions() as session:
            if session.get(QuestionLog, question_id) is not None:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(FLUSH_S / 4)


def purge_questions(sessions: sessionmaker[Session], days: int) -> int:
    """Delete logged questions older than `days`; returns how many went."""
    cutoff = utcnow() - timedelta(days=days)
    with sessions.begin() as session:
        result = session.execute(delete(QuestionLog).where(QuestionLog.created_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
