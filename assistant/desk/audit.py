"""The audit trail's one writer: who did what and when, added in the same transaction as the change it records, so
the trail can never disagree with the data."""

from typing import Any

from sqlalchemy.orm import Session

from assistant.desk.tables import AuditEvent, utcnow
from assistant.desk.vocabulary import AuditAction


def audit(session: Session, enquiry_id: int | None, actor: str, action: AuditAction, **detail: Any) -> None:
    """Record an action (about an enquiry, or about the desk itself with None)."""
    session.add(AuditEvent(enquiry_id=enquiry_id, actor=actor, action=action.value, detail=detail, created_at=utcnow()))
