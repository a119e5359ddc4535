"""The partner widget: a partner page on another loopback origin embeds it; Chromium drives it through Playwright.

One app serves a corpus of the real documents plus a hostile one and an internal one. The partner page is served
by a second server; `127.0.0.1:<port>` is the allowed origin and `localhost:<port>`, the same page, is not.
"""

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.desk.insights import partner_figures
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import Enquiry
from assistant.engine.assistant import Assistant
from assistant.engine.store import Store
from ingest.pipeline import ingest
from tests.helpers import REPO, serve_app, serve_folder, settings_for
from ui.app import create_app
from ui.tokens import TokenSigner, load_secret

AXE = REPO / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
HOSTILE = "The Zanzibar sample payload is <script>alert('doc')</script> kept as text.\n\n"
HOSTILE += "The Zanzibar image sample is <img src=x onerror=alert('img')> inside a sentence.\n"
INTERNAL = "---\ntitle: Staff rota\nvisibility: internal\n---\n# Rota\n\nThe Quokkaville rota lists staff shifts.\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder) -> Iterator[dict]:  # type: ignore[no-untyped-def,type-arg]
    root = tmp_path_factory.mktemp("widget")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "hostile.md").write_text("# Security notes\n\n" + HOSTILE, encoding="utf-8")
    (corpus / "rota.md").write_text(INTERNAL, encoding="utf-8")
    pages = root / "pages"
    pages.mkdir()
    with serve_folder(pages) as page_url:
        port = page_url.rsplit(":", 1)[1]
        allowed = f"http://127.0.0.1:{port}"
        partners = root / "partners.yaml"
        partners.write_text(
            "partners:\n"
            f"  test-partner:\n    name: Test Trust\n    allowed_origins: ['{allowed}']\n"
            "    greeting: Hello from the Test Trust.\n    starter_questions: ['Where does Dignio come from?']\n"
            "    accent: '#005eb8'\n"
            f"  tight:\n    name: Tight Ltd\n    allowed_origins: ['{allowed}']\n"
            "    limits: {per_ip_per_minute: 2, per_session_per_minute: 10}\n",
            encoding="utf-8",
        )
        settings = settings_for(root / "data", model_cache, corpus_dir=corpus, partners_file=partners)
        ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
        assistant = Assistant.load(settings, embedder)
        sessions = open_database(settings)
        with serve_app(create_app(settings, Desk.open(settings, assistant, sessions))) as app_url:
            for partner in ("test-partner", "tight"):
                (pages / f"{partner}.html").write_text(
                    "<!doctype html><html lang='en'><head><title>Partner page</title>"
                    "<style>button { all: unset; color: red; }</style></head><body><main><h1>Partner page</h1>"
                    "<a href='#top'>A link on the partner page</a></main>"
                    f"<script src='{app_url}/widget.js' data-partner='{partner}' async></script></body></html>",
                    encoding="utf-8",
                )
            yield {
                "app": app_url,
                "page": allowed,
                "other": f"http://localhost:{port}",
                "sessions": sessions,
                "settings": settings,
                "assistant": assistant,
            }


