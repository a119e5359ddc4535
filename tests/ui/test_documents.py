"""Staff manage what the assistant knows: upload (a PDF and a DOCX, and a corrupt file beside them), ingest as a job
with progress, answer from the new document at once, remove it (admins only) and keep a removed `corpus/` file out
of the next `ingest`; the Documents page in Chromium, axe-clean."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from assistant.desk import Desk
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from assistant.engine.store import Store
from assistant.models import document_key
from ingest.pipeline import ingest
from tests.helpers import (
    REPO,
    axe_violations,
    make_docx,
    make_pdf,
    run_cli,
    serve_app,
    serve_folder,
    settings_for,
    staff_client,
    until,
)
from ui.app import create_app

PASSWORD = "a long enough password"
PDF_FACT = "The Quorvath Clinic in Blorptown is run by Zephyrine Quillmoor"
DOCX_FACT = "The Blorptown sensor trial measured oxygen levels in 240 patients at home."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder) -> Iterator[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Its own small index (documents are removed here), two staff accounts, jobs polled often."""
    root = tmp_path_factory.mktemp("documents")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = settings_for(
        root / "data", model_cache, corpus_dir=corpus, jobs_poll_seconds=0.2, ingest_allowed_networks=["127.0.0.0/8"]
    )  # the re-crawl test's site is on loopback
    ingest([str(corpus)], Store.open(settings, embedder), embedder, progress=False)
    sessions = open_database(settings)
    add_staff(sessions, "admin@cluster.example", PASSWORD, "admin")
    add_staff(sessions, "kim@cluster.example", PASSWORD, "staff")
    desk = Desk.open(settings, Assistant.load(settings, embedder), sessions)
    with serve_app(create_app(settings, desk)) as url:
        yield {"url": url, "settings": settings, "root": root, "corpus": corpus, "desk": desk}


