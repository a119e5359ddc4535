"""Which chunks a channel may answer from: an allow-list of visibility levels, optionally narrowed by tags."""

import functools
from collections.abc import Callable

from assistant.models import PUBLIC, VISIBILITY_LEVELS, Chunk

Visible = Callable[[Chunk], bool]


@functools.cache
def visibility_filter(levels: frozenset[str], tags: frozenset[str] = frozenset()) -> Visible:
    """Chunks whose `visibility` level is in `levels` (an allow-list) and, if `tags`, that carry one of them.

    Ingest writes every document's level; a chunk indexed before levels were checked and without one was public
    by the rules it was ingested under. Any other value, a list or a typo included, is in no allow-list. One
    predicate per configuration, so the index can cache its mask.
    """

    def check(chunk: Chunk) -> bool:
        if chunk.metadata.get("visibility", PUBLIC) not in levels:
            return False
        chunk_tags = {t.strip() for t in chunk.metadata.get("tags", "").split(",") if t.strip()}
        return not tags or bool(tags & chunk_tags)

    return check


# What the public channels (chat, API, widgets) may answer from: public documents only.
PUBLIC_ONLY = visibility_filter(frozenset({PUBLIC}))
# What staff reply drafts may draw on: every level (staff read a draft before it is sent).
STAFF_VIEW = visibility_filter(frozenset(VISIBILITY_LEVELS))


@functools.cache
def one_document(source: str) -> Visible:
    """Chunks of one document only, whatever its level (staff trying a question against it). One predicate per
    document, so the index caches one mask each (documents are finite; a lambda per request would not be)."""

    def check(chunk: Chunk) -> bool:
        return chunk.source == source

    return check
