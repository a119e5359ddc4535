"""How staff pages say things: ages, due times, local times, the audit trail and reasons in words; the chart."""

from datetime import UTC, datetime, timedelta

from assistant.desk.inbox import title
from assistant.desk.views import AuditEntry, Weekly
from ui.staff.chart import weekly_bars
from ui.staff.present import age, audit_sentence, due, hours, local_time, person, plural, reasons_text, zone

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
LONDON, TOKYO = zone("Europe/London", "UTC"), zone("Asia/Tokyo", "UTC")


def test_ages_and_due_times_read_as_an_inbox_says_them() -> None:
    assert age(NOW - timedelta(seconds=20), NOW) == "just now"
    assert age((NOW - timedelta(hours=3, minutes=5)).isoformat(), NOW) == "3 h ago"
    assert age(NOW - timedelta(days=9), NOW) == "9 d ago" and age(NOW - timedelta(days=30), NOW) == "4 wk ago"
    assert due(NOW + timedelta(hours=5, minutes=1), False, NOW) == "due in 5 h"
    assert due(NOW - timedelta(days=2), True, NOW) == "overdue by 2 d" and due(None, False, NOW) == ""
    naive = "2026-11-25T14:00:00"  # SQLite hands back naive UTC
    assert age(naive, NOW) == "30 min ago"


def test_durations_round_honestly_and_plurals_agree() -> None:
    """Issue 30: 47 h left is "2 d", not "1 d"; nothing measured is "–", not "0.0 h"."""
    assert due(NOW + timedelta(hours=47), False, NOW) == "due in 2 d"
    assert due(NOW + timedelta(hours=25), False, NOW) == "due in 1 d"
    assert hours(None) == "–" and hours(0.6) == "36 min" and hours(0.004) == "14 s" and hours(5.2) == "5 h"
    assert plural(1, "document") == "1 document" and plural(3, "document") == "3 documents"
    assert plural(2, "enquiry", "enquiries") == "2 enquiries"


def test_times_are_in_the_readers_zone() -> None:
    assert local_time("2026-11-25T13:02:00+00:00", LONDON, NOW) == "13:02"
    assert local_time("2026-11-25T13:02:00+00:00", TOKYO, NOW) == "22:02"
    assert local_time("2026-07-01T13:02:00+00:00", LONDON, NOW) == "1 Jul, 14:02"  # summer time
    assert local_time("2025-07-01T13:02:00+00:00", LONDON, NOW) == "1 Jul 2025, 14:02"
    assert str(zone("Not/AZone", "Europe/London")) == "Europe/London" and str(zone("", "nor this")) == "UTC"


def test_the_audit_trail_in_words() -> None:
    at = "2026-11-25T14:02:00+00:00"
    events = [
        ("reply_approved", "kim@cluster.example", {}),
        ("triaged", "system", {"category": "health-data-access", "priority": "high", "confidence": 0.81}),
        ("assigned", "jo.bloggs@x.example", {"after": None}),
        ("status", "cli", {"before": "triaged", "after": "in_progress"}),
        ("something_new", "kim@x.example", {}),
    ]
    said = [audit_sentence(AuditEntry(at, who, w, d), LONDON, NOW) for w, who, d in events]
    assert said == [
        "Kim approved the reply, 14:02",
        "The assistant sorted it as health data access, high priority (81% sure), 14:02",
        "Jo Bloggs unassigned it, 14:02",
        "An operator (command line) moved it from Triaged to In progress, 14:02",
        "Kim something new, 14:02",
    ]
    assert person("system") == "The assistant"


def test_reasons_and_subject_lines() -> None:
    reasons = {
        "ranked": [["press", 0.7], ["investment", 0.2]],
        "evidence": ["A journalist asks"],
        "urgency_cues": ["deadline"],
    }
    assert reasons_text(reasons) == [
        "Closest categories: press 70%, investment 20%.",
        "Most like: “A journalist asks”.",
        "Urgency cues: deadline.",
    ]
    assert title("  Re:  funding  ", "ignored") == "Re: funding"
    assert title(None, "Hello there. We are a small company.") == "Hello there."
    long = title(None, "word " * 40)
    assert long.endswith("…") and len(long) <= 91 and not long[:-1].endswith(" ")


def test_the_weekly_chart_stacks_each_category_in_its_week() -> None:
    chart = weekly_bars(
        Weekly(["2026-11-09", "2026-11-16", "2026-11-23"], {"press": [1, 0, 3], "investment": [2, 0, 4]})
    )
    # A peak of 7 tops the axis at 10, with a gridline every 2.
    assert chart.total == 10 and [v for _, v in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert [b.label for b in chart.bars] == [
        "Week of 9 Nov: press 1",
        "Week of 9 Nov: investment 2",
        "Week of 23 Nov: press 3",
        "Week of 23 Nov: investment 4",
    ]
    tallest = sum(b.height for b in chart.bars if "23 Nov" in b.label)
    assert abs(tallest - 190 * 7 / 10) < 0.01  # plot height 190 px
    assert chart.summary == "10 enquiries in 3 weeks; the busiest week began 23 Nov (7)."
    assert weekly_bars(Weekly(["2026-11-23"], {})).bars == []
