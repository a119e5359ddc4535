"""Public documents read whole (`/documents/<key>`): a cited source opens at its section, with the text around what
was quoted. Only public documents are shown, whatever the key."""

from datetime import date
from itertools import groupby

from assistant.desk.views import PublicDocument, ReadSection
from assistant.engine import spoken_date
from assistant.errors import NotFound
from assistant.models import Chunk, document_key, section_slug


def public_document(chunks: list[Chunk], key: str) -> PublicDocument:
    """The document whose key this is, from these (public) chunks; raises `NotFound`."""
    # One hash per document, not per chunk.
    source = next((s for s in {c.source for c in chunks} if document_key(s) == key), None)
    found = sorted((c for c in chunks if c.source == source), key=lambda c: c.position)
    if not found:
        raise NotFound("No public document has that address.")
    sections = [
        ReadSection(section.split(" > ")[-1], section_slug(section), [c.text for c in group])
        for section, group in groupby(found, key=lambda c: c.section)
    ]
    first = found[0]
    date = first.metadata.get("date") or first.metadata.get("fetched")
    return PublicDocument(first.title, _spoken(date), first.url, sections)


def _spoken(iso: str | None) -> str | None:
    try:
        return spoken_date(date.fromisoformat(iso[:10])) if iso else None
    except ValueError:
        return None
