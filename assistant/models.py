"""The plain dataclasses that cross stage boundaries: load → split → embed → write → retrieve → compose."""

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum


class Visibility(StrEnum):
    """Who may be answered from a document (front matter `visibility:`, one level), from most to least open.
    Public channels (chat, API, every widget) answer only from `public`; the other levels are for staff (reply
    drafts). Anything else is refused at ingest, so a typo can never publish a document."""

    PUBLIC = "public"
    MEMBERS = "members"
    STAFF = "staff"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"


PUBLIC = Visibility.PUBLIC.value
VISIBILITY_LEVELS: tuple[str, ...] = tuple(Visibility)


def stricter(level: str, other: str) -> str:
    """The less open of two visibility levels (a site's level is a ceiling its pages cannot raise)."""
    return max(level, other, key=VISIBILITY_LEVELS.index)


@dataclass(frozen=True)
class Block:
    """A paragraph, list or table row of a loaded document, with the headings above it."""

    text: str
    section: tuple[str, ...] = ()
    page: int | None = None
    is_list: bool = False


@dataclass(frozen=True)
class LoadedDocument:
    """A document as read from disk or the web, before splitting."""

    source: str
    title: str
    blocks: list[Block]
    content_hash: str
    url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a window of whole sentences from one section."""

    id: str
    text: str
    sentences: tuple[str, ...]
    title: str
    section: str
    source: str
    url: str | None
    page: int | None
    doc_hash: str
    position: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A chunk found for a question, with its fused score and the ranks behind it."""

    chunk: Chunk
    score: float
    dense_similarity: float
    dense_rank: int | None
    lexical_rank: int | None


def section_slug(section: str) -> str:
    """A section's anchor: its own heading (the last of its path) in lower case, words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", section.split(" > ")[-1].lower()).strip("-")


def document_key(source: str) -> str:
    """A document's public name in addresses (`/documents/<key>`): stable while its source is, and saying nothing
    of where the file sits on the server."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Citation:
    """One numbered source an answer cites."""

    n: int
    title: str
    section: str
    source: str
    url: str | None
    snippet: str
    date: str | None = None  # ISO date of the document (front matter `date:`, or when a web page was fetched)
    visibility: str = PUBLIC  # the cited document's level: staff drafts mark a source that is not public

    @property
    def page(self) -> str | None:
        """Where a reader sees the whole document, at the quoted section: our own page for a public document."""
        if self.visibility != PUBLIC:
            return None
        path, _, fragment = self.source.partition("#")
        return f"/documents/{document_key(path)}" + (f"#{fragment}" if fragment and "=" not in fragment else "")

    def to_json(self) -> dict[str, object]:
        """The public shape. `source` here is the public address or null, never `self.source`: that is where the
        file sits on the server (`/srv/…/corpus/….md#…`), which is no business of a visitor's."""
        return {
            "n": self.n,
            "title": self.title,
            "section": self.section,
            "source": self.url,
            "url": self.url,
            "snippet": self.snippet,
            "date": self.date,
            "page": self.page,
        }

    def to_record(self) -> dict[str, object]:
        """The shape staff records keep (reply drafts): the public one, with where the file is on the server and the
        document's visibility."""
        return {**self.to_json(), "source": self.source, "visibility": self.visibility}


@dataclass(frozen=True)
class Part:
    """One question of a message and what the engine made of it (a one-question message has one part)."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    signposted: bool = False  # a request for personal medical advice: the signpost, never the documents


# What kind of reply an Answer is: from the documents (or an honest abstention), small talk ("hi", "who are you?"),
# or the hand-off to a person that a contact request ("can I speak to someone?") opens.
DOCUMENTS, SMALL_TALK, CONTACT = "answer", "smalltalk", "contact"


@dataclass(frozen=True)
class Correction:
    """A mistyped name and the name it was read as ("pioner" → "PIONEER")."""

    typed: str
    read: str


@dataclass(frozen=True)
class Answer:
    """What `ask` returns. `timings` are milliseconds for retrieve, compose and total."""

    text: str
    citations: list[Citation]
    abstained: bool
    confidence: float
    timings: dict[str, float]
    flagged: str | None = None
    resolved_question: str | None = None
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    kind: str = DOCUMENTS
    corrections: list[Correction] = field(default_factory=list)

    @property
    def handoff(self) -> bool:
        """Whether the screen should open the consented hand-off to a person now."""
        return self.kind == CONTACT

    def to_json(self) -> dict[str, object]:
        """The public `ask --json` shape shared by the CLI, the chat, the widget and the HTTP API."""
        return {
            "answer": self.text,
            "kind": self.kind,
            "abstained": self.abstained,
            "handoff": self.handoff,
            "corrections": [{"typed": c.typed, "read": c.read} for c in self.corrections],
            "confidence": round(self.confidence, 4),
            "citations": [c.to_json() for c in self.citations],
            "parts": [
                {
                    "question": p.question,
                    "answer": p.text,
                    "abstained": p.abstained,
                    "citations": [c.to_json() for c in p.citations],
                }
                for p in self.parts
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings.items()},
        }
