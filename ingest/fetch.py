"""Stage 1, load, for the web: fetch pages over HTTP from a list of URLs or a sitemap.

Only the addresses the user names are fetched (and the pages a named sitemap lists).
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from assistant.errors import LoadError
from assistant.models import LoadedDocument
from ingest.load import MAX_FILE_BYTES, load_bytes

TIMEOUT_S = 20.0
MAX_SITEMAP_URLS = 5000
_CONTENT_SUFFIX = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


def is_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise LoadError(f"{url}: the server answered HTTP {response.status_code}")
            body = b""
            for part in response.iter_bytes():
                body += part
                if len(body) > MAX_FILE_BYTES:
                    raise LoadError(f"{url}: larger than the {MAX_FILE_BYTES // 1_048_576} MB limit")
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=response.request
            )
    except httpx.HTTPError as exc:
        raise LoadError(f"{url}: could not be fetched ({exc.__class__.__name__}: {exc})") from None


def _sitemap_urls(body: bytes, url: str) -> list[str] | None:
    """The page URLs a sitemap lists (following sitemap indexes one level), or None if it is not a sitemap."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag not in ("urlset", "sitemapindex"):
        return None
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    if not all(is_url(loc) for loc in locs):
        raise LoadError(f"{url}: the sitemap lists addresses that are not http(s)")
    return locs[:MAX_SITEMAP_URLS]


def expand(client: httpx.Client, targets: list[str]) -> Iterator[tuple[str, bytes | None, str]]:
    """(url, body or None, content type) for each page, sitemaps replaced by the pages they list."""
    for url in targets:
        response = _get(client, url)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        listed = _sitemap_urls(response.content, url) if "xml" in content_type or url.endswith(".xml") else None
        if listed is None:
            yield url, response.content, content_type
            continue
        for loc in listed:
            if loc.endswith(".xml"):
                yield from expand(client, [loc])
            else:
                yield loc, None, ""


def fetch_page(client: httpx.Client, url: str, body: bytes | None = None, content_type: str = "") -> LoadedDocument:
    """Fetch (unless given) and load one page, picking the reader from the content type or the path."""
    if body is None:
        response = _get(client, url)
        body = response.content
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = _CONTENT_SUFFIX.get(content_type)
    if suffix is None:
        path = urlsplit(url).path.lower()
        suffix = next((s for s in (".pdf", ".docx", ".txt", ".md") if path.endswith(s)), ".html")
    return load_bytes(body, url, suffix, url=url)


def http_client() -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT_S,
        follow_redirects=True,
        headers={"User-Agent": "cluster-assistant-ingest/0.1"},
    )
