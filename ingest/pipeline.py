"""Runs load → split → embed → write over folders, files and web addresses, incrementally.

A document whose bytes (and the way we split) are unchanged costs no parsing and no embedding. A file that fails
to load is reported with its reason and keeps whatever version of it is already indexed.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tqdm import tqdm

from assistant.engine import Embedder, Store
from assistant.errors import LoadError
from assistant.models import PUBLIC, Chunk, LoadedDocument
from ingest import fetch
from ingest.embed import embed
from ingest.front_matter import check_visibility
from ingest.load import SUPPORTED_SUFFIXES, content_hash, load_bytes, read_file, walk
from ingest.split import document_hash, split
from ingest.write import remove, write

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest run did. `failed` holds (source, reason) pairs."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # removed by staff: kept out until they add it again
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def embedded_nothing(self) -> bool:
        return self.chunks_written == 0

    def summary(self) -> str:
        line = (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, failed {len(self.failed)} "
            f"({self.chunks_written} chunks embedded in {self.seconds:.1f} s)"
        )
        if self.left_out:
            line += f"\n{len(self.left_out)} left out: removed by staff in the console (add them again there)."
        if self.embedded_nothing and not self.failed:
            line += "\nNothing changed: no embedding work was needed."
        for source, reason in self.failed:
            line += f"\n  FAILED {source}: {reason}"
        return line


def _no_progress(done: int, total: int, source: str, report: "IngestReport") -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """How a caller follows an ingest: `progress(done, total, current source, report so far)` before each document,
    and `remove_now(gone)`, which of the indexed sources no longer found to remove now (all, by default)."""

    progress: Callable[[int, int, str, "IngestReport"], None] = _no_progress
    remove_now: Callable[[list[str]], list[str]] = list


@dataclass(frozen=True)
class _Item:
    source: str
    read: Callable[[], LoadedDocument]
    raw: Callable[[], bytes] | None  # for files: bytes to hash before parsing


def display_path(path: Path) -> str:
    """Sources are stored relative to the working directory when inside it, so an index can move with a checkout."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _file_item(path: Path, visibility: str) -> _Item:
    source = display_path(path)
    cache: dict[str, bytes] = {}

    def raw() -> bytes:  # read once: hashed first, parsed only when the hash is new
        if "data" not in cache:
            cache["data"] = read_file(path, source)
        return cache["data"]

    return _Item(source, lambda: load_bytes(raw(), source, path.suffix, visibility=visibility), raw)


def _under(prefix: str, source: str) -> bool:
    """Whether an indexed source belongs to a folder or site being ingested (so may be removed with it)."""
    if prefix == "./":  # the working directory itself: every local file
        return "://" not in source
    return source.startswith(prefix)


def _plan(
    targets: list[str], client: httpx.Client, report: IngestReport, visibility: str
) -> tuple[list[_Item], list[Callable[[str], bool]]]:
    """The documents to look at, and for each target a test of which indexed sources it owns (for removals).

    A target that fails is reported and the others go on.
    """
    items: list[_Item] = []
    scopes: list[Callable[[str], bool]] = []
    for target in targets:
        if fetch.is_url(target):
            try:
                expansion = fetch.expand(client, target)
            except Exception as exc:  # whatever goes wrong with one target (a bad redirect) is that target's failure
                reason = (
                    str(exc) if isinstance(exc, LoadError) else f"could not be fetched ({type(exc).__name__}: {exc})"
                )
                report.failed.append((target, reason.removeprefix(f"{target}: ")))
                continue
            report.failed.extend(expansion.problems)
            for page in expansion.pages:
                items.append(_Item(page.url, partial(fetch.fetch_page, client, page, visibility), None))
            if expansion.is_sitemap and not expansion.problems:
                # A sitemap is the site's own list of pages: a page of that site it no longer lists is removed
                # (not when part of it failed: what it did not list then may only have been out of reach).
                site = "{0.scheme}://{0.netloc}/".format(urlsplit(target))
                scopes.append(partial(_under, site))
            continue
        path = Path(target)
        if path.is_dir():
            files = list(walk(path))
            items.extend(_file_item(f, visibility) for f in files)
            prefix = display_path(path).rstrip("/") + "/"
            scopes.append(partial(_under, prefix))
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.failed.append((display_path(path), f"unsupported file type '{path.suffix}'"))
            else:
                items.append(_file_item(path, visibility))
        else:
            report.failed.append((target, "no such file, folder or http(s) address"))
    return items, scopes


