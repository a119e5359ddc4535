"""The staff console's pages over a real server: CSRF on every state-changing request, a strict CSP on every page,
the inbox's filters, search, sort, pages and counts, previous/next, and plain forms that work without script."""

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from assistant.desk import Desk
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION, NewEnquiry, create_enquiry
from assistant.desk.tables import Enquiry, utcnow
from assistant.engine.assistant import Assistant
from tests.helpers import serve_app, staff_client
from ui.app import create_app

PASSWORD = "a long enough password"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.fixture(scope="module")
def site(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[type-arg]
    """30 enquiries stored directly (no triage: fast, and their fields are set by hand), two staff accounts."""
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("pages")})
    sessions = open_database(settings)
    add_staff(sessions, "kim@cluster.example", PASSWORD, "staff")
    add_staff(sessions, "lou@cluster.example", PASSWORD, "staff")
    add_staff(sessions, "ana@cluster.example", PASSWORD, "admin")
    now = utcnow()
    for i in range(30):
        message, channel = f"Message number {i:02d} about widgets.", "api" if i % 2 else "chat"
        subject = f"Subject {i:02d}" if i < 5 else None
        sender = (f"Person {i:02d}", f"p{i}@org{i % 3}.example")
        made = create_enquiry(sessions, NewEnquiry(*sender, message, channel, CONSENT_VERSION, subject=subject))
        with sessions.begin() as session:
            row = session.get_one(Enquiry, made.id)
            row.created_at = now - timedelta(hours=30 - i)  # Person 29 is the newest
            row.due_at = now + timedelta(hours=i - 2.5)  # Persons 00-02 are overdue
            row.category = "press" if i % 3 == 0 else "investment"
            row.priority = "urgent" if i == 7 else "normal"
            row.status = "resolved" if i >= 25 else "triaged"
            row.assignee = "lou@cluster.example" if i in (4, 5) else None
    with serve_app(create_app(settings, Desk.open(settings, assistant, sessions))) as url:
        yield {"url": url, "sessions": sessions}


def rows(page: str) -> list[str]:
    return re.findall(r'<a class="open" href="[^"]+">([^<]+)</a>', page)


