"""Staff accounts: argon2-hashed passwords, server-side sessions; sign-in that reveals nothing by its timing.

Sessions live in the database (only a hash of the cookie value), so every worker and every replica sees them.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.tables import StaffSession, StaffUser, aware, utcnow
from assistant.desk.vocabulary import Role
from assistant.errors import AssistantError, InvalidRequest, NotAllowed, NotFound

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified for unknown accounts, so they cost what a real check costs."""
    return _hasher.hash(secrets.token_urlsafe(16))


class SignInRefused(AssistantError):
    """Wrong e-mail or password, or too many failures from this address. It never says which account exists."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    email: str
    role: str


def add_staff(
    sessions: sessionmaker[Session], email: str, password: str, role: str, min_chars: int = 12
) -> StaffMember:
    """Create an account, or reset the password and role of an existing one (which ends its sessions: whoever
    knew the old password may be signed in with it)."""
    if role not in tuple(Role):
        raise InvalidRequest(f"Role must be one of {', '.join(Role)}.")
    if len(password) < min_chars:
        raise InvalidRequest(f"Use a password of at least {min_chars} characters.")
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"Not an e-mail address: {exc}") from None
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = StaffUser(email=email, role=role, password_hash=_hasher.hash(password))
            session.add(user)
        else:
            user.role, user.password_hash = role, _hasher.hash(password)
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        session.flush()
        return StaffMember(user.id, user.email, user.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    sessions: sessionmaker[Session], email: str, password: str, session_hours: int = 8, locked: bool = False
) -> str:
    """A new session token for the account; raises `SignInRefused` otherwise.

    Every refusal costs one argon2 verification, as a success does: an unknown account (checked against a dummy
    hash) and a `locked` one (refused after the check) take as long as a wrong password, so timing tells nothing.
    Counting failures and deciding `locked` is the caller's (per account and client address, in `RateLimits`).
    """
    # Whether the address is locked depends on attempts alone, never on whether the account exists: saying so
    # tells nothing about accounts, and a first wrong password is not told to "try again later".
    refused = SignInRefused("Wrong e-mail or password.")
    now = utcnow()
    with sessions.begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
        try:
            ok = _hasher.verify(user.password_hash if user else _dummy_hash(), password) and user is not None
        except (VerifyMismatchError, InvalidHashError):
            ok = False
        if locked:
            raise SignInRefused("Too many wrong attempts for this account from here. Try again in a few minutes.")
        if not ok or user is None or user.disabled:
            raise refused
        token = secrets.token_urlsafe(32)
        session.add(
            StaffSession(
                token_hash=_digest(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(hours=session_hours),
            )
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
            .where(StaffSession.token_hash == _digest(token), StaffUser.disabled.is_(False))
        ).first()
    if row is None or aware(row[1]) <= utcnow():
        return None
    return StaffMember(row[0].id, row[0].email, row[0].role)


def sign_out(sessions: sessionmaker[Session], token: str | None) -> None:
    if token:
        with sessions.begin() as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def sign_out_everywhere(sessions: sessionmaker[Session], email: str) -> int:
    """End every session of an account; returns how many. Raises `NotFound` for an unknown account."""
    with sessions.begin() as session:
        user = _account(session, email)
        result = session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        return int(getattr(result, "rowcount", 0) or 0)


def active_emails(sessions: sessionmaker[Session]) -> list[str]:
    """Every account that is not disabled, by address."""
    with sessions() as session:
        return list(
            session.scalars(select(StaffUser.email).where(StaffUser.disabled.is_(False)).order_by(StaffUser.email))
        )


def set_disabled(sessions: sessionmaker[Session], email: str, disabled: bool) -> None:
    """Disable an account (its sessions end; sign-in is refused, as for a wrong password) or enable it again."""
    with sessions.begin() as session:
        user = _account(session, email)
        user.disabled = disabled
        if disabled:
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def _account(session: Session, email: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No staff account {email.strip().lower()}.")
    return user


def admin_actor(member: StaffMember | None, action: str) -> str:
    """The actor for an admin-only action; raises `NotAllowed` for staff who are not admins (None is the operator
    at the shell, who may do anything)."""
    if member is not None and member.role != Role.ADMIN:
        raise NotAllowed(f"Only an admin can {action}.")
    return member.email if member else "cli"


class Accounts:
    """Staff accounts and their sign-ins (`desk.accounts`); the CLI opens it alone, without the engine."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings, self.sessions = settings, sessions

    def add(self, email: str, password: str, role: str) -> StaffMember:
        """Create an account, or reset the password and role of an existing one (see `add_staff`)."""
        return add_staff(self.sessions, email, password, role, self.settings.staff_password_min_chars)

    def sign_in(self, email: str, password: str, locked: bool = False) -> str:
        return sign_in(self.sessions, email, password, self.settings.staff_session_hours, locked)

    def member(self, token: str | None) -> StaffMember | None:
        return member_for(self.sessions, token)

    def sign_out(self, token: str | None) -> None:
        sign_out(self.sessions, token)

    def sign_out_everywhere(self, email: str) -> int:
        return sign_out_everywhere(self.sessions, email)

    def set_disabled(self, email: str, disabled: bool) -> None:
        set_disabled(self.sessions, email, disabled)

    def active(self) -> list[str]:
        """The accounts that can be assigned enquiries (not disabled), by address."""
        return active_emails(self.sessions)
