"""Stage 1, load, for the web: fetch pages over HTTP from a list of URLs or a sitemap, safely.

Only the addresses the user names are fetched, and the pages a named sitemap lists on its own host. Every
connection, redirects included, is checked after DNS resolution: loopback, private, link-local and other
non-public addresses are refused unless the operator allows their network (`ingest_allowed_networks`), so a
page or a redirect cannot turn ingest against the server's own network. Bodies are read with a size cap, and only
gzip (inflated in bounded steps) or no content encoding is accepted.
"""

import ipaddress
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import httpcore
import httpx

from assistant.errors import LoadError
from assistant.models import PUBLIC, LoadedDocument, stricter
from ingest.load import MAX_FILE_BYTES, load_bytes

TIMEOUT_S = 20.0  # for any one connect or read
# A page's whole fetch (redirects included) must end within FETCH_DEADLINE_S, and once MIN_RATE_AFTER_S have
# passed it must have come at MIN_BYTES_PER_S on average: a server trickling a byte every 15 s defeats any read
# timeout, and held the only job thread for ever. 1 KB/s is a hundred times slower than any real site.
FETCH_DEADLINE_S = 120.0
MIN_RATE_AFTER_S = 10.0
MIN_BYTES_PER_S = 1024.0
MAX_REDIRECTS = 5
MAX_SITEMAP_URLS = 5000  # pages taken from one sitemap target, index and child sitemaps together
MAX_CHILD_SITEMAPS = 100
READ_STEP = 1 << 16
_CONTENT_SUFFIX = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class FetchPolicy:
    """Which addresses ingest may connect to: public ones, and any in `allowed_networks` (operator's choice)."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, networks: Iterable[str]) -> "FetchPolicy":
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return ip.is_global or any(ip in network for network in self.allowed_networks)


@dataclass(frozen=True)
class Page:
    """A page to load: its address, and its body when the sitemap step already fetched it."""

    url: str
    body: bytes | None = None
    content_type: str = ""


@dataclass
class Expansion:
    """What one target turned into: pages to load, and problems with parts of it (the rest goes on)."""

    pages: list[Page] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    is_sitemap: bool = False


class _Budget(threading.local):
    """This thread's current fetch: when it started and how many bytes it has read (see FETCH_DEADLINE_S)."""

    started: float | None = None
    received: int = 0

    def wait_for(self, timeout: float | None) -> float | None:
        """The longest the next read may wait; raises once the deadline or the minimum rate is missed."""
        if self.started is None:
            return timeout
        elapsed = time.monotonic() - self.started
        if elapsed >= FETCH_DEADLINE_S:
            raise httpcore.ReadTimeout(f"the fetch took longer than {FETCH_DEADLINE_S:g} s")
        if elapsed >= MIN_RATE_AFTER_S and self.received < MIN_BYTES_PER_S * elapsed:
            raise httpcore.ReadTimeout(f"the server sent less than {MIN_BYTES_PER_S:g} bytes a second")
        left = FETCH_DEADLINE_S - elapsed
        return left if timeout is None else min(timeout, left)


_budget = _Budget()


class _BudgetedStream(httpcore.NetworkStream):
    """A connection whose every read counts against this thread's fetch budget."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data = self.inner.read(max_bytes, _budget.wait_for(timeout))
        except httpcore.ReadTimeout:
            _budget.wait_for(None)  # the budget's own reason, when the wait ended because the budget ran out
            raise
        _budget.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _budget.wait_for(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _BudgetedStream(self.inner.start_tls(ssl_context, server_hostname, _budget.wait_for(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to an address the policy permits, to that very address (no
    second lookup for a rebinding DNS server to answer differently)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy

    def connect_tcp(  # type: ignore[override]
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options=None
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = [str(info[4][0]) for info in found]
        refused = [a for a in addresses if not self.policy.permits(a)]
        if refused or not addresses:
            raise httpcore.ConnectError(f"{host} resolves to {refused[0] if refused else 'nothing'}: not public")
        stream = super().connect_tcp(addresses[0], port, _budget.wait_for(timeout), local_address, socket_options)
        return _BudgetedStream(stream)


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__(retries=0)
        context = ssl.create_default_context(cafile=certifi.where())
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=_CheckedBackend(policy), retries=0)


def http_client(policy: FetchPolicy | None = None) -> httpx.Client:
    """A client for ingest: checked connections, no redirects of its own (`_get` follows them, each checked), no
    proxy from the environment (a proxy would resolve the names instead of us)."""
    return httpx.Client(
        transport=_CheckedTransport(policy or FetchPolicy()),
        timeout=TIMEOUT_S,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "cluster-assistant-ingest/0.1", "Accept-Encoding": "gzip"},
    )


def is_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def _read_body(response: httpx.Response, url: str) -> bytes:
    """The body, inflated if gzip, never more than `MAX_FILE_BYTES` in memory, however well it compresses."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise LoadError(f"{url}: the server sent content encoding '{encoding}'; only gzip is accepted")
    inflate = None if encoding in ("identity", "") else zlib.decompressobj(zlib.MAX_WBITS | 32)
    too_big = LoadError(f"{url}: larger than the {MAX_FILE_BYTES // 1_048_576} MB limit")
    body = bytearray()
    for raw in response.iter_raw(READ_STEP):
        if inflate is None:
            body += raw
        else:
            data = raw
            while data:  # inflate in bounded steps: one small input may hold gigabytes
                body += inflate.decompress(data, READ_STEP)
                data = inflate.unconsumed_tail
                if len(body) > MAX_FILE_BYTES:
                    raise too_big
        if len(body) > MAX_FILE_BYTES:
            raise too_big
    return bytes(body)


