"""Ingest end to end with the real model and a real Chroma store: incremental, failure-tolerant, web."""

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant.engine.store import Store
from assistant.errors import EmbeddingModelMismatch
from ingest.pipeline import ingest
from tests.helpers import LOOPBACK, REPO, make_pdf, serve_folder, settings_for


@pytest.fixture
def workspace(tmp_path: Path, model_cache: Path, embedder, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "docs"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "notes.md").write_text("# Notes\n\nThe cluster meets in Coventry every spring to review projects.\n")
    settings = settings_for(tmp_path / "data", model_cache)
    return corpus, settings, Store.open(settings, embedder)


def test_incremental_reingest_embeds_only_what_changed(workspace, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus, _, store = workspace
    first = ingest(["docs"], store, embedder, progress=False)
    assert sorted(first.added) == ["docs/health-tech-west-midlands.md", "docs/notes.md"] and not first.failed
    total = store.count()

    second = ingest(["docs"], store, embedder, progress=False)
    assert second.embedded_nothing and len(second.unchanged) == 2
    assert "Nothing changed" in second.summary() and store.count() == total

    (corpus / "notes.md").write_text("# Notes\n\nThe cluster now meets in Wolverhampton every autumn.\n")
    (corpus / "health-tech-west-midlands.md").unlink()
    third = ingest(["docs"], store, embedder, progress=False)
    assert third.updated == ["docs/notes.md"] and third.removed == ["docs/health-tech-west-midlands.md"]
    texts = " ".join(c.text for c in store.load_all()[0])
    assert "Wolverhampton every autumn" in texts and "Coventry every spring" not in texts and "PIONEER" not in texts


def test_bad_files_are_reported_and_nothing_indexed_is_lost(workspace, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus, _, store = workspace
    ingest(["docs"], store, embedder, progress=False)
    before = store.count()
    (corpus / "notes.md").write_bytes(b"\x00\x00binary now")  # a file that was fine turns bad
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (corpus / "good.pdf").write_bytes(make_pdf(["Aston University runs a medical technology programme."]))
    report = ingest(["docs"], store, embedder, progress=False)
    failed = dict(report.failed)
    assert set(failed) == {"docs/notes.md", "docs/corrupt.pdf", "docs/empty.txt", "docs/latin1.txt"}
    assert "binary" in failed["docs/notes.md"] and "PDF" in failed["docs/corrupt.pdf"]
    assert report.added == ["docs/good.pdf"] and not report.removed
    assert store.count() == before + 1
    assert "Coventry every spring" in " ".join(c.text for c in store.load_all()[0])
    assert "FAILED docs/corrupt.pdf" in report.summary()


def test_chunks_and_sentence_vectors_round_trip(workspace, embedder) -> None:  # type: ignore[no-untyped-def]
    _, _, store = workspace
    ingest(["docs"], store, embedder, progress=False)
    chunks, sentence_vectors, chunk_vectors = store.load_all()
    for chunk, vector in zip(chunks, chunk_vectors, strict=True):
        assert sentence_vectors[chunk.id].shape == (len(chunk.sentences), 384)
        assert np.allclose(vector, embedder.encode([chunk.text])[0], atol=1e-4)
        assert chunk.title and chunk.source.startswith("docs/")


def test_opening_with_another_embedding_model_is_a_named_error(workspace, embedder) -> None:  # type: ignore[no-untyped-def]
    _, settings, store = workspace
    ingest(["docs"], store, embedder, progress=False)

    class OtherModel:
        model_id = "some-other-model"

        def encode(self, texts):  # type: ignore[no-untyped-def]
            return embedder.encode(texts)

        def count_tokens(self, text: str) -> int:
            return embedder.count_tokens(text)

    with pytest.raises(EmbeddingModelMismatch, match="ingest --rebuild"):
        Store.open(settings, OtherModel())


def test_ingest_a_sitemap_over_http(tmp_path: Path, model_cache: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    (site / "pioneer.html").write_text(
        "<html><head><title>PIONEER</title></head><body><nav>Home | Contact</nav><main><h1>PIONEER</h1>"
        "<p>PIONEER is a health data research hub that links patient data across hospital providers.</p></main>"
        "<footer>Cookie policy</footer></body></html>"
    )
    (site / "report.pdf").write_bytes(make_pdf(["Keele University hosts a digital health programme."]))
    settings = settings_for(tmp_path / "data", model_cache)
    store = Store.open(settings, embedder)
    with serve_folder(site) as base:
        (site / "sitemap.xml").write_text(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/pioneer.html</loc></url><url><loc>{base}/report.pdf</loc></url>"
            f"<url><loc>{base}/missing.html</loc></url></urlset>"
        )
        report = ingest([f"{base}/sitemap.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
        assert sorted(report.added) == [f"{base}/pioneer.html", f"{base}/report.pdf"]
        assert report.failed == [(f"{base}/missing.html", "the server answered HTTP 404")]
        chunks = store.load_all()[0]
        page = next(c for c in chunks if c.source.endswith("pioneer.html"))
        assert page.url == f"{base}/pioneer.html" and "Cookie" not in page.text
        assert page.metadata["fetched"] == date.today().isoformat()  # answers date a page by when it was read
        assert next(c for c in chunks if c.source.endswith(".pdf")).page == 1

        (site / "sitemap.xml").write_text(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/pioneer.html</loc></url></urlset>"
        )
        again = ingest([f"{base}/sitemap.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
        assert again.unchanged == [f"{base}/pioneer.html"] and again.removed == [f"{base}/report.pdf"]


def test_oversized_files_are_refused_before_reading(workspace, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    corpus, _, store = workspace
    monkeypatch.setattr("ingest.load.MAX_FILE_BYTES", 20_000)
    (corpus / "huge.txt").write_text("Coventry. " * 5_000)
    report = ingest(["docs"], store, embedder, progress=False)
    assert dict(report.failed) == {"docs/huge.txt": "50,000 bytes is over the 20,000-byte limit"}
    assert "docs/notes.md" in report.added
