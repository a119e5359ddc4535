"""Stage 1, load: read .md, .txt, .html, .pdf and .docx into `LoadedDocument`s of heading-aware blocks.

Each reader raises `LoadError` with a reason a person can act on; the pipeline reports it and goes on.
"""

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from assistant.errors import LoadError
from assistant.models import PUBLIC, Block, LoadedDocument
from ingest import isolate
from ingest.front_matter import split_front_matter

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
# Read by third-party parsers (pypdf, python-docx, lxml/trafilatura): each in a child process with limits
# (ingest/isolate.py). Markdown and text are our own short, linear code and stay in-process.
ISOLATED_SUFFIXES = (".html", ".htm", ".pdf", ".docx")
MAX_FILE_BYTES = 50 * 1024 * 1024
# A .docx is a zip: its parts are checked by their declared sizes before anything is inflated (zipfile never
# inflates a member past its declared size). 50 MB of XML is far beyond any real document.
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_DOCX_PARTS = 2_000

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def content_hash(data: bytes, visibility: str = PUBLIC) -> str:
    """A document's identity: its bytes, and the visibility ingest gives it if it declares none (public leaves
    the hash as it always was, so existing indexes stay unchanged)."""
    level = b"" if visibility == PUBLIC else f"\nvisibility={visibility}".encode()
    return hashlib.sha256(data + level).hexdigest()


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused with where it broke."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise LoadError(f"{source}: looks like a binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{source}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save it as UTF-8"
        ) from None


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def markdown_blocks(body: str) -> tuple[str | None, list[Block]]:
    """Paragraphs and lists under their heading path; returns the first H1 as a title candidate."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    title: str | None = None
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        section = tuple(name for _, name in path)
        if paragraph:
            blocks.append(Block(_inline(" ".join(paragraph)), section))
            paragraph.clear()
        if items:
            blocks.append(Block("; ".join(_inline(i) for i in items), section, is_list=True))
            items.clear()

    for line in body.splitlines():
        heading = _HEADING.match(line)
        item = _LIST_ITEM.match(line)
        if heading:
            flush()
            level, name = len(heading.group(1)), _inline(heading.group(2))
            if level == 1 and title is None:
                title = name
                path = []
                continue
            path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, name)]
        elif item:
            if paragraph:
                flush()
            items.append(item.group(1))
        elif not line.strip():
            flush()
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return title, [b for b in blocks if b.text]


def _read_markdown(data: bytes, source: str) -> tuple[str | None, list[Block], dict[str, str]]:
    meta, body = split_front_matter(decode_text(data, source))
    title, blocks = markdown_blocks(body)
    return meta.get("title") or title, blocks, meta


def _read_text(data: bytes, source: str) -> tuple[str | None, list[Block], dict[str, str]]:
    text = decode_text(data, source)
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    title = paragraphs[0] if paragraphs and len(paragraphs[0]) <= 120 and len(paragraphs) > 1 else None
    return title, [Block(p) for p in paragraphs[1 if title else 0 :]], {}


def html_to_markdown(html: str) -> tuple[str | None, str]:
    """Main text of a page as Markdown (navigation, headers, footers and scripts removed), and its title."""
    import trafilatura

    body = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        favor_recall=True,
    )
    meta = trafilatura.extract_metadata(html)
    return (meta.title if meta else None), body or ""


def _read_html(data: bytes, source: str) -> tuple[str | None, list[Block], dict[str, str]]:
    page_title, markdown = html_to_markdown(decode_text(data, source))
    h1, blocks = markdown_blocks(markdown)
    return h1 or page_title, blocks, {}


def _read_pdf(data: bytes, source: str) -> tuple[str | None, list[Block], dict[str, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for paragraph in re.split(r"\n\s*\n", text):
                cleaned = re.sub(r"\s+", " ", paragraph).strip()
                if cleaned:
                    blocks.append(Block(cleaned, page=number))
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoadError(f"{source}: not a readable PDF ({exc.__class__.__name__}: {exc})") from None
    if not blocks:
        raise LoadError(f"{source}: the PDF has no text layer (a scan?); run OCR on it first")
    return title, blocks, {}


def _check_zip_sizes(archive: zipfile.ZipFile) -> None:
    parts = archive.infolist()
    if len(parts) > MAX_DOCX_PARTS:
        raise LoadError(f"the .docx holds {len(parts):,} parts; the limit is {MAX_DOCX_PARTS:,}")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise LoadError(
            f"the .docx unpacks to {unpacked:,} bytes; the limit is {MAX_DOCX_UNPACKED_BYTES:,} (a zip bomb?)"
        )


def _read_docx(data: bytes, source: str) -> tuple[str | None, list[Block], dict[str, str]]:
    import docx

    try:
        _check_zip_sizes(zipfile.ZipFile(io.BytesIO(data)))
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"{source}: not a readable .docx file ({exc})") from None
    title = document.core_properties.title or None
    path: list[tuple[int, str]] = []
    blocks: list[Block] = []
    for paragraph in document.paragraphs:
        text = re.sub(r"\s+", " ", paragraph.text).strip()
        style = paragraph.style.name if paragraph.style is not None else ""
        if not text:
            continue
        if style == "Title":
            title = title or text
        elif style.startswith("Heading"):
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, text)]
        else:
            blocks.append(Block(text, tuple(n for _, n in path), is_list=style.startswith("List")))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(Block(" | ".join(cells), tuple(n for _, n in path)))
    return title, blocks, {}


_READERS: dict[str, Callable[[bytes, str], tuple[str | None, list[Block], dict[str, str]]]] = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}


def load_bytes(
    data: bytes, source: str, suffix: str, url: str | None = None, visibility: str = PUBLIC
) -> LoadedDocument:
    """Parse one document's bytes by its type. Raises `LoadError` for anything unreadable or empty.

    `visibility` is the level of a document that declares none (formats without front matter).
    """
    reader = _READERS.get(suffix.lower())
    if reader is None:
        raise LoadError(f"{source}: unsupported file type '{suffix}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if not data.strip():
        raise LoadError(f"{source}: the file is empty")
    try:
        if suffix.lower() in ISOLATED_SUFFIXES:
            title, blocks, meta = isolate.run_reader(reader, data, source)
        else:
            title, blocks, meta = reader(data, source)
    except LoadError as exc:
        message = str(exc)
        raise LoadError(message if message.startswith(source) else f"{source}: {message}") from None
    if not blocks:
        raise LoadError(f"{source}: no text found in the document")
    declared = meta.get("url", "").strip()
    if declared and urlsplit(declared).scheme.lower() not in ("http", "https"):  # a `javascript:` link in a card
        raise LoadError(f"{source}: front matter url {declared[:80]!r} is not an http(s) address")
    fallback = Path(source.split("?")[0].rstrip("/")).stem.replace("-", " ").replace("_", " ") or source
    return LoadedDocument(
        source=source,
        title=(title or fallback).strip(),
        blocks=blocks,
        content_hash=content_hash(data, visibility),
        url=url or meta.get("url") or None,
        metadata={**meta, "visibility": meta.get("visibility", visibility)},
    )


def read_file(path: Path, source: str) -> bytes:
    """A file's bytes, refusing files over `MAX_FILE_BYTES` before reading them."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"{source}: {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit")
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{source}: cannot be read ({exc.strerror})") from None


def load_file(path: Path, source: str | None = None, visibility: str = PUBLIC) -> LoadedDocument:
    """Read one file from disk."""
    name = source or str(path)
    return load_bytes(read_file(path, name), name, path.suffix, visibility=visibility)


def walk(folder: Path) -> Iterator[Path]:
    """Supported files under a folder, sorted, skipping hidden files and folders."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path