def _get(client: httpx.Client, url: str) -> tuple[str, bytes, str]:
    """(final url, body, content type) of a GET, following at most `MAX_REDIRECTS` redirects, each checked, all
    within one budget (FETCH_DEADLINE_S, MIN_BYTES_PER_S)."""
    _budget.started, _budget.received = time.monotonic(), 0
    try:
        return _follow(client, url)
    finally:
        _budget.started = None


def _follow(client: httpx.Client, url: str) -> tuple[str, bytes, str]:
    for _hop in range(MAX_REDIRECTS + 1):
        if not is_url(url):
            raise LoadError(f"{url}: only http(s) addresses are fetched")
        try:
            with client.stream("GET", url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise LoadError(f"{url}: the server answered HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return url, _read_body(response, url), content_type
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a bad redirect: an invalid URL, IDNA
            raise LoadError(f"{url}: could not be fetched ({exc.__class__.__name__}: {exc})") from None
    raise LoadError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _sitemap(body: bytes, url: str) -> tuple[str, list[str]] | None:
    """('urlset' or 'sitemapindex', the <loc> addresses), or None if the body is not a sitemap."""
    try:
        root = ET.fromstring(body)  # the standard parser expands no external entities
    except ET.ParseError:
        return None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        return None
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    return kind, locs


def _same_host(locs: list[str], sitemap_url: str, out: Expansion) -> list[str]:
    """The addresses on the sitemap's own host; others are reported once and skipped."""
    host = urlsplit(sitemap_url).hostname
    kept = [loc for loc in locs if is_url(loc) and urlsplit(loc).hostname == host]
    if len(kept) < len(locs):
        out.problems.append((sitemap_url, f"{len(locs) - len(kept)} listed addresses not on {host} were skipped"))
    return kept


def _add_pages(locs: list[str], seen: set[str], out: Expansion, sitemap_url: str) -> None:
    for loc in locs:
        if loc in seen:
            continue
        if len(out.pages) >= MAX_SITEMAP_URLS:
            out.problems.append((sitemap_url, f"more than {MAX_SITEMAP_URLS} pages; the rest were not taken"))
            return
        seen.add(loc)
        out.pages.append(Page(loc))


def expand(client: httpx.Client, target: str) -> Expansion:
    """The pages of one target: itself, or the pages its sitemap lists (a sitemap index is followed one level).

    Raises `LoadError` only when the target itself cannot be fetched; a child sitemap that fails is a problem of
    the result and the others go on.
    """
    url, body, content_type = _get(client, target)
    found = _sitemap(body, url) if "xml" in content_type or urlsplit(url).path.endswith(".xml") else None
    if found is None:
        return Expansion([Page(target, body, content_type)])
    out = Expansion(is_sitemap=True)
    seen: set[str] = {target, url}
    kind, locs = found
    locs = _same_host(locs, url, out)
    if kind == "urlset":
        _add_pages(locs, seen, out, url)
        return out
    for child in locs[:MAX_CHILD_SITEMAPS]:
        if child in seen or len(out.pages) >= MAX_SITEMAP_URLS:
            continue
        seen.add(child)
        try:
            child_url, child_body, _ = _get(client, child)
        except Exception as exc:  # any failure is that child's; the others go on
            out.problems.append((child, str(exc).removeprefix(f"{child}: ")))
            continue
        listed = _sitemap(child_body, child_url)
        if listed is None or listed[0] != "urlset":
            out.problems.append((child, "not a sitemap of pages (an index inside an index is not followed)"))
            continue
        _add_pages(_same_host(listed[1], child_url, out), seen, out, child)
    if len(locs) > MAX_CHILD_SITEMAPS:
        out.problems.append((url, f"more than {MAX_CHILD_SITEMAPS} sitemaps listed; the rest were not followed"))
    return out


def fetch_page(client: httpx.Client, page: Page, visibility: str = PUBLIC) -> LoadedDocument:
    """Fetch (unless already fetched) and load one page, picking the reader from the content type or the path."""
    body, content_type = page.body, page.content_type
    if body is None:
        _final, body, content_type = _get(client, page.url)
    suffix = _CONTENT_SUFFIX.get(content_type)
    if suffix is None:
        path = urlsplit(page.url).path.lower()
        suffix = next((s for s in (".pdf", ".docx", ".txt", ".md") if path.endswith(s)), ".html")
    document = load_bytes(body, page.url, suffix, url=page.url, visibility=visibility)
    # A page is not ours: its front matter may make it less open than the level it is fetched at, never more.
    level = stricter(document.metadata["visibility"], visibility)
    # A page's own date is rarely reliable; the day it was read is what the answer can honestly date it by.
    return replace(document, metadata={**document.metadata, "visibility": level, "fetched": date.today().isoformat()})