def widget(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("[data-cluster-assistant]")


def open_and_ask(page: Page, question: str) -> None:
    launcher = widget(page).get_by_role("button", name="Ask us a question")
    expect(widget(page).get_by_text("Hello", exact=False)).to_have_count(1, timeout=15_000)
    launcher.click()
    box = widget(page).get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")


def test_partner_page_gets_cited_answers_and_hands_off(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "What is the PIONEER Health Data Research Hub?")
    card = widget(page).locator(".card").first
    expect(card).to_contain_text("Health Tech in the West Midlands", timeout=15_000)
    expect(widget(page).locator(".bot").last).to_contain_text("[1]")
    page.screenshot(path=str(REPO / "test-output" / "browser" / "widget-partner-page.png"))

    widget(page).get_by_role("button", name="Ask a person").click()
    widget(page).get_by_role("button", name="I agree").click()
    widget(page).get_by_role("textbox", name="Name").fill("Sam Lee")
    widget(page).get_by_label("E-mail").fill("sam@example.org")
    widget(page).get_by_role("textbox", name="Message").fill("Please call me about data access.")
    widget(page).get_by_role("button", name="Send to the team").click()
    expect(widget(page).locator(".log")).to_contain_text("reference")
    with site["sessions"]() as session:
        enquiry = session.scalars(select(Enquiry).where(Enquiry.channel == "widget")).one()
    assert enquiry.partner_id == "test-partner" and enquiry.consent_version == CONSENT_VERSION
    figures = partner_figures(site["sessions"])
    mine = [f for f in figures if f.partner == "test-partner"]
    assert mine and mine[0].questions >= 1 and mine[0].handoffs == 1
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_other_origin_gets_no_session_and_is_told_so(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    refused = httpx.post(
        f"{site['app']}/api/widget/session", json={"partner": "test-partner"}, headers={"Origin": site["other"]}
    )
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    unknown = httpx.post(
        f"{site['app']}/api/widget/session", json={"partner": "nobody"}, headers={"Origin": site["page"]}
    )
    assert unknown.status_code == 403
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    page.goto(f"{site['other']}/test-partner.html")
    page.wait_for_function("() => !!window.__clusterAssistantLoaded")
    deadline = time.monotonic() + 15
    while not any("allowed_origins" in m for m in said) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    # Nothing drawn (no launcher opening onto a dead end); the partner's developer is told why, in the console.
    expect(widget(page)).to_have_count(0)
    [warning] = [m for m in said if "allowed_origins" in m]
    assert site["other"] in warning and "test-partner" in warning


def test_forged_expired_and_misplaced_tokens_are_refused(site: dict) -> None:  # type: ignore[type-arg]
    origin = {"Origin": site["page"]}
    good = httpx.post(f"{site['app']}/api/widget/session", json={"partner": "test-partner"}, headers=origin).json()
    ask = f"{site['app']}/api/widget/ask"
    body = {"question": "Where does Dignio come from?"}

    def status(token: str, headers: dict[str, str] = origin) -> int:
        return httpx.post(ask, json=body, headers={**headers, "Authorization": f"Bearer {token}"}).status_code

    assert status(good["token"]) == 200
    payload, signature = good["token"].split(".")
    assert status(f"{payload}.{signature[:-2]}xx") == 401  # forged signature
    forged = TokenSigner(b"not the server's key").issue("test-partner", site["page"])[0]
    assert status(forged) == 401
    signer = TokenSigner(load_secret(None, site["settings"].data_dir))
    expired = signer.issue("test-partner", site["page"], now=0)[0]
    assert status(expired) == 401
    assert status(good["token"], {"Origin": site["other"]}) == 403  # stolen token used from another site
    assert httpx.post(ask, json=body, headers=origin).status_code == 401  # no token at all


def test_rate_limit_shows_the_friendly_429(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{site['page']}/tight.html")
    open_and_ask(page, "Where does Dignio come from?")
    expect(widget(page).locator(".card").first).to_be_visible(timeout=15_000)
    box = widget(page).get_by_role("textbox", name="Your question")
    for question in ("What is Dignio?", "What is PIONEER?"):
        box.fill(question)
        box.press("Enter")
    expect(widget(page).locator(".log")).to_contain_text("asking a little fast", timeout=15_000)


def test_hostile_text_renders_as_text_and_internal_documents_stay_internal(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "What is the Zanzibar sample payload?")
    expect(widget(page).locator(".card").first).to_contain_text("<script>alert('doc')</script>", timeout=15_000)
    box = widget(page).get_by_role("textbox", name="Your question")
    box.fill("<img src=x onerror=alert('user')> Zanzibar image sample?")
    box.press("Enter")
    expect(widget(page).locator(".user").last).to_contain_text("<img src=x onerror=alert('user')>")
    expect(widget(page).locator(".bot").last).to_contain_text("inside a sentence", timeout=15_000)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert widget(page).locator("img").count() == 0
    box.fill("What does the Quokkaville rota list?")
    box.press("Enter")
    expect(widget(page).locator(".bot").last).not_to_contain_text("Looking", timeout=15_000)
    assert "staff shifts" not in widget(page).locator(".log").inner_text()
    assert not site["assistant"].ask("What does the Quokkaville rota list?").abstained  # it is indexed, internally


def test_keyboard_only_and_axe_finds_no_serious_violations(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{site['page']}/test-partner.html")
    expect(widget(page).get_by_text("Hello", exact=False)).to_have_count(1, timeout=15_000)
    launcher = widget(page).get_by_role("button", name="Ask us a question")
    for _ in range(10):
        page.keyboard.press("Tab")
        if launcher.evaluate("node => node.getRootNode().activeElement === node"):
            break
    page.keyboard.press("Enter")
    box = widget(page).get_by_role("textbox", name="Your question")
    expect(box).to_be_focused()
    page.keyboard.type("Where does Dignio come from?")
    page.keyboard.press("Enter")
    expect(widget(page).locator(".card").first).to_be_visible(timeout=15_000)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)"
    )
    assert result == []
    page.keyboard.press("Escape")
    expect(widget(page).locator("#ca-panel")).to_be_hidden()
    assert launcher.evaluate("node => node.getRootNode().activeElement === node")  # focus went back
    page.set_viewport_size({"width": 400, "height": 760})
    launcher.click()
    width = widget(page).locator("#ca-panel").evaluate("node => node.getBoundingClientRect().width")
    assert width >= 399  # full screen on a phone


def test_widget_hand_off_is_triaged_drafted_and_approved_in_the_console(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    from assistant.desk.accounts import add_staff

    add_staff(site["sessions"], "kim@cluster.example", "a long enough password", "staff")
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "Who can get access to PIONEER data?")
    expect(widget(page).locator(".card").first).to_be_visible(timeout=15_000)
    widget(page).get_by_role("button", name="Ask a person").click()
    widget(page).get_by_role("button", name="I agree").click()
    widget(page).get_by_role("textbox", name="Name").fill("Robin Patel")
    widget(page).get_by_label("E-mail").fill("robin@medtech.example")
    widget(page).get_by_role("textbox", name="Message").fill(
        "Our company would like access to PIONEER health data under licence for a study."
    )
    widget(page).get_by_role("button", name="Send to the team").click()
    expect(widget(page).locator(".log")).to_contain_text("reference")
    with site["sessions"]() as session:
        enquiry_id = session.scalars(select(Enquiry.id).where(Enquiry.email == "robin@medtech.example")).one()

    page.goto(f"{site['app']}/staff/")
    expect(page).to_have_url(f"{site['app']}/login")  # not signed in: sent to sign in
    page.get_by_label("E-mail").fill("kim@cluster.example")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    row = page.get_by_role("table", name="Enquiries").locator("tbody tr").filter(has_text="Robin Patel")
    expect(row).to_contain_text("health data access", timeout=20_000)
    expect(row).to_contain_text("widget · test-partner")
    row.get_by_role("link").click()
    expect(page.get_by_role("region", name="Classification")).to_contain_text("PIONEER health data hub liaison")
    reply = page.get_by_label("Reply to Robin Patel")
    draft = reply.input_value()
    assert draft.startswith("Dear Robin,") and "[1]" in draft
    expect(page.locator("ol.sources")).to_contain_text("Health Tech in the West Midlands")
    reply.fill(draft.replace("Kind regards,", "I have also copied in our data lead.\n\nKind regards,"))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Reply saved. Not sent: no mail server is configured.", timeout=15_000
    )
    page.get_by_text("Audit trail").click()
    audit = page.locator("#audit")
    for step in ("received it by widget", "sorted it as health data access", "Kim approved the reply"):
        expect(audit).to_contain_text(step)
    with site["sessions"]() as session:
        stored = session.get_one(Enquiry, enquiry_id)
    assert stored.channel == "widget" and stored.partner_id == "test-partner" and stored.status == "in_progress"
    assert stored.draft == draft and "copied in our data lead" in (stored.reply or "")
    assert stored.approved_by == "kim@cluster.example"


def test_widget_greets_and_opens_the_hand_off_when_asked_for_a_person(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "hi")
    expect(widget(page).locator(".bot").last).to_contain_text("I'm the Cluster Assistant", timeout=15_000)
    expect(widget(page).locator(".bot").last).not_to_contain_text("couldn't find")
    expect(widget(page).locator(".handoff")).to_be_hidden()  # a greeting offers nothing it did not ask for
    box = widget(page).get_by_role("textbox", name="Your question")
    box.fill("how do I contact you")
    box.press("Enter")
    expect(widget(page).get_by_text("Pass your question to a person?")).to_be_visible(timeout=15_000)
    expect(widget(page).get_by_role("button", name="I agree")).to_be_visible()
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_the_widget_reads_as_the_chat_does_and_keeps_its_thread_from_page_to_page(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    """Issue 30: starters never hid; cards opened in full; "The four DsDated 25 November 2026"; [n] were not links;
    the launcher stayed "Ask us a question" while open; the thread was lost on every page of the partner's site."""
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "What is PIONEER?")
    launcher = widget(page).locator(".launcher")
    expect(launcher).to_have_text("Close the assistant")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    card = widget(page).locator(".card").first
    expect(card).to_be_visible(timeout=15_000)
    expect(widget(page).locator(".starters")).to_be_hidden()  # gone once the conversation started
    expect(card.locator(".section")).to_have_text("The four Ds · dated 25 November 2026")
    expect(card.locator("blockquote")).to_be_hidden()  # folded, as in the chat
    expect(card.get_by_role("link", name="Read it whole")).to_have_attribute("href", re.compile(r"/documents/"))
    widget(page).locator(".bot").last.get_by_role("link", name="Source 1").first.click()
    assert card.evaluate("node => node.getRootNode().activeElement === node")  # [1] took the reader to its card
    page.reload()  # another page of the same site, in the same tab
    expect(widget(page).locator(".card").first).to_be_visible(timeout=15_000)
    expect(widget(page).locator(".user")).to_have_text(["What is PIONEER?"])
    box = widget(page).get_by_role("textbox", name="Your question")
    box.fill("Who can use its data?")
    box.press("Enter")
    expect(widget(page).locator(".bot").last).to_contain_text("data access under license", timeout=15_000)
    page.screenshot(path=str(REPO / "test-output" / "browser" / "widget-open.png"))
    widget(page).locator(".launcher").click()
    expect(widget(page).locator(".launcher")).to_have_text("Ask us a question")


def test_the_widget_hand_off_takes_the_panel_without_hiding_the_thread(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    """Issue 30: the hand-off squeezed the conversation to ~20 px; its form started from "Can I speak to someone?"
    and said nothing of when to expect a reply or what was wrong where."""
    page.goto(f"{site['page']}/test-partner.html")
    open_and_ask(page, "What is PIONEER?")
    expect(widget(page).locator(".card").first).to_be_visible(timeout=15_000)
    box = widget(page).get_by_role("textbox", name="Your question")
    box.fill("Can I speak to someone?")
    box.press("Enter")
    widget(page).get_by_role("button", name="I agree").click(timeout=15_000)
    message = widget(page).get_by_role("textbox", name="Message")
    expect(message).to_have_value("What is PIONEER?")
    name = widget(page).get_by_role("textbox", name="Name")
    assert name.evaluate("node => node.getRootNode().activeElement === node")
    expect(widget(page).locator("#ca-reply-time")).to_contain_text(re.compile(r"within \d+ (day|hour)"))
    log = widget(page).locator(".log")
    assert log.evaluate("node => node.getBoundingClientRect().height") > 300  # the panel is the conversation's
    expect(log.locator(".card").first).to_be_attached()  # the thread is still there, above the form
    widget(page).get_by_label("E-mail").fill("not an address")
    widget(page).get_by_role("button", name="Send to the team").click()
    expect(widget(page).locator("#ca-name-error")).to_have_text("Please give your name.")
    expect(widget(page).locator("#ca-email-error")).to_have_text("Please give a valid e-mail address.")
    assert name.evaluate("node => node.getRootNode().activeElement === node")
    page.screenshot(path=str(REPO / "test-output" / "browser" / "widget-handoff.png"))
    page.add_script_tag(path=str(AXE))
    serious = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help)"
    )
    assert serious == []
    name.fill("Sam Lee")
    expect(widget(page).locator("#ca-name-error")).to_have_text("")  # cleared once fixed
    widget(page).get_by_role("button", name="Cancel").click()
    person = widget(page).get_by_role("button", name="Ask a person")
    assert person.evaluate("node => node.getRootNode().activeElement === node")
    expect(widget(page).locator(".handoff")).to_be_hidden()
