"""The staff console in Chromium: sign in, read the inbox, open an enquiry, edit and approve the reply, read the audit
trail in words; the same by keyboard alone; axe on every page; a phone's width. Screenshots go to test-output/."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from assistant.desk import Desk, NewEnquiry
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import Enquiry
from assistant.engine.assistant import Assistant
from tests.helpers import REPO, axe_violations, serve_app
from ui.app import create_app

SHOTS = REPO / "test-output" / "browser"
PASSWORD = "a long enough password"
TRANSCRIPT = [
    {"role": "user", "content": "Who can get access to PIONEER data?"},
    {"role": "assistant", "content": "PIONEER is a health data research hub. [1]"},
]


@pytest.fixture(scope="module")
def console(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[type-arg]
    """A served app with an empty database, one staff account and enquiries from the chat, a widget and the API."""
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("console")})
    sessions = open_database(settings)
    add_staff(sessions, "kim.lee@cluster.example", PASSWORD, "staff")
    desk = Desk.open(settings, assistant, sessions)
    joining = "We would like to join the network as a small clinic. How do we become members?"
    desk.enquiries.receive(
        NewEnquiry("Sam Jones", "sam@clinic.example", joining, "chat", CONSENT_VERSION, transcript=TRANSCRIPT)
    )
    access = "Our company would like access to PIONEER health data under licence for a study."
    desk.enquiries.receive(
        NewEnquiry(
            "Robin Patel",
            "robin@medtech.example",
            access,
            "widget",
            CONSENT_VERSION,
            "MedTech Ltd",
            partner_id="test-partner",
        )
    )
    with serve_app(create_app(settings, desk)) as url:
        body = {
            "name": "Ada Byron",
            "email": "ada@uni.example",
            "organisation": "University of Example",
            "message": "Is there funding for a digital health pilot in Birmingham hospitals?",
            "consent": True,
            "consent_version": CONSENT_VERSION,
        }
        assert httpx.post(f"{url}/api/enquiries", json=body).status_code == 201
        yield {"url": url, "sessions": sessions}


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/staff/")
    expect(page).to_have_url(f"{url}/login")  # not signed in: sent to sign in
    page.get_by_label("E-mail").fill("kim.lee@cluster.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def robin_id(console: dict) -> int:  # type: ignore[type-arg]
    with console["sessions"]() as session:
        return int(session.scalars(select(Enquiry.id).where(Enquiry.email == "robin@medtech.example")).one())


def test_inbox_open_edit_approve_and_the_audit_trail_in_words(page: Page, console: dict) -> None:  # type: ignore[type-arg]
    sign_in(page, console["url"])
    rows = page.get_by_role("table", name="Enquiries").locator("tbody tr")
    expect(rows).to_have_count(3)
    subjects = {
        "chat": "We would like to join the network as a small clinic.",
        "widget": "Our company would like access to PIONEER health data under licence for a",
        "api": "Is there funding for a digital health pilot in Birmingham hospitals?",
    }
    for channel, subject in subjects.items():
        row = rows.filter(has_text=subject)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(channel)
        expect(row.locator("td.age")).to_have_text("just now")
    expect(page.get_by_role("navigation", name="Status")).to_contain_text("Triaged 3")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "staff-inbox.png"), full_page=True)

    rows.filter(has_text="Robin Patel").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("access to PIONEER health data")
    expect(page.get_by_role("region", name="Conversation")).to_contain_text("under licence for a study")
    expect(page.get_by_role("region", name="Classification")).to_contain_text("sure")
    reply = page.get_by_label("Reply to Robin Patel")
    draft = reply.input_value()
    assert draft.startswith("Dear Robin,") and "[1]" in draft
    expect(page.locator("ol.sources li").first).to_be_visible()
    reply.fill(draft.replace("Kind regards,", "I have also copied in our data lead.\n\nKind regards,"))
    page.get_by_role("button", name="Send and resolve").click()
    expect(page.get_by_role("status")).to_have_text("Reply saved. Not sent: no mail server is configured.")
    expect(page.locator(".kind-mail_out").last).to_contain_text("copied in our data lead")
    expect(reply).to_have_value("")  # the composer clears once the reply is sent
    expect(page.locator(".head .chip.status")).to_have_text("Resolved")
    expect(page.get_by_label("Status")).to_have_value("resolved")  # the control shows where it is, not a step back
    expect(page.locator(".kind-mail_out .delivery").last).to_contain_text(re.compile("queued|not sent"))
    page.get_by_text("Audit trail").click()
    trail = page.locator("#audit")
    expect(trail).to_contain_text("The assistant received it by widget")
    expect(trail).to_contain_text("Kim Lee approved the reply after editing the draft, ")
    assert "{" not in trail.inner_text()  # words, not JSON
    page.screenshot(path=str(SHOTS / "staff-enquiry.png"), full_page=True)
    with console["sessions"]() as session:
        stored = session.get_one(Enquiry, robin_id(console))
    assert stored.approved_by == "kim.lee@cluster.example" and "copied in our data lead" in (stored.reply or "")


def test_the_same_by_keyboard_alone(page: Page, console: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{console['url']}/login")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    page.keyboard.type("kim.lee@cluster.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("back to the inbox")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.closest('tr').innerText")
    assert "Robin Patel" in focused  # the second newest: rows are newest first
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{console['url']}/staff/enquiries/{robin_id(console)}")
    page.keyboard.press("r")
    expect(page.get_by_label("Reply to Robin Patel")).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nPS: sent from the keyboard.")
    for _ in range(20):  # past the sources' links to the button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Send":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Reply saved. Not sent: no mail server is configured.")
    page.keyboard.press("g")
    page.keyboard.press("i")
    expect(page).to_have_url(f"{console['url']}/staff/")
    with console["sessions"]() as session:
        assert "sent from the keyboard" in (session.get_one(Enquiry, robin_id(console)).reply or "")


def test_filters_update_the_list_in_place(page: Page, console: dict) -> None:  # type: ignore[type-arg]
    sign_in(page, console["url"])
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Channel").select_option("widget")
    expect(page).to_have_url(f"{console['url']}/staff/?channel=widget")
    rows = page.get_by_role("table", name="Enquiries").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Robin Patel")
    page.get_by_label("Search").fill("no enquiry says this")
    expect(page.get_by_text("No enquiries match these filters.")).to_be_visible()
    assert page.evaluate("window.notReloaded === true")  # htmx swapped the results; the page stayed
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(1)
    page.keyboard.press("Escape")
    rows.get_by_role("link").click()
    expect(page.get_by_role("link", name="← Inbox")).to_have_attribute("href", "/staff/?channel=widget")
    page.get_by_label("Internal note").fill("Called them back.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_be_focused()  # the outcome is announced where focus is
    expect(page.locator(".kind-note")).to_contain_text("Called them back.")


def test_axe_on_every_page_and_a_phone_width(page: Page, console: dict) -> None:  # type: ignore[type-arg]
    url = console["url"]
    page.goto(f"{url}/login")
    assert axe_violations(page) == [], "login"
    sign_in(page, url)
    enquiry = f"{url}/staff/enquiries/{robin_id(console)}"
    for address in (f"{url}/staff/", enquiry, f"{url}/staff/gaps", f"{url}/staff/figures", f"{url}/staff/mail"):
        page.goto(address)
        assert axe_violations(page) == [], address
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), address
        if address.endswith("/figures"):
            page.get_by_role("img", name="Enquiries by category per week").wait_for()
            page.screenshot(path=str(SHOTS / "staff-figures.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    for address, shot in ((f"{url}/staff/", "staff-inbox-phone.png"), (enquiry, "staff-enquiry-phone.png")):
        page.goto(address)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, address
        page.screenshot(path=str(SHOTS / shot), full_page=True)
    for name in ("Send", "Send and resolve", "Move", "Assign", "Correct", "Add note", "Sign out"):
        button = page.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, name
    page.get_by_text("Partner consent and sharing").click()
    expect(page.get_by_role("button", name="Record consent")).to_have_count(0)  # an admin's to record (N16)
    note = page.get_by_text("An admin records an enquirer's consent")
    note.scroll_into_view_if_needed()
    expect(note).to_be_in_viewport()
    assert axe_violations(page) == [], "enquiry at 390 px"


def test_times_follow_the_browsers_time_zone(page: Page, console: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    context = page.context.browser.new_context(timezone_id="Asia/Tokyo")  # type: ignore[union-attr]
    tokyo = context.new_page()
    sign_in(tokyo, console["url"])
    expect(tokyo.locator("footer")).to_have_text("Times are shown in Asia/Tokyo.")
    context.close()