def test_state_changing_requests_need_the_sessions_csrf_token(site: dict) -> None:  # type: ignore[type-arg]
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    token = kim.headers.pop("X-CSRF-Token")
    form = {"note": "a note"}
    assert kim.post("/staff/enquiries/1/note", data=form).status_code == 403
    assert kim.post("/staff/enquiries/1/note", data=form | {"csrf_token": "0" * 64}).status_code == 403
    lou = staff_client(site["url"], "lou@cluster.example", PASSWORD)  # another session's token is no use
    borrowed = form | {"csrf_token": lou.headers["X-CSRF-Token"]}
    assert kim.post("/staff/enquiries/1/note", data=borrowed).status_code == 403
    assert kim.post("/api/staff/enquiries/1", json={"note": "x"}).status_code == 403
    assert kim.delete("/api/staff/subjects/p1@org1.example").status_code == 403
    assert kim.post("/api/staff/sign-out-everywhere").status_code == 403
    assert kim.post("/logout").status_code == 403  # a forged sign-out is refused too
    saved = kim.post("/staff/enquiries/1/note", data=form | {"csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/staff/enquiries/1?done=note"
    assert kim.post("/api/staff/enquiries/1", json={"note": "y"}, headers={"X-CSRF-Token": token}).status_code == 200
    page = kim.get("/staff/enquiries/1").text
    assert f'name="csrf_token" value="{token}"' in page and f'"X-CSRF-Token": "{token}"' in page


def test_every_staff_page_holds_a_strict_csp(site: dict) -> None:  # type: ignore[type-arg]
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    pages = ("/staff/", "/staff/enquiries/1", "/staff/gaps", "/staff/figures", "/staff/mail", "/staff/documents")
    for path in (*pages, "/login", "/logout"):
        response = kim.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "default-src 'self'" in policy
        assert not INLINE_SCRIPT.search(response.text) and " style=" not in response.text, path
        assert "gradio" not in response.text.lower(), path
    assert kim.get("/ui/vendor/htmx-2.0.11.min.js").status_code == 200
    assert "Zero-Clause BSD" in kim.get("/ui/vendor/htmx-2.0.11.LICENSE").text


def test_inbox_filters_search_sort_pages_and_counts(site: dict) -> None:  # type: ignore[type-arg]
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    first = kim.get("/staff/").text
    assert rows(first)[:2] == ["Message number 29 about widgets.", "Message number 28 about widgets."]
    assert len(rows(first)) == 25 and "Page 1 of 2 · 30 enquiries" in first
    assert 'Triaged <span class="n">25</span>' in first and 'Resolved <span class="n">5</span>' in first
    second = kim.get("/staff/", params={"page": 2}).text
    assert rows(second)[-1] == "Subject 00" and "Page 2 of 2" in second
    overdue = kim.get("/staff/", params={"overdue": "1"}).text
    assert set(rows(overdue)) == {"Subject 00", "Subject 01", "Subject 02"}
    assert "overdue by" in overdue
    by_due = rows(kim.get("/staff/", params={"sort": "due", "status": "triaged"}).text)
    assert by_due[:2] == ["Subject 00", "Subject 01"] and len(by_due) == 25
    assert rows(kim.get("/staff/", params={"priority": "urgent"}).text) == ["Message number 07 about widgets."]
    assert rows(kim.get("/staff/", params={"q": "number 13"}).text) == ["Message number 13 about widgets."]
    assert set(rows(kim.get("/staff/", params={"assignee": "lou@cluster.example"}).text)) == {
        "Subject 04",
        "Message number 05 about widgets.",
    }
    chat_press = kim.get("/staff/", params={"channel": "chat", "category": "press"}).text
    assert rows(chat_press) == [f"Message number {i:02d} about widgets." for i in (24, 18, 12, 6)] + ["Subject 00"]
    assert "No enquiries match these filters." in kim.get("/staff/", params={"q": "nothing like this"}).text
    kim.post("/api/staff/enquiries/9", json={"note": "Spoke to their zebra specialist"})
    assert rows(kim.get("/staff/", params={"q": "ZEBRA"}).text) == ["Message number 08 about widgets."]
    partial = kim.get("/staff/", params={"status": "resolved"}, headers={"HX-Request": "true"}).text
    assert 'id="results"' in partial and len(rows(partial)) == 5


def test_previous_and_next_walk_the_inbox_as_filtered(site: dict) -> None:  # type: ignore[type-arg]
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    ids = [int(i) for i in re.findall(r'href="/staff/enquiries/(\d+)\?overdue=1"', kim.get("/staff/?overdue=1").text)]
    middle = kim.get(f"/staff/enquiries/{ids[2]}", params={"overdue": "1"}).text
    assert f'href="/staff/enquiries/{ids[0]}?overdue=1" id="previous"' in middle
    assert f'href="/staff/enquiries/{ids[4]}?overdue=1" id="next"' in middle  # each row links twice (row, subject)
    assert kim.get("/staff/enquiries/999999").status_code == 404


def test_actions_work_as_plain_forms_and_in_place(site: dict) -> None:  # type: ignore[type-arg]
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    form = {"csrf_token": kim.headers["X-CSRF-Token"]}
    moved = kim.post("/staff/enquiries/3/status?q=widgets", data=form | {"status": "in_progress"})
    assert moved.status_code == 303 and moved.headers["location"] == "/staff/enquiries/3?q=widgets&done=status"
    assert "Status changed." in kim.get(moved.headers["location"]).text
    refused = kim.post("/staff/enquiries/3/status", data=form | {"status": "new"})
    assert refused.status_code == 409 and "cannot become" in refused.text
    in_place = kim.post(
        "/staff/enquiries/3/assign", data=form | {"assignee": "lou@cluster.example"}, headers={"HX-Request": "true"}
    )
    assert in_place.status_code == 200 and "Assignment saved." in in_place.text and "assigned to Lou" in in_place.text
    empty = kim.post("/staff/enquiries/3/note", data=form | {"note": "  "}, headers={"HX-Request": "true"})
    assert empty.status_code == 200 and "A note needs some text." in empty.text
    consent = {"partner": "Example Trust", "how": "by phone"}
    assert kim.post("/staff/enquiries/3/consent", data=form | consent).status_code == 403  # an admin's to record
    ana = staff_client(site["url"], "ana@cluster.example", PASSWORD)
    ana.post("/staff/enquiries/3/consent", data={"csrf_token": ana.headers["X-CSRF-Token"]} | consent)
    shared = kim.post("/staff/enquiries/3/share", data=form | {"partner": "Example Trust"})
    assert shared.status_code == 200 and "Shared with the partner: Person 02 &lt;p2@org2.example&gt;" in shared.text
    trail = shared.text[shared.text.index('id="audit"') :]
    for words in (
        "Kim moved it from Triaged to In progress",
        "Kim assigned it to Lou",
        "Ana recorded the enquirer's consent to share with Example Trust",
        "Kim shared the enquirer's details with Example Trust",
    ):
        assert words.replace("'", "&#39;") in trail, words


def test_anonymous_in_place_updates_are_sent_to_sign_in(site: dict) -> None:  # type: ignore[type-arg]
    response = httpx.get(f"{site['url']}/staff/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_messages_say_what_happened_and_controls_show_where_things_are(site: dict) -> None:  # type: ignore[type-arg]
    """Issue 30: an empty reply is refused (not "sent"); Send and resolve moves the status and clears the composer;
    the Status control starts at the current status; Assign is a picker of active staff; a category set by a person
    is not shown with the classifier's confidence; the inbox marks unread and replied enquiries."""
    kim = staff_client(site["url"], "kim@cluster.example", PASSWORD)
    form = {"csrf_token": kim.headers["X-CSRF-Token"]}
    inbox = kim.get("/staff/", params={"q": "Message number 10"}).text
    assert 'class="badge unread"' in inbox  # never opened
    empty = kim.post("/staff/enquiries/11/reply", data=form | {"reply": "  "}, headers={"HX-Request": "true"})
    assert "The reply is empty." in empty.text and "queued" not in empty.text.lower()
    sent = kim.post("/staff/enquiries/11/reply", data=form | {"reply": "Thank you.", "then": "resolved"})
    assert sent.status_code == 303 and "done=reply-resolved" in sent.headers["location"]
    page = kim.get(sent.headers["location"]).text
    assert "Reply saved. Not sent: no mail server is configured." in page
    assert '<textarea id="reply" name="reply" rows="14" maxlength="50000"></textarea>' in page
    assert '<option value="resolved" selected>Resolved (now)</option>' in page
    same = kim.post("/staff/enquiries/11/status", data=form | {"status": "resolved"}, headers={"HX-Request": "true"})
    assert "Nothing changed: that is its status already." in same.text and "Status changed." not in same.text
    picker = page[page.index('id="a-assignee"') : page.index("</select>", page.index('id="a-assignee"'))]
    assert "<select" in page[page.index('id="a-assignee"') - 60 :] and "lou@cluster.example" in picker
    outside = kim.post("/staff/enquiries/11/assign", data=form | {"assignee": "someone@elsewhere.example"})
    assert outside.status_code == 422 and "not an active staff account" in outside.text
    kim.post("/staff/enquiries/11/category", data=form | {"category": "press"})
    corrected = kim.get("/staff/enquiries/11").text
    classification = corrected[corrected.index('id="class-title"') : corrected.index('id="reply-title"')]
    assert "set by Kim" in classification and "% sure" not in classification
    inbox = kim.get("/staff/", params={"q": "Message number 10"}).text
    assert 'class="badge unread"' not in inbox and 'class="chip replied"' in inbox
    assert "No enquiries match" in kim.get("/staff/", params={"unread": "1", "q": "Message number 10"}).text
    assert "Message number 12" in kim.get("/staff/", params={"unread": "1", "q": "Message number 12"}).text


def test_a_first_wrong_password_keeps_the_address_and_does_not_say_later(site: dict) -> None:  # type: ignore[type-arg]
    refused = httpx.post(f"{site['url']}/login", data={"email": "kim@cluster.example", "password": "wrong one"})
    assert refused.status_code == 401 and "Wrong e-mail or password." in refused.text
    assert "later" not in refused.text and 'value="kim@cluster.example"' in refused.text
