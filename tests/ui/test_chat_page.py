"""The public chat as a visitor uses it, in Debian's Chromium: each answer keeps its own sources and working `[n]`
links, the Chatbot's thumbs (with an optional comment) rate the message they sit under, the starters are answered,
the hand-off is offered inline, axe-core finds nothing serious in any of these states, and a phone needs no
sideways scrolling. Screenshots go to test-output/browser/."""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.desk.tables import Enquiry, Feedback, QuestionLog
from assistant.engine.assistant import Assistant
from tests.helpers import REPO, axe_violations, serve_app
from ui.app import create_app
from ui.chat import DECLINED, RATED

OUTPUT = REPO / "test-output" / "browser"
# Every `[n]` link in the conversation: where it points, whether that exists, and whether it is in the same message.
LINKS = """[...document.querySelectorAll('.message-wrap a[href^="#"]')].map(a => {
  const target = document.getElementById(a.getAttribute('href').slice(1));
  const row = a.closest('.message-row');
  return [a.getAttribute('href'), !!target, !!(target && row && row.contains(target))]; })"""
CARDS_PER_ANSWER = (
    "[...document.querySelectorAll('.message-row.bot-row')].map(r => r.querySelectorAll('.source-card').length)"
)
AT_BOTTOM = "(s => s.scrollHeight - s.scrollTop - s.clientHeight < 2)(document.querySelector('.bubble-wrap'))"
CARD_IDS = "[...document.querySelectorAll('.source-card')].map(e => e.id)"
# Visible buttons and text fields without an accessible name (text, aria-label or a <label>).
UNNAMED_CONTROLS = """[...document.querySelectorAll('button, textarea, input:not([type=hidden])')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.innerText || '').trim() && !e.getAttribute('aria-label') && !e.getAttribute('title')
               && !(e.labels && e.labels.length) && !e.closest('label'))
  .map(e => e.outerHTML.slice(0, 120))"""


@contextmanager
def chat(assistant: Assistant, tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session], Desk]]:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    sessions = open_database(settings)
    desk = Desk.open(settings, assistant, sessions)
    with serve_app(create_app(settings, desk)) as url:
        yield url, sessions, desk


def ask(page: Page, question: str, answers: int) -> None:
    """Ask, and wait until the conversation holds `answers` replies (so the next question is not sent meanwhile)."""
    box = page.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(".message-row.bot-row")).to_have_count(answers, timeout=30_000)
    expect(box).to_have_value("")


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change never arrived"
        time.sleep(0.1)