def files(folder: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    docx = make_docx(folder / "trial.docx", "Sensor trial", {"Results": [DOCX_FACT]})
    return [
        ("files", ("clinic.pdf", make_pdf([PDF_FACT + "."]), "application/pdf")),
        ("files", ("trial.docx", docx.read_bytes(), "application/octet-stream")),
        ("files", ("broken.pdf", b"%PDF-1.4 this is not really a PDF", "application/pdf")),
    ]


def finished(client: httpx.Client, job_id: int) -> dict:  # type: ignore[type-arg]
    return until(
        lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(  # type: ignore[return-value]
            client.get(f"/api/staff/jobs/{job_id}").json()
        ),
        timeout_s=60,
    )


def ask(url: str, question: str) -> dict:  # type: ignore[type-arg]
    return httpx.post(f"{url}/api/ask", json={"question": question}, timeout=30).json()  # type: ignore[no-any-return]


def test_upload_answer_remove_and_the_bad_file_reported(site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    url = site["url"]
    kim, admin = (
        staff_client(url, "kim@cluster.example", PASSWORD),
        staff_client(url, "admin@cluster.example", PASSWORD),
    )
    created = kim.post("/api/staff/documents", files=files(tmp_path), data={"visibility": "public", "tags": "clinics"})
    assert created.status_code == 202, created.text
    job = finished(kim, created.json()["job"])
    assert job["status"] == "done" and job["done"] == job["total"] == 3 and job["chunks"] >= 2
    assert [e.split(":")[0] for e in job["errors"]] == ["broken.pdf"]
    listing = {d["filename"]: d for d in kim.get("/api/staff/documents").json() if d.get("filename")}
    assert listing["clinic.pdf"]["status"] == "indexed" and listing["clinic.pdf"]["tags"] == ["clinics"]
    assert listing["broken.pdf"]["status"] == "failed" and listing["broken.pdf"]["error"]
    answer = ask(url, "Who runs the Quorvath Clinic in Blorptown?")
    assert not answer["abstained"] and "Zephyrine Quillmoor" in answer["answer"]
    assert any(c["title"] == "clinic" for c in answer["citations"]), answer["citations"]
    pdf_id = listing["clinic.pdf"]["id"]
    # Ingested again unchanged: nothing re-embedded, the chunk count kept.
    again = finished(kim, site["desk"].library.reingest([pdf_id], "kim@cluster.example"))
    assert again["status"] == "done" and again["chunks"] == 0
    kept = {d["filename"]: d for d in kim.get("/api/staff/documents").json() if d.get("filename")}
    assert kept["clinic.pdf"]["chunks"] == listing["clinic.pdf"]["chunks"] >= 1
    assert kim.delete(f"/api/staff/documents/{pdf_id}").status_code == 403  # removal is for admins
    assert admin.delete(f"/api/staff/documents/{pdf_id}").json() == {"removed": True}
    assert ask(url, "Who runs the Quorvath Clinic in Blorptown?")["abstained"]
    assert not ask(url, "How many patients were in the Blorptown sensor trial?")["abstained"]  # the DOCX stays


def test_a_removed_corpus_document_stays_out_of_the_next_ingest(site: dict) -> None:  # type: ignore[type-arg]
    url = site["url"]
    admin = staff_client(url, "admin@cluster.example", PASSWORD)
    corpus_docs = [d for d in admin.get("/api/staff/documents").json() if d["source"].endswith(".md")]
    source = corpus_docs[0]["source"]
    assert admin.delete(f"/api/staff/documents/{source}").status_code == 200
    again = run_cli(site["settings"], "ingest", str(site["corpus"]), "--quiet")
    assert again.returncode == 0 and "1 left out: removed by staff" in again.stdout, again.stdout
    listing = {d["source"]: d for d in admin.get("/api/staff/documents").json()}
    assert listing[source]["status"] == "removed" and listing[source]["chunks"] == 0
    kim = staff_client(url, "kim@cluster.example", PASSWORD)
    refused = kim.post("/staff/documents/restore", data={"source": source, "csrf_token": kim.headers["X-CSRF-Token"]})
    assert "Only%20an%20admin" in refused.headers["location"]  # adding back is for those who may remove
    back = admin.post("/staff/documents/restore", data={"source": source, "csrf_token": admin.headers["X-CSRF-Token"]})
    assert finished(admin, int(back.headers["location"].split("job=")[1]))["status"] == "done"
    listing = {d["source"]: d for d in admin.get("/api/staff/documents").json()}
    assert listing[source]["status"] == "indexed" and listing[source]["chunks"] > 0  # added again by staff
    again = run_cli(site["settings"], "ingest", str(site["corpus"]), "--quiet")
    assert again.returncode == 0 and "left out" not in again.stdout


def chat(page: Page, url: str, question: str) -> None:
    """Ask in a new conversation (the chat keeps one across reloads, under its cookie)."""
    page.context.clear_cookies(name="ca_chat")
    page.goto(url + "/")
    box = page.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")


def test_the_documents_page_uploads_with_progress_and_the_chat_follows(page: Page, site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    url = site["url"]
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill("admin@cluster.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Documents").click()
    pdf = tmp_path / "hospice.pdf"
    pdf.write_bytes(make_pdf(["The Wexmoor hospice garden was planted by Ottoline Brackwater in spring."]))
    docx = make_docx(tmp_path / "garden.docx", "Garden notes", {"Plants": ["The Blorptown garden grows 12 herbs."]})
    broken = tmp_path / "empty.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing")
    page.get_by_label("Files (Markdown, text, HTML, PDF, Word; several at once)").set_input_files([pdf, docx, broken])
    page.get_by_role("button", name="Add and ingest").click()
    shots = REPO / "test-output" / "browser"
    page.screenshot(path=str(shots / "staff-documents-job.png"), full_page=True)  # as the job starts
    job = page.locator("#job")
    expect(job).to_contain_text("done", timeout=60_000)  # the panel updates itself until the job ends
    expect(job.get_by_role("progressbar")).to_have_attribute("value", "3")
    expect(job).to_contain_text("empty.pdf: not a readable PDF")
    table = page.get_by_role("table", name="Documents")
    expect(table).to_contain_text("Garden notes")  # the list refreshed when the job ended
    expect(table.locator("tr", has_text="empty")).to_contain_text("failed")
    page.screenshot(path=str(shots / "staff-documents.png"), full_page=True)
    page.goto(f"{url}/staff/documents")  # axe on a page at rest: it edits the DOM as it checks, htmx must not too
    assert axe_violations(page) == []
    page.get_by_role("link", name="Garden notes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Garden notes")
    expect(page.locator(".entry")).to_contain_text("12 herbs")

    question = "Who planted the Wexmoor hospice garden?"
    chat(page, url, question)
    expect(page.locator(".message-wrap")).to_contain_text("Ottoline Brackwater", timeout=30_000)
    expect(page.locator(".source-card").first).to_contain_text("hospice")
    page.goto(f"{url}/staff/documents")
    page.get_by_role("button", name="Remove hospice").click()
    expect(page.get_by_role("table", name="Documents").locator("tr", has_text="hospice")).to_contain_text("removed")
    chat(page, url, question)
    expect(page.locator(".message-wrap")).to_contain_text("couldn't find", timeout=30_000)
    expect(page.locator(".message-wrap")).not_to_contain_text("Ottoline")


def test_a_knowledge_gap_answered_by_staff_is_answered_with_a_citation(site: dict) -> None:  # type: ignore[type-arg]
    url, desk = site["url"], site["desk"]
    question = "When is the Blorptown library open on Sundays?"
    for _ in range(3):
        assert desk.questions.ask(question, [], channel="chat")[0].abstained
    desk.questions.logbook.flush(10)
    kim = staff_client(url, "kim@cluster.example", PASSWORD)
    gaps = kim.get("/staff/gaps").text
    assert "Blorptown library" in gaps and "Write an answer" in gaps
    form = kim.get("/staff/gaps/answer", params={"question": question}).text
    assert 'value="When is the Blorptown library open on Sundays"' in form
    text = "The Blorptown library opens on Sundays from 10:00 to 16:00, and is closed on bank holidays."
    token = kim.headers["X-CSRF-Token"]
    written = kim.post(
        "/staff/answers",
        data={"title": "Blorptown library opening hours", "text": text, "visibility": "public", "csrf_token": token},
    )
    assert written.status_code == 303 and "job=" in written.headers["location"]
    assert finished(kim, int(written.headers["location"].split("job=")[1]))["status"] == "done"
    answer = ask(url, question)
    assert not answer["abstained"] and "10:00 to 16:00" in answer["answer"]
    assert [c["title"] for c in answer["citations"]] == ["Blorptown library opening hours"]
    [entry] = [d for d in kim.get("/api/staff/documents").json() if d["origin"] == "answer"]
    page = kim.get("/staff/documents/view", params={"source": entry["source"], "question": question}).text
    assert "10:00 to 16:00" in page and "Edit this answer" in page and "Retire this answer" in page
    elsewhere = kim.get("/staff/documents/view", params={"source": entry["source"], "question": "What is PIONEER?"})
    assert "Not answered from this document" in elsewhere.text  # only this document is searched
    edited = kim.post(
        "/staff/answers",
        data={
            "title": "Blorptown library opening hours",
            "visibility": "public",
            "text": text.replace("16:00", "17:00"),
            "document_id": entry["id"],
            "csrf_token": token,
        },
    )
    assert finished(kim, int(edited.headers["location"].split("job=")[1]))["status"] == "done"
    assert "10:00 to 17:00" in ask(url, question)["answer"]
    retired = kim.post("/staff/documents/remove", data={"source": entry["source"], "csrf_token": token})
    assert retired.status_code == 303 and "error" not in retired.headers["location"]  # staff retire answers
    assert ask(url, question)["abstained"]


def test_a_written_answer_closes_its_gap_for_the_same_and_reworded_questions(site: dict) -> None:  # type: ignore[type-arg]
    """Issue 30: the gap's question, asked again in its own or other words, is answered from the written answer
    (its text does not echo the question), and the gap leaves the list; a medical question is never a gap."""
    url, desk = site["url"], site["desk"]
    question = "How much does it cost to join the cluster?"
    medical = "Should I stop taking my blood pressure tablets?"
    for asked in (question, question, medical):
        assert desk.questions.ask(asked, [], channel="chat")[0].abstained
    desk.questions.logbook.flush(10)
    kim = staff_client(url, "kim@cluster.example", PASSWORD)
    gaps = kim.get("/staff/gaps").text
    assert question in gaps and "blood pressure" not in gaps  # named by its question, not keywords
    form = kim.get("/staff/gaps/answer", params={"question": [question]}).text
    assert "How the assistant answers these questions now" in form and "Not answered" in form
    assert f">{question}</textarea>" in form
    text = "Joining is free of charge for companies, universities and NHS organisations in the region."
    written = kim.post(
        "/staff/answers",
        data={
            "title": "Joining the cluster",
            "text": text,
            "questions": f"{question}\nIs there a membership fee?",
            "visibility": "public",
            "csrf_token": kim.headers["X-CSRF-Token"],
        },
    )
    assert finished(kim, int(written.headers["location"].split("job=")[1]))["status"] == "done"
    for again in (question, "how much is it to join the cluster", "Is there a membership fee?"):
        answer = ask(url, again)
        assert not answer["abstained"] and "free of charge" in answer["answer"], again
        assert [c["title"] for c in answer["citations"]] == ["Joining the cluster"]
    assert question not in kim.get("/staff/gaps").text  # closed by the answer
    [entry] = [d for d in kim.get("/api/staff/documents").json() if d["title"] == "Joining the cluster"]
    editor = kim.get("/staff/documents/view", params={"source": entry["source"]}).text
    assert "Is there a membership fee?" in editor  # the questions are edited with the answer
    public = httpx.get(f"{url}{answer['citations'][0]['page']}")
    assert public.status_code == 200 and "free of charge" in public.text  # the source opens whole
    internal = kim.post(
        "/staff/answers",
        data={
            "title": "Staff rota",
            "text": "The staff rota for December is agreed at the Monday meeting.",
            "questions": "When is the rota agreed?",
            "visibility": "staff",
            "csrf_token": kim.headers["X-CSRF-Token"],
        },
    )
    assert finished(kim, int(internal.headers["location"].split("job=")[1]))["status"] == "done"
    [rota] = [d for d in kim.get("/api/staff/documents").json() if d["title"] == "Staff rota"]
    assert httpx.get(f"{url}/documents/{document_key(rota['source'])}").status_code == 404  # public ones only
    kim.post("/staff/documents/remove", data={"source": rota["source"], "csrf_token": kim.headers["X-CSRF-Token"]})
    kim.post("/staff/documents/remove", data={"source": entry["source"], "csrf_token": kim.headers["X-CSRF-Token"]})


def page(title: str, text: str) -> str:
    return f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"


def test_a_site_is_recrawled_added_changed_and_removed_after_grace(site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    from datetime import timedelta

    from assistant.desk import sites
    from assistant.desk.tables import Site, utcnow
    from assistant.desk.views import SiteRow

    folder = tmp_path / "site"
    folder.mkdir()
    url, desk = site["url"], site["desk"]
    kim = staff_client(url, "kim@cluster.example", PASSWORD)

    def publish(pages: dict[str, str]) -> None:
        for old in folder.glob("*.html"):
            old.unlink()
        for name, html in pages.items():
            (folder / name).write_text(html, encoding="utf-8")
        entries = "".join(f"<url><loc>{base}/{name}</loc></url>" for name in pages)
        (folder / "sitemap.xml").write_text(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        )

    def crawled(job_id: int) -> SiteRow:
        assert finished(kim, job_id)["status"] == "done"
        [found] = [s for s in desk.library.sites() if s.url.endswith("/sitemap.xml")]
        return found

    with serve_folder(folder) as base:
        publish(
            {
                "ferry.html": page("Ferry", "The Glimmerholt ferry leaves at 07:15 every weekday."),
                "museum.html": page("Museum", "The Snorvel museum holds 300 brass telescopes."),
            }
        )
        first = kim.post("/api/staff/documents", json={"url": f"{base}/sitemap.xml", "every_hours": 24})
        summary = crawled(first.json()["job"]).summary
        assert sorted(summary["added"]) == [f"{base}/ferry.html", f"{base}/museum.html"]
        assert "07:15" in ask(url, "When does the Glimmerholt ferry leave?")["answer"]
        publish(
            {
                "ferry.html": page("Ferry", "The Glimmerholt ferry leaves at 08:40 every weekday."),
                "market.html": page("Market", "The Plinkwood market opens on Thursdays at dawn."),
            }
        )
        [row] = [s for s in desk.library.sites() if s.url.endswith("/sitemap.xml")]
        token = kim.headers["X-CSRF-Token"]
        again = kim.post(f"/staff/sites/{row.id}/crawl", data={"csrf_token": token})
        second = crawled(int(again.headers["location"].split("job=")[1]))
        assert second.summary["added"] == [f"{base}/market.html"]
        assert second.summary["changed"] == [f"{base}/ferry.html"] and second.summary["removed"] == []
        assert second.waiting == [f"{base}/museum.html"]  # gone from the site: removed after the grace period
        assert "08:40" in ask(url, "When does the Glimmerholt ferry leave?")["answer"]
        assert not ask(url, "How many brass telescopes does the Snorvel museum hold?")["abstained"]
        with desk.sessions.begin() as session:  # a week passes
            stored = session.get_one(Site, row.id)
            stored.missing = {k: (utcnow() - timedelta(days=8)).isoformat() for k in stored.missing}
        third = crawled(
            int(
                kim.post(f"/staff/sites/{row.id}/crawl", data={"csrf_token": token})
                .headers["location"]
                .split("job=")[1]
            )
        )
        assert third.summary["removed"] == [f"{base}/museum.html"] and third.waiting == []
        assert ask(url, "How many brass telescopes does the Snorvel museum hold?")["abstained"]
        page_text = kim.get("/staff/documents").text
        assert "1 removed" in page_text and "daily" in page_text
    assert sites.queue_due(desk.sessions) == 0  # crawled just now: not due
    with desk.sessions.begin() as session:
        session.get_one(Site, row.id).last_crawl_at = utcnow() - timedelta(hours=25)
    assert sites.queue_due(desk.sessions) == 1 and sites.queue_due(desk.sessions) == 0  # once per hour


def test_the_gap_loop_in_the_browser(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    """Issue 30's loop as staff and a visitor see it: gap → answer (the form shows today's answers) → the same and
    a reworded question answered in the chat, cited → the gap gone from the list. axe on each new staff state."""
    url, desk = site["url"], site["desk"]
    question = "Do members get a discount on the annual showcase?"
    for _ in range(2):
        assert desk.questions.ask(question, [], channel="chat")[0].abstained
    desk.questions.logbook.flush(10)
    shots = REPO / "test-output" / "browser"
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill("kim@cluster.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{url}/staff/gaps")
    row = page.get_by_role("table", name="Knowledge gaps").locator("tr", has_text=question)
    expect(row).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "gap-1-list.png"), full_page=True)
    row.get_by_role("link", name=f"Write an answer to: {question}").click()
    expect(page.get_by_role("region", name="How the assistant answers these questions now")).to_contain_text(
        "Not answered"
    )
    page.get_by_label("Questions it answers", exact=False).fill(f"{question}\nIs the showcase cheaper for members?")
    page.get_by_role("textbox", name="Answer", exact=True).fill(
        "Members of the network get 20% off tickets for the annual showcase."
    )
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "gap-2-answer-form.png"), full_page=True)
    page.get_by_role("button", name="Publish the answer").click()
    expect(page.locator("#job")).to_contain_text("done", timeout=60_000)
    for asked in (question, "is the annual showcase cheaper for members"):
        chat(page, url, asked)
        expect(page.locator(".message-wrap")).to_contain_text("20% off tickets", timeout=30_000)
    page.screenshot(path=str(shots / "gap-3-answered-in-the-chat.png"), full_page=True)
    with page.expect_popup() as opened:
        page.locator(".source-card").last.get_by_role("link", name="Read it whole").click()
    whole = opened.value
    expect(whole.locator("main")).to_contain_text("20% off tickets")
    for scheme in ("light", "dark"):  # the public document page, in both
        whole.emulate_media(color_scheme=scheme)
        assert axe_violations(whole) == [], scheme
    whole.close()
    page.goto(f"{url}/staff/gaps")
    expect(page.locator("main")).not_to_contain_text(question)
    page.screenshot(path=str(shots / "gap-4-closed.png"), full_page=True)
