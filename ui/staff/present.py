"""How the staff pages say things: times in the reader's zone, ages ("3 h ago"), due times, the audit trail and the
classifier's reasons in words. Plain functions of the desk's dicts; the templates call them as filters."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.desk import AuditAction, EnquiryStatus, MailKind, Priority
from assistant.desk.views import AuditEntry

PRIORITY_ORDER = tuple(reversed(Priority))  # the most pressing first, as staff scan them


def status_label(status: str | None) -> str:
    """ "In progress" for `in_progress`; anything unknown as it is."""
    return EnquiryStatus(status).label if status in tuple(EnquiryStatus) else str(status or "")


def zone(name: str | None, default: str) -> ZoneInfo:
    """The named IANA time zone, else `default` (a browser may report anything; a bad name is not an error)."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def parse(iso: str | datetime | None) -> datetime | None:
    if iso is None or iso == "":
        return None
    when = iso if isinstance(iso, datetime) else datetime.fromisoformat(iso)
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite gives naive UTC


def local_time(iso: str | datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """ "14:02" today, "24 Nov, 14:02" this year, "24 Nov 2025, 14:02" before."""
    when = parse(iso)
    if when is None:
        return ""
    here = when.astimezone(tz)
    today = (now or datetime.now(UTC)).astimezone(tz)
    if here.date() == today.date():
        return here.strftime("%H:%M")
    if here.year == today.year:
        return f"{here.day} {here:%b}, {here:%H:%M}"
    return f"{here.day} {here:%b %Y}, {here:%H:%M}"


def span(delta: timedelta) -> str:
    """A duration the way an inbox says it: 45 s, 12 min, 3 h, 4 d, 6 wk; rounded to the nearest unit, not cut
    down ("2 d" for 47 h left, not "1 d")."""
    seconds = max(0.0, delta.total_seconds())
    for unit, size in (("wk", 604_800), ("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size * (2 if unit == "wk" else 1):
            return f"{int(seconds / size + 0.5)} {unit}"
    return f"{int(seconds)} s"


def hours(value: float | None) -> str:
    """A measured number of hours as a duration ("36 min", "4 h"), or "–" when there was nothing to measure."""
    return "–" if value is None else span(timedelta(hours=value))


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 document", "3 documents" ("1 enquiry", "2 enquiries" with `many`)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def age(iso: str | datetime | None, now: datetime | None = None) -> str:
    when = parse(iso)
    if when is None:
        return ""
    delta = (now or datetime.now(UTC)) - when
    return "just now" if delta < timedelta(minutes=1) else f"{span(delta)} ago"


def due(iso: str | datetime | None, breached: bool, now: datetime | None = None) -> str:
    """ "due in 5 h", "overdue by 2 d", or "" without a due time."""
    when = parse(iso)
    if when is None:
        return ""
    delta = when - (now or datetime.now(UTC))
    return f"overdue by {span(-delta)}" if breached or delta.total_seconds() < 0 else f"due in {span(delta)}"


def person(actor: str | None) -> str:
    """A name to read: "kim.lee@cluster.example" → "Kim Lee"; the system's own steps are the assistant's."""
    if not actor or actor == "system":
        return "The assistant"
    if actor == "cli":
        return "An operator (command line)"
    local = actor.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part) or actor


def category_label(name: str | None) -> str:
    return (name or "not triaged").replace("-", " ")


def _triaged(d: dict[str, Any]) -> str:
    text = f"sorted it as {category_label(d.get('category'))}, {d.get('priority', 'normal')} priority"
    if d.get("confidence") is not None:
        text += f" ({float(d['confidence']):.0%} sure"
        text += ", needs review)" if d.get("needs_review") else ")"
    return text


def _mail(d: dict[str, Any]) -> str:
    kind = d.get("kind", "")
    return MailKind(kind).label if kind in tuple(MailKind) else "message"


def _received(d: dict[str, Any]) -> str:
    reopened = d.get("before") in (EnquiryStatus.RESOLVED, EnquiryStatus.WAITING)
    return "received a reply by e-mail" + (" and reopened it" if reopened else "")


AUDIT_WORDS: dict[str, Any] = {  # keyed by `AuditAction`: a str-valued enum, so the stored string finds it
    AuditAction.RECEIVED: lambda d: f"received it by {d.get('channel', 'an unknown channel')}",
    AuditAction.DUPLICATE_MERGED: lambda d: f"merged in the same message sent again by {d.get('channel', 'a channel')}",
    AuditAction.TRIAGED: _triaged,
    AuditAction.CATEGORY_CORRECTED: lambda d: (
        f"changed the category from {category_label(d.get('before'))} to {category_label(d.get('after'))}"
    ),
    AuditAction.ASSIGNED: lambda d: f"assigned it to {person(d['after'])}" if d.get("after") else "unassigned it",
    AuditAction.NOTE_ADDED: lambda d: "added a note",
    AuditAction.REPLY_APPROVED: lambda d: (
        "approved the reply" + (" after editing the draft" if d.get("edited") else "")
    ),
    AuditAction.STATUS_CHANGED: lambda d: (
        f"moved it from {status_label(d.get('before'))} to {status_label(d.get('after'))}"
    ),
    AuditAction.REOPENED: lambda d: "reopened it",
    AuditAction.PARTNER_CONSENT: lambda d: f"recorded the enquirer's consent to share with {d.get('partner')}",
    AuditAction.SHARED_WITH_PARTNER: lambda d: f"shared the enquirer's details with {d.get('partner')}",
    AuditAction.ERASED: lambda d: "erased the enquirer's personal data",
    AuditAction.SUBJECT_EXPORTED: lambda d: "exported the enquirer's personal data",
    AuditAction.MAIL_SENT: lambda d: f"sent the {_mail(d)} by e-mail to {d.get('to') or 'its recipient'}",
    AuditAction.MAIL_FAILED: lambda d: f"could not send the {_mail(d)} ({d.get('error', 'refused')})",
    AuditAction.MAIL_RETRIED: lambda d: f"queued the {_mail(d)} to be sent again",
    AuditAction.MAIL_RECEIVED: _received,
    AuditAction.ACKNOWLEDGEMENT_SKIPPED: lambda d: (
        f"sent no acknowledgement ({d.get('reason') or 'a limit was reached'})"
    ),
    AuditAction.LINKED: lambda d: f"linked it to {d.get('to')}: {d.get('why', 'related mail')}",
}


def audit_sentence(event: AuditEntry, tz: ZoneInfo, now: datetime | None = None) -> str:
    """One audit event in words: "Kim approved the reply, 14:02"."""
    words = AUDIT_WORDS.get(event.what)
    did = words(event.detail or {}) if words else event.what.replace("_", " ")
    return f"{person(event.who)} {did}, {local_time(event.at, tz, now)}"


def reasons_text(reasons: dict[str, Any] | None) -> list[str]:
    """Why the classifier chose its category, as sentences."""
    reasons = reasons or {}
    lines = []
    ranked = reasons.get("ranked") or []
    if ranked:
        lines.append("Closest categories: " + ", ".join(f"{category_label(n)} {p:.0%}" for n, p in ranked) + ".")
    evidence = reasons.get("evidence") or []
    if evidence:
        lines.append("Most like: " + "; ".join(f"“{e}”" for e in evidence) + ".")
    cues = reasons.get("urgency_cues") or []
    if cues:
        lines.append("Urgency cues: " + ", ".join(cues) + ".")
    return lines
