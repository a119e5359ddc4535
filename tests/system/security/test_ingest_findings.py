"""The security review's ingest findings: server-side request forgery (M4) and denial of service (M5).

Each test is named after its finding and fails on fd3884c. The web targets are real HTTP servers on loopback
addresses (127.0.0.1 is the "allowed" network here; 127.0.0.2 stands for a private one that is not).
"""

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from assistant.engine.embedder import OnnxEmbedder
from assistant.engine.store import Store
from ingest.fetch import FetchPolicy
from ingest.load import LoadError, load_bytes
from ingest.pipeline import ingest
from tests.helpers import LOOPBACK, make_docx, serve_routes, settings_for

HTML = {"Content-Type": "text/html"}
XML = {"Content-Type": "application/xml"}
ONLY_127_0_0_1 = FetchPolicy.allowing(["127.0.0.1/32"])


def page(text: str) -> bytes:
    return f"<html><body><main><h1>Page</h1><p>{text}</p></main></body></html>".encode()


def urlset(*locs: str) -> bytes:
    items = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def sitemap_index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


@pytest.fixture
def store(tmp_path: Path, model_cache: Path, embedder: OnnxEmbedder) -> Store:
    return Store.open(settings_for(tmp_path / "data", model_cache), embedder)


def indexed_text(store: Store) -> str:
    return " ".join(c.text for c in store.load_all()[0])


# M4 — redirects and sitemap entries were followed to any host.


def test_m4_loopback_and_private_addresses_are_refused_by_default(store: Store, embedder: OnnxEmbedder) -> None:
    with serve_routes({"/p.html": (200, HTML, page("Loopback secret text."))}) as base:
        report = ingest([f"{base}/p.html"], store, embedder, progress=False)
    assert not report.added and "not public" in report.failed[0][1]
    assert "Loopback secret" not in indexed_text(store)


def test_m4_a_redirect_to_a_private_address_is_refused(store: Store, embedder: OnnxEmbedder) -> None:
    private = {"/secret.html": (200, HTML, page("The private admin console password list."))}
    with serve_routes(private, host="127.0.0.2") as inside:
        hops = {
            "/go.html": (302, {"Location": f"{inside}/secret.html"}, b""),
            "/meta.html": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/fine.html": (200, HTML, page("Coventry hosts a public health technology showcase every spring.")),
        }
        with serve_routes(hops) as base:
            targets = [f"{base}/go.html", f"{base}/meta.html", f"{base}/fine.html"]
            report = ingest(targets, store, embedder, progress=False, fetch_policy=ONLY_127_0_0_1)
    assert report.added == [f"{base}/fine.html"]  # one refused target never stops the others
    reasons = dict(report.failed)
    assert "127.0.0.2" in reasons[f"{base}/go.html"] and "not public" in reasons[f"{base}/go.html"]
    assert "169.254.169.254" in reasons[f"{base}/meta.html"]
    assert "password" not in indexed_text(store)