def ingest(
    targets: list[str],
    store: Store,
    embedder: Embedder,
    progress: bool | None = None,
    visibility: str = PUBLIC,
    fetch_policy: fetch.FetchPolicy | None = None,
    left_out: frozenset[str] = frozenset(),
    hooks: "Hooks | None" = None,
) -> IngestReport:
    """Bring the store in line with `targets` (folders, files, URLs or sitemaps). See `IngestReport`.

    `visibility` is the level of documents that declare none; `fetch_policy` says which non-public networks web
    targets may be fetched from (none by default); `left_out` are sources staff removed (tombstones), not indexed;
    `hooks` lets a background job follow the work and decide when pages gone from a site are removed.
    """
    visibility = check_visibility(visibility)
    with fetch.http_client(fetch_policy) as client:
        return _ingest(targets, store, embedder, client, progress, visibility, left_out, hooks or Hooks())


def _ingest(
    targets: list[str],
    store: Store,
    embedder: Embedder,
    client: httpx.Client,
    progress: bool | None,
    visibility: str,
    left_out: frozenset[str],
    hooks: "Hooks",
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    indexed = store.documents()
    items, scopes = _plan(targets, client, report, visibility)
    report.left_out = [item.source for item in items if item.source in left_out]
    items = [item for item in items if item.source not in left_out]
    seen: set[str] = set()
    bar = tqdm(items, desc="Ingesting", unit="doc", disable=not progress if progress is not None else None)
    for done, item in enumerate(bar):
        bar.set_postfix_str(item.source[-40:], refresh=False)
        hooks.progress(done, len(items), item.source, report)
        seen.add(item.source)
        known = indexed.get(item.source, set())
        try:
            if item.raw is not None:
                quick_hash = document_hash(content_hash(item.raw(), visibility))
                if known == {quick_hash}:
                    report.unchanged.append(item.source)
                    continue
            document = item.read()
            chunks = split(document, embedder.count_tokens)
        except LoadError as exc:
            report.failed.append((item.source, str(exc).removeprefix(f"{item.source}: ")))
            continue
        except Exception as exc:  # a parser meeting hostile input can raise anything; report it, go on
            log.debug("loader crashed on %s", item.source, exc_info=True)
            report.failed.append((item.source, f"could not be parsed ({exc.__class__.__name__}: {exc})"))
            continue
        _store(document, chunks, known, store, embedder, report)
    failed_sources = {source for source, _ in report.failed}
    gone = [s for s in indexed if s not in seen and s not in failed_sources and any(scope(s) for scope in scopes)]
    gone = hooks.remove_now(gone)
    remove(store, gone)
    report.removed.extend(gone)
    report.seconds = time.perf_counter() - started
    return report


def _store(
    document: LoadedDocument,
    chunks: list[Chunk],
    known: set[str],
    store: Store,
    embedder: Embedder,
    report: IngestReport,
) -> None:
    doc_hash = document_hash(document.content_hash)
    if known == {doc_hash}:
        report.unchanged.append(document.source)
        return
    report.chunks_written += write(store, document.source, doc_hash, embed(chunks, embedder))
    (report.updated if known else report.added).append(document.source)


def index_documents(
    documents: Iterable[LoadedDocument], store: Store, embedder: Embedder, progress: bool | None = False
) -> IngestReport:
    """Split, embed and write documents already in memory (evaluation data, tests), incrementally."""
    started = time.perf_counter()
    report = IngestReport()
    indexed = store.documents()
    for document in tqdm(
        list(documents), desc="Indexing", unit="doc", disable=not progress if progress is not None else None
    ):
        _store(
            document,
            split(document, embedder.count_tokens),
            indexed.get(document.source, set()),
            store,
            embedder,
            report,
        )
    report.seconds = time.perf_counter() - started
    return report
