"""Loaders for each format, and a clear error for each kind of bad file."""

from pathlib import Path

import pytest

from assistant.errors import LoadError
from ingest.load import load_bytes, load_file, walk
from tests.helpers import make_docx, make_pdf

REPO = Path(__file__).resolve().parents[2]


def test_corpus_markdown_has_front_matter_and_sections() -> None:
    doc = load_file(REPO / "corpus" / "health-tech-west-midlands.md")
    assert doc.title == "Health Tech in the West Midlands"
    assert doc.metadata["visibility"] == "public"
    assert {"source", "date", "title"} <= set(doc.metadata)
    sections = {b.section for b in doc.blocks}
    assert ("Regional Landscape",) in sections and ("Regional research institutes",) in sections
    universities = next(b for b in doc.blocks if b.is_list)
    assert "Aston University" in universities.text and "University of Warwick" in universities.text


def test_corpus_says_only_what_the_source_says() -> None:
    """Every sentence of the corpus comes from the regional source text."""
    source = (REPO.parent / "shared" / "corpus-source" / "health-tech-west-midlands.txt").read_text(encoding="utf-8")
    doc = load_file(REPO / "corpus" / "health-tech-west-midlands.md")
    flat = " ".join(source.split())
    for block in doc.blocks:
        for part in block.text.split("; ") if block.is_list else [block.text]:
            assert part in flat, part


def test_markdown_headings_nest() -> None:
    text = b"# Title\n\nIntro text.\n\n## A\n\nText a.\n\n### A1\n\nText a1.\n\n## B\n\n- one\n- two\n"
    doc = load_bytes(text, "x.md", ".md")
    assert doc.title == "Title"
    assert [(b.section, b.text) for b in doc.blocks] == [
        ((), "Intro text."),
        (("A",), "Text a."),
        (("A", "A1"), "Text a1."),
        (("B",), "one; two"),
    ]


def test_html_keeps_main_text_and_drops_boilerplate_and_scripts() -> None:
    html = b"""<html><head><title>Hub</title><script>alert('x')</script></head><body>
    <nav><a href="/">Home</a> <a href="/about">About us</a></nav><main><h1>The Hub</h1>
    <p>The hub links patient data across community and hospital providers in the region.</p>
    <h2>Access</h2><p>Data access is offered under licence to NHS and academic organisations.</p>
    <p><img src=x onerror="alert(1)">Images are decorative here and carry no meaning at all.</p></main>
    <footer>Copyright and cookie policy</footer></body></html>"""
    doc = load_bytes(html, "hub.html", ".html")
    text = " ".join(b.text for b in doc.blocks)
    assert "links patient data" in text and "under licence" in text
    assert "alert" not in text and "cookie policy" not in text and "About us" not in text
    assert ("Access",) in {b.section for b in doc.blocks}


def test_pdf_text_layer_with_page_numbers() -> None:
    doc = load_bytes(make_pdf(["First page about PIONEER.", "Second page about Dignio."]), "r.pdf", ".pdf")
    assert [(b.page, b.text) for b in doc.blocks] == [
        (1, "First page about PIONEER."),
        (2, "Second page about Dignio."),
    ]


def test_docx_headings_become_sections(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "d.docx", "Partners", {"Universities": ["Aston University trains clinicians."]})
    doc = load_file(path)
    assert doc.title == "Partners"
    assert doc.blocks[0].section == ("Universities",) and "Aston" in doc.blocks[0].text


def test_text_in_utf16_with_bom_is_read() -> None:
    doc = load_bytes("Title\n\nCafé society in Coventry.".encode("utf-16"), "t.txt", ".txt")
    assert doc.title == "Title" and doc.blocks[0].text == "Café society in Coventry."


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("corrupt.pdf", b"%PDF-1.4\n this is not really a pdf", "not a readable PDF"),
        ("scan.pdf", make_pdf([""]), "no text layer"),
        ("binary.txt", b"\x00\x01\x02\x03binary", "binary"),
        ("latin1.md", "Caf\xe9 in Coventry".encode("latin-1"), "not valid UTF-8"),
        ("empty.md", b"   \n", "empty"),
        ("broken.docx", b"PK\x03\x04 not a zip", "not a readable .docx"),
        ("bad-front-matter.md", b"---\ntitle: [unclosed\n---\nBody text here.", "front matter"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError) as caught:
        load_file(path, source=name)
    assert str(caught.value).startswith(name) and reason in str(caught.value)


def test_walk_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nText.")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "b.md").write_text("# B\n\nText.")
    (tmp_path / "c.exe").write_bytes(b"MZ")
    assert [p.name for p in walk(tmp_path)] == ["a.md"]