def test_m4_sitemap_entries_stay_on_the_sitemaps_host(store: Store, embedder: OnnxEmbedder) -> None:
    private = {"/secret.html": (200, HTML, page("Internal salary bands for every grade."))}
    with serve_routes(private, host="127.0.0.2") as inside:
        site = {
            "/sitemap.xml": (200, XML, urlset("{base}/ok.html", f"{inside}/secret.html")),
            "/ok.html": (200, HTML, page("Wolverhampton runs a medtech accelerator for small firms.")),
        }
        with serve_routes(site) as base:
            report = ingest([f"{base}/sitemap.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
    assert report.added == [f"{base}/ok.html"]
    assert any("not on 127.0.0.1 were skipped" in reason for _, reason in report.failed)
    assert "salary" not in indexed_text(store)


def test_m4_redirects_are_capped(store: Store, embedder: OnnxEmbedder) -> None:
    loop = {f"/r{i}": (302, {"Location": f"{{base}}/r{i + 1}"}, b"") for i in range(10)}
    with serve_routes(loop) as base:
        report = ingest([f"{base}/r0"], store, embedder, progress=False, fetch_policy=LOOPBACK)
    assert "more than 5 redirects" in report.failed[0][1]


# M5 — a self-listing sitemap recursed until RecursionError; compression, zip and YAML bombs grew unbounded.


def test_m5_a_sitemap_listing_itself_is_read_once(store: Store, embedder: OnnxEmbedder) -> None:
    site = {
        "/sitemap.xml": (200, XML, urlset("{base}/sitemap.xml", "{base}/ok.html", "{base}/ok.html")),
        "/ok.html": (200, HTML, page("Birmingham hosts a health data research hub for the region.")),
    }
    with serve_routes(site) as base:
        report = ingest([f"{base}/sitemap.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
    assert f"{base}/ok.html" in report.added


def test_m5_a_sitemap_index_is_followed_one_level_only(store: Store, embedder: OnnxEmbedder) -> None:
    site = {
        "/index.xml": (200, XML, sitemap_index("{base}/pages.xml", "{base}/nested.xml", "{base}/index.xml")),
        "/pages.xml": (200, XML, urlset("{base}/a.html")),
        "/nested.xml": (200, XML, sitemap_index("{base}/deeper.xml")),
        "/deeper.xml": (200, XML, urlset("{base}/b.html")),
        "/a.html": (200, HTML, page("Solihull has a cluster of diagnostics companies.")),
        "/b.html": (200, HTML, page("This page is two index levels down.")),
    }
    with serve_routes(site) as base:
        report = ingest([f"{base}/index.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
    assert report.added == [f"{base}/a.html"]
    assert any("index inside an index" in reason for _, reason in report.failed)


def test_m5_sitemap_pages_are_capped_in_total(
    store: Store, embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingest.fetch.MAX_SITEMAP_URLS", 3)
    site = {"/s.xml": (200, XML, urlset(*[f"{{base}}/missing-{i}.html" for i in range(50)]))}
    with serve_routes(site) as base:
        report = ingest([f"{base}/s.xml"], store, embedder, progress=False, fetch_policy=LOOPBACK)
    assert len([s for s, _ in report.failed if "missing-" in s]) == 3  # three fetched (and missing), no more
    assert any("more than 3 pages" in reason for _, reason in report.failed)


def test_m5_a_compression_bomb_is_stopped_at_the_size_limit(
    store: Store, embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingest.fetch.MAX_FILE_BYTES", 2_000_000)
    bomb = gzip.compress(b"<p>" + b"A" * 40_000_000 + b"</p>", compresslevel=9)  # 40 MB from ~40 KB
    assert len(bomb) < 100_000
    site = {
        "/bomb.html": (200, {**HTML, "Content-Encoding": "gzip"}, bomb),
        "/brotli.html": (200, {**HTML, "Content-Encoding": "br"}, b"\x1b\xff\xff"),
        "/small.html": (
            200,
            {**HTML, "Content-Encoding": "gzip"},
            gzip.compress(page("Keele studies digital health.")),
        ),
    }
    with serve_routes(site) as base:
        targets = [f"{base}/bomb.html", f"{base}/brotli.html", f"{base}/small.html"]
        report = ingest(targets, store, embedder, progress=False, fetch_policy=LOOPBACK)
    reasons = dict(report.failed)
    assert "larger than the 1 MB limit" in reasons[f"{base}/bomb.html"]
    assert "only gzip is accepted" in reasons[f"{base}/brotli.html"]
    assert report.added == [f"{base}/small.html"]


def test_m5_a_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    real = make_docx(tmp_path / "real.docx", "Report", {"Intro": ["Telford hosts a medtech supplier."]})
    buffer = io.BytesIO()
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            bomb.writestr(item, source.read(item))
        bomb.writestr("word/media/padding.bin", b"\0" * 60_000_000)  # 60 MB that deflates to ~60 KB
    assert len(buffer.getvalue()) < 200_000
    with pytest.raises(LoadError, match=r"unpacks to .*\(a zip bomb\?\)"):
        load_bytes(buffer.getvalue(), "bomb.docx", ".docx")
    assert load_bytes(real.read_bytes(), "real.docx", ".docx").blocks  # a real one still loads


def test_m5_yaml_aliases_in_front_matter_are_refused(tmp_path: Path) -> None:
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdef", "bcdefg", strict=True)]
    text = "---\n" + "\n".join(laughs) + "\n---\n# Title\n\nBody text about Coventry.\n"
    assert len(text) < 600  # expands to 9^7 = 4.8 million items
    with pytest.raises(LoadError, match="YAML alias"):
        load_bytes(text.encode(), "laughs.md", ".md")