def test_three_answers_each_keep_their_own_sources_and_links(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    with chat(assistant, tmp_path) as (url, _sessions, _desk):
        page.goto(url + "/")
        questions = ["What is PIONEER?", "What are the four Ds?", "Which universities are in the West Midlands?"]
        for n, question in enumerate(questions, 1):
            ask(page, question, n)
        assert all(count >= 1 for count in page.evaluate(CARDS_PER_ANSWER)), page.evaluate(CARDS_PER_ANSWER)
        ids = page.evaluate(CARD_IDS)
        assert len(ids) == len(set(ids)) >= 3  # unique per message: links and axe both hold
        links = page.evaluate(LINKS)
        assert {href.split("-")[0] for href, *_ in links} == {"#m1", "#m3", "#m5"}
        assert all(found and same for _href, found, same in links), links
        # Gradio scrolls the conversation to its end 300 ms after an answer arrives (and again when its event ends):
        # a link followed before then is scrolled away from. A visitor reads first; the test waits the same way.
        page.wait_for_function(AT_BOTTOM)
        page.wait_for_timeout(1000)
        page.locator('.message-wrap a[href="#m1-source-1"]').first.click()  # the first answer's, two answers up
        assert page.url.endswith("#m1-source-1")
        expect(page.locator("#m1-source-1")).to_be_in_viewport()
        expect(page.locator("#m1-source-1")).to_contain_text("Health Tech in the West Midlands")
        page.locator("#m1-source-1 summary").click()
        expect(page.locator("#m1-source-1 blockquote")).to_contain_text("PIONEER")
        assert axe_violations(page) == []
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "chat-conversation.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(page) == []
        page.screenshot(path=str(OUTPUT / "chat-phone.png"), full_page=True)


def test_thumbs_rate_the_message_they_are_under_with_an_optional_comment(
    page: Page, assistant: Assistant, tmp_path: Path
) -> None:
    with chat(assistant, tmp_path) as (url, sessions, _desk):
        page.goto(url + "/")
        ask(page, "What is PIONEER?", 1)
        expect(page.get_by_label(RATED)).to_be_hidden()
        page.get_by_role("button", name="Dislike", exact=True).click()
        page.get_by_label(RATED).fill("It did not say who may use the data")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Send comment").click()
        expect(page.locator("#status")).to_contain_text("comment was recorded")
        expect(page.get_by_label(RATED)).to_be_hidden()
        ask(page, "What are the four Ds?", 2)
        expect(page.get_by_role("button", name="Disliked", exact=True)).to_have_count(1)  # still shown as given
        page.get_by_role("button", name="Like", exact=True).nth(1).click()  # the second answer
        eventually(lambda: _ratings(sessions) == {"What is PIONEER?": "down", "What are the four Ds?": "up"})
        with sessions() as session:
            rows = list(session.scalars(select(Feedback)))
            asked = {q.id: q.question for q in session.scalars(select(QuestionLog))}
        assert all(asked[f.question_id or 0] == f.question and f.channel == "chat" and f.citations for f in rows)
        assert {f.question: f.comment for f in rows}["What is PIONEER?"] == "It did not say who may use the data"
        page.get_by_role("button", name="Liked", exact=True).click()  # taken back
        eventually(lambda: _ratings(sessions) == {"What is PIONEER?": "down"})


def _ratings(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {f.question: f.rating for f in session.scalars(select(Feedback))}


def test_every_starter_is_answered_with_sources(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    with chat(assistant, tmp_path) as (url, _sessions, desk):
        starters = desk.questions.starters(None)
        assert len(starters) >= 3 and all(s.endswith("?") for s in starters)
        page.goto(url + "/")
        for i, starter in enumerate(starters, start=1):
            # The starters are cards inside the empty conversation (the Chatbot's examples), named as such.
            card = page.locator("#conversation").get_by_role("button", name=f"Select example {i}: {starter}")
            card.click()
            expect(page.locator(".message-row.bot-row")).to_have_count(1, timeout=30_000)
            expect(page.locator(".message-row.bot-row .source-card").first).to_be_visible()
            expect(page.locator(".message-wrap")).not_to_contain_text("couldn't find")
            expect(card).to_be_hidden()  # until a new conversation
            page.get_by_role("button", name="Clear", exact=True).click()
            expect(page.locator(".message-row")).to_have_count(0)


def test_an_abstention_offers_a_person_inline_and_the_hand_off_files_an_enquiry(
    page: Page, assistant: Assistant, tmp_path: Path
) -> None:
    with chat(assistant, tmp_path) as (url, sessions, _desk):
        page.goto(url + "/")
        offer = page.get_by_text("Pass your question to a person?")
        expect(offer).to_be_hidden()  # a calm page: no consent text until it is relevant
        assert page.evaluate(UNNAMED_CONTROLS) == []
        for _ in range(40):  # keyboard alone: Tab reaches the question box, Enter asks
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.placeholder || ''").startswith("Ask about the cluster"):
                break
        page.keyboard.type("What's the capital of Australia?")
        page.keyboard.press("Enter")
        expect(page.locator(".message-row.bot-row")).to_have_count(1, timeout=30_000)
        expect(page.locator(".message-wrap")).to_contain_text("I can help with questions about")
        expect(offer).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_role("button", name="No thanks").click()
        expect(page.locator("#status")).to_contain_text(DECLINED)
        expect(offer).to_be_hidden()
        ask(page, "What is PIONEER?", 2)
        expect(offer).to_be_hidden()  # answered: nothing offered
        page.get_by_role("button", name="Ask a person").click()
        expect(page.get_by_text("Consent version")).to_be_visible()
        page.get_by_role("button", name="I agree").click()
        expect(page.get_by_role("textbox", name="Message")).to_have_value("What is PIONEER?")
        page.get_by_label("Name", exact=True).fill("Priya Shah")
        page.get_by_label("E-mail").fill("priya@example.org")
        page.get_by_label("Organisation (optional)").fill("Example Diagnostics")
        page.get_by_role("textbox", name="Message").fill("Can we access PIONEER data for a diagnostics study?")
        assert axe_violations(page) == []
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "chat-handoff.png"), full_page=True)
        page.get_by_role("button", name="Send to the team").click()
        expect(page.locator(".message-wrap")).to_contain_text("reference WM-")
    with sessions() as session:
        enquiry = session.scalars(select(Enquiry)).one()
    assert enquiry.channel == "chat" and enquiry.email == "priya@example.org" and enquiry.status == "triaged"
    assert [t["content"] for t in enquiry.transcript if t["role"] == "user"] == [
        "What's the capital of Australia?",
        "What is PIONEER?",
    ]
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_every_text_on_the_page_is_drawn_in_one_font(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    """The fonts Chromium really used for each text (DevTools' platform fonts), not the CSS that asked for them: a
    heading whose "A" came from a fallback font shows up here as a second family."""
    with chat(assistant, tmp_path) as (url, _sessions, _desk):
        page.goto(url + "/")
        ask(page, "What is PIONEER?", 1)
        devtools = page.context.new_cdp_session(page)
        devtools.send("DOM.enable")
        devtools.send("CSS.enable")
        root = devtools.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        families: dict[str, set[str]] = {}
        downloaded = []
        for selector in ["h1", "#chat-page p", ".bot-row p", ".source-card strong", "button", "label span"]:
            nodes = devtools.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
            assert nodes, selector
            for node in nodes:
                fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
                families.setdefault(selector, set()).update(f["familyName"] for f in fonts)
                downloaded += [f["familyName"] for f in fonts if f["isCustomFont"]]
        used = set().union(*families.values())
        assert len(used) == 1, families
        assert downloaded == []  # a system font: nothing downloaded


def test_one_scroll_a_pinned_question_box_on_phones_and_a_conversation_that_survives_a_reload(
    page: Page, assistant: Assistant, tmp_path: Path
) -> None:
    """Issue 30: the conversation grows with the page (no box scrolling inside a scrolling page), starters are cards
    in the empty conversation on a phone's first screen, the question box stays on screen, no label covers
    messages, and a reload shows the conversation again until the bin clears it (on the server too)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with chat(assistant, tmp_path) as (url, _sessions, _desk):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url + "/")
        cards = page.locator("#conversation button.example")
        expect(cards.first).to_be_visible()
        assert cards.last.bounding_box()["y"] + cards.last.bounding_box()["height"] <= 844  # type: ignore[index]
        expect(page.get_by_role("textbox", name="Your question")).to_be_in_viewport()
        assert not page.locator("#conversation label").is_visible()  # no "Conversation" label over the messages
        page.screenshot(path=str(OUTPUT / "chat-phone-empty.png"))
        ask(page, "What is PIONEER?", 1)
        ask(page, "Who can use its data?", 2)
        expect(
            page.get_by_role("textbox", name="Your question")
        ).to_be_in_viewport()  # pinned while the answers grow the page
        inner = "(w => w.scrollHeight - w.clientHeight)(document.querySelector('#conversation .bubble-wrap'))"
        assert page.evaluate(inner) <= 1  # the conversation has no scrollbar of its own
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(OUTPUT / "chat-phone-answer.png"))
        page.get_by_role("button", name="Ask a person").click()
        page.get_by_role("button", name="I agree").click()
        expect(page.get_by_role("textbox", name="Message")).to_have_value("Who can use its data?")
        page.screenshot(path=str(OUTPUT / "chat-phone-handoff.png"))
        page.get_by_role("button", name="Cancel").click()
        page.reload()
        expect(page.locator(".message-row.bot-row")).to_have_count(2, timeout=15_000)
        expect(page.locator(".message-wrap")).to_contain_text("data access under license")
        ask(page, "Where is it based?", 3)  # the conversation goes on where it was
        page.get_by_role("button", name="Clear", exact=True).click()
        expect(page.locator(".message-row")).to_have_count(0)
        page.reload()
        expect(page.locator("#conversation button.example").first).to_be_visible()
        expect(page.locator(".message-row")).to_have_count(0)  # the bin cleared the kept conversation too


def test_dark_mode_is_complete_and_axe_clean(browser: Browser, assistant: Assistant, tmp_path: Path) -> None:
    """Issue 30: in dark mode the source cards' titles were white on white (axe: serious)."""
    with chat(assistant, tmp_path) as (url, _sessions, _desk):
        for scheme in ("dark", "light"):
            context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
            dark = context.new_page()
            dark.goto(url + "/")
            expect(dark.locator("#conversation button.example").first).to_be_visible()
            assert axe_violations(dark) == [], scheme
            dark.screenshot(path=str(OUTPUT / f"chat-desktop-empty-{scheme}.png"))
            ask(dark, "What is PIONEER?", 1)
            dark.locator(".source-card summary").first.click()
            assert axe_violations(dark) == [], scheme
            dark.screenshot(path=str(OUTPUT / f"chat-desktop-answer-{scheme}.png"))
            context.close()


def test_the_hand_off_form_starts_from_the_last_real_question_and_says_what_is_wrong_where(
    page: Page, assistant: Assistant, tmp_path: Path
) -> None:
    """Issue 30: the form was prefilled with "Can I speak to someone?", its errors sat at the bottom and stayed after
    the fix, focus was lost after "I agree", there was no Cancel and no expected reply time."""
    with chat(assistant, tmp_path) as (url, sessions, _desk):
        page.goto(url + "/")
        ask(page, "What is PIONEER?", 1)
        ask(page, "Can I speak to someone?", 2)
        page.get_by_role("button", name="I agree").click()
        message = page.get_by_role("textbox", name="Message")
        expect(message).to_have_value("What is PIONEER?")
        name = page.locator("#enquiry-form textarea").first
        expect(name).to_be_focused()
        expect(page.locator("#reply-time")).to_contain_text(
            re.compile(r"aims to reply by e-mail within \d+ (day|hour)")
        )
        page.get_by_role("textbox", name="E-mail").fill("not-an-address")
        page.get_by_role("button", name="Send to the team").click()
        errors = page.locator("#enquiry-form div.validation-error")
        expect(errors.filter(has_text="Please give your name.")).to_be_visible()
        expect(errors.filter(has_text="Please give a valid e-mail address.")).to_be_visible()
        expect(name).to_be_focused()  # the first field in error, its error read out with its name
        assert axe_violations(page) == []
        page.screenshot(path=str(OUTPUT / "chat-handoff-errors.png"), full_page=True)
        name.fill("Priya Shah")
        page.get_by_role("textbox", name="E-mail").fill("priya@example.org")
        expect(errors.filter(has_text="Please give")).to_have_count(0)  # cleared once fixed
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#enquiry-form")).to_be_hidden()
        expect(page.get_by_role("button", name="Ask a person")).to_be_focused()
    with sessions() as session:
        assert session.scalars(select(Enquiry)).first() is None  # nothing was sent
