"""Staff accounts: argon2-hashed passwords, lockout after repeated failures, server-side sessions.

Sessions live in the database (only a hash of the cookie value), so every worker and every replica sees them.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import AssistantError, InvalidRequest
from assistant.tables import StaffSession, StaffUser, aware, utcnow

ROLES = ("admin", "staff")
MAX_FAILURES = 5  # failed sign-ins in a row before the account locks
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 12
_hasher = PasswordHasher()


class SignInRefused(AssistantError):
    """Wrong e-mail or password, or the account is locked. The message never says which account exists."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    email: str
    role: str


def add_staff(sessions: sessionmaker[Session], email: str, password: str, role: str) -> StaffMember:
    """Create an account, or reset the password and role of an existing one."""
    if role not in ROLES:
        raise InvalidRequest(f"Role must be one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"Use a password of at least {MIN_PASSWORD} characters.")
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"Not an e-mail address: {exc}") from None
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = StaffUser(email=email, role=role, password_hash=_hasher.hash(password), failed_logins=0)
            session.add(user)
        else:
            user.role, user.password_hash, user.failed_logins, user.locked_until = role, _hasher.hash(password), 0, None
        session.flush()
        return StaffMember(user.id, user.email, user.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(sessions: sessionmaker[Session], email: str, password: str) -> str:
    """A new session token for the account; raises `SignInRefused` (and counts the failure) otherwise."""
    refused = SignInRefused("Wrong e-mail or password, or the account is locked for a while. Try again later.")
    now = utcnow()
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        if user is None:
            _hasher.hash(password)  # same work as a real check: timing does not reveal which accounts exist
            raise refused
        locked = user.locked_until is not None and aware(user.locked_until) > now
        try:
            ok = not locked and _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, InvalidHashError):
            ok = False
        if not ok:
            if not locked:
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILURES:
                    user.locked_until, user.failed_logins = now + LOCKOUT, 0
            session.flush()
            session.commit()
            raise refused
        user.failed_logins, user.locked_until = 0, None
        token = secrets.token_urlsafe(32)
        session.add(
            StaffSession(token_hash=_digest(token), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME)
        )
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        return token


def member_for(sessions: sessionmaker[Session], token: str | None) -> StaffMember | None:
    """The signed-in staff member for a session cookie, or None."""
    if not token:
        return None
    with sessions() as session:
        row = session.execute(
            select(StaffUser, StaffSession.expires_at)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.token_hash == _digest(token))
        ).first()
    if row is None or aware(row[1]) <= utcnow():
        return None
    return StaffMember(row[0].id, row[0].email, row[0].role)


def sign_out(sessions: sessionmaker[Session], token: str | None) -> None:
    if token:
        with sessions.begin() as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))
