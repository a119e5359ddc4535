"""How the staff pages say things: times in the reader's zone, ages ("3 h ago"), due times, the audit trail and the
classifier's reasons in words. Plain functions of the desk's dicts; the templates call them as filters."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIORITY_ORDER = ("urgent", "high", "normal", "low")
STATUS_LABELS = {
    "new": "New",
    "triaged": "Triaged",
    "in_progress": "In progress",
    "waiting": "Waiting",
    "resolved": "Resolved",
}


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
    """A duration the way an inbox says it: 45 s, 12 min, 3 h, 4 d, 6 wk."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("wk", 604_800), ("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size * (2 if unit == "wk" else 1):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


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


MAIL_WORDS = {
    "acknowledgement": "acknowledgement",
    "signpost": "signpost to NHS services",
    "reply": "reply",
    "assigned": "assignment notice",
    "routed": "routing notice",
    "shared": "enquiry to the partner",
}


def _mail(d: dict[str, Any]) -> str:
    return MAIL_WORDS.get(d.get("kind", ""), "message")


def _received(d: dict[str, Any]) -> str:
    reopened = d.get("before") in ("resolved", "waiting")
    return "received a reply by e-mail" + (" and reopened it" if reopened else "")


AUDIT_WORDS: dict[str, Any] = {
    "received": lambda d: f"received it by {d.get('channel', 'an unknown channel')}",
    "duplicate_merged": lambda d: f"merged in the same message sent again by {d.get('channel', 'a channel')}",
    "triaged": _triaged,
    "category_corrected": lambda d: (
        f"changed the category from {category_label(d.get('before'))} to {category_label(d.get('after'))}"
    ),
    "assigned": lambda d: f"assigned it to {person(d['after'])}" if d.get("after") else "unassigned it",
    "note_added": lambda d: "added a note",
    "reply_approved": lambda d: "approved the reply" + (" after editing the draft" if d.get("edited") else ""),
    "status": lambda d: (
        f"moved it from {STATUS_LABELS.get(d.get('before', ''), d.get('before'))} to "
        f"{STATUS_LABELS.get(d.get('after', ''), d.get('after'))}"
    ),
    "reopened": lambda d: "reopened it",
    "partner_consent": lambda d: f"recorded the enquirer's consent to share with {d.get('partner')}",
    "shared_with_partner": lambda d: f"shared the enquirer's details with {d.get('partner')}",
    "erased": lambda d: "erased the enquirer's personal data",
    "subject_exported": lambda d: "exported the enquirer's personal data",
    "mail_sent": lambda d: f"sent the {_mail(d)} by e-mail to {d.get('to') or 'its recipient'}",
    "mail_failed": lambda d: f"could not send the {_mail(d)} ({d.get('error', 'refused')})",
    "mail_retried": lambda d: f"queued the {_mail(d)} to be sent again",
    "mail_received": _received,
    "acknowledgement_skipped": lambda d: f"sent no acknowledgement ({d.get('reason') or 'a limit was reached'})",
    "linked": lambda d: f"linked it to {d.get('to')}: {d.get('why', 'related mail')}",
}


def audit_sentence(event: dict[str, Any], tz: ZoneInfo, now: datetime | None = None) -> str:
    """One audit event in words: "Kim approved the reply, 14:02"."""
    words = AUDIT_WORDS.get(event["what"])
    detail = event.get("detail") or {}
    did = words(detail) if words else str(event["what"]).replace("_", " ")
    return f"{person(event.get('who'))} {did}, {local_time(event.get('at'), tz, now)}"


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
