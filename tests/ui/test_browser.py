"""The chat in a real browser: Debian's Chromium driven by Playwright, against the app on loopback."""

from pathlib import Path

from playwright.sync_api import Page, expect

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from assistant.engine.store import Store
from ingest.pipeline import ingest
from tests.helpers import REPO, fake_llm, serve_app, settings_for, with_llm
from ui.app import create_app

OUTPUT = REPO / "test-output" / "browser"
XSS = "<img src=x onerror=alert('user')>"


def ask(page: Page, question: str) -> None:
    box = page.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")


def test_chat_greets_corrects_names_and_opens_the_hand_off(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    with serve_app(create_app(settings, Desk.open(settings, assistant, open_database(settings)))) as url:
        page.goto(url + "/")
        ask(page, "hi")
        # The whole reply, so the next question is not sent while this one is still being shown.
        expect(page.locator(".message-wrap")).to_contain_text("or choose “Ask a person”.", timeout=30_000)
        expect(page.locator(".message-wrap")).to_contain_text("I'm the Cluster Assistant")
        expect(page.locator(".message-wrap")).not_to_contain_text("couldn't find")
        expect(page.get_by_text("Pass your question to a person?")).to_be_hidden()
        ask(page, "wat is pioner")
        expect(page.locator(".message-wrap")).to_contain_text("health care providers.", timeout=30_000)
        expect(page.locator(".message-wrap")).to_contain_text("Showing results for PIONEER.")
        expect(page.locator(".source-card").first).to_contain_text("dated 25 November 2026")
        ask(page, "how do I contact you")
        expect(page.get_by_text("Pass your question to a person?")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Consent version")).to_be_visible()
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_a_written_answer_appears_sentence_by_sentence(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    """With an LLM writer, each sentence shows once the grounding check accepts it, before the model has finished;
    a sentence the documents do not support never shows, not even for a moment."""
    first = "PIONEER links patient data at an individual level across community and hospital providers [1]."
    unsupported = "PIONEER was founded on the Moon in 1850 by astronauts [1]."
    last = "The Hub can provide data access under license to NHS and academic organisations [1]."
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    with fake_llm(f"{first} {unsupported} {last}", word_delay_s=0.12) as (llm_url, received):
        writer = with_llm(assistant, llm_url)
        with serve_app(create_app(settings, Desk.open(settings, writer, open_database(settings)))) as url:
            page.goto(url + "/")
            page.evaluate("""() => { window.seen = [];
                new MutationObserver(() => window.seen.push(document.querySelector('.message-wrap')?.innerText || ''))
                  .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
            ask(page, "What is PIONEER?")
            messages = page.locator(".message-wrap")
            expect(messages).to_contain_text("across community and hospital providers", timeout=30_000)
            assert {"finished_streaming": True} not in received  # shown while the model is still writing
            expect(messages).to_contain_text("data access under license", timeout=30_000)
            expect(page.locator(".source-card").first).to_contain_text("Health Tech in the West Midlands")
            assert not any("Moon" in text for text in page.evaluate("window.seen"))
    assert [r["stream"] for r in received if "stream" in r] == [True]  # one call: the starters are not written
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_hostile_document_and_message_render_as_text(page: Page, tmp_path: Path, model_cache: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.md").write_text(
        "# Security notes\n\nThe Zanzibar sample payload is <script>alert('doc')</script> in a document.\n\n"
        "The Zanzibar image sample is <img src=x onerror=alert('img')> inside a sentence.\n",
        encoding="utf-8",
    )
    settings = settings_for(tmp_path / "data", model_cache, corpus_dir=corpus, min_confidence=0.0)
    ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    hostile = Assistant.load(settings, embedder)
    with serve_app(create_app(settings, Desk.open(settings, hostile, open_database(settings)))) as url:
        page.goto(url + "/")
        ask(page, "What is the Zanzibar sample payload?")
        expect(page.locator(".source-card").first).to_contain_text("<script>alert('doc')</script>", timeout=30_000)
        expect(page.locator(".message-wrap")).to_contain_text("<script>")
        expect(page.locator(".message-wrap")).to_contain_text("inside a sentence.")  # streamed to the end
        ask(page, f"Zanzibar image sample {XSS}")
        expect(page.locator(".message-wrap")).to_contain_text(XSS)
        page.wait_for_timeout(500)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.locator(".message-wrap img[src='x']").count() == 0


def test_markdown_in_a_document_stays_text_in_its_source_card(  # type: ignore[no-untyped-def]
    page: Page, tmp_path: Path, model_cache: Path, embedder
) -> None:
    """The cards are an HTML block inside the message's Markdown: Markdown syntax in a document must stay text there,
    as it does in the answer (plain text keeps it; a .md file's own Markdown is rendered at ingest)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "links.txt").write_text(
        "The Zanzibar link sample is [click here](https://evil.example/x) and *not emphasis* in a sentence.\n",
        encoding="utf-8",
    )
    settings = settings_for(tmp_path / "data", model_cache, corpus_dir=corpus, min_confidence=0.0)
    ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    with serve_app(
        create_app(settings, Desk.open(settings, Assistant.load(settings, embedder), open_database(settings)))
    ) as url:
        page.goto(url + "/")
        ask(page, "What is the Zanzibar link sample?")
        card = page.locator(".source-card").first
        expect(card).to_contain_text("[click here](https://evil.example/x) and *not emphasis*", timeout=30_000)
        expect(page.locator(".message-wrap")).to_contain_text("[click here](https://evil.example/x)")
        # Markdown's link and emphasis are not honoured (a bare address in the answer's text may be autolinked, as
        # any address a document quotes; never in a card, whose only links are our page showing the document whole
        # and the document's own public address).
        assert page.get_by_role("link", name="click here").count() == 0
        assert page.locator(".message-wrap em").count() == 0
        assert page.locator(".source-card a:not([href^='/documents/'])").count() == 0


def test_api_docs_and_sign_in_render_from_our_own_files(page: Page, assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    with serve_app(create_app(settings, Desk.open(settings, assistant, open_database(settings)))) as url:
        elsewhere: list[str] = []
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((url, "data:")) else None)
        page.goto(url + "/docs")
        expect(page.locator(".swagger-ui .opblock-summary-path").first).to_contain_text("/api/ask")
        page.goto(url + "/login")
        expect(page.get_by_role("button", name="Sign in")).to_have_css("background-color", "rgb(29, 78, 216)")
        assert elsewhere == []  # no CDN: every script, style and font comes from this server
