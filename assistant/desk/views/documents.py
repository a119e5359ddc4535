"""The documents page and an ingest job's progress."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.desk.vocabulary import JobStatus
from assistant.models import Answer

# Documents -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    """A document as the documents page lists it: indexed, or added or removed by staff; with what the reader may
    do with it."""

    id: int | None
    source: str
    title: str
    url: str | None
    origin: str
    visibility: str
    tags: list[str]
    status: str
    error: str | None
    filename: str | None
    ingested_at: datetime | None
    chunks: int
    can_remove: bool
    can_add_back: bool
    can_reingest: bool


@dataclass(frozen=True)
class ChunkView:
    section: str
    text: str
    position: int


@dataclass(frozen=True)
class Tried:
    """What the assistant answers to a question: from one document alone (staff checking it), or as a visitor
    would be answered (before a written answer is published)."""

    text: str
    abstained: bool
    confidence: float
    citations: list[dict[str, Any]]

    @classmethod
    def of(cls, answer: Answer) -> "Tried":
        return cls(
            answer.text, answer.abstained, round(answer.confidence, 3), [c.to_record() for c in answer.citations]
        )


@dataclass(frozen=True)
class WrittenAnswer:
    """A staff answer to a knowledge gap: the questions it answers, and the answer."""

    title: str
    text: str
    visibility: str
    questions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JobProgress:
    """An ingest job's progress: documents done of total, chunks written, the file being read, errors."""

    id: int
    status: JobStatus
    error: str | None
    total: int = 0
    done: int = 0
    chunks: int = 0
    current: str | None = None
    errors: list[str] = field(default_factory=list)
    by: str | None = None
    cancel: bool = False  # asked for: the job stops before its next document
    cancelled: bool = False  # stopped
    summary: dict[str, Any] | None = None

    @property
    def over(self) -> bool:
        """Whether the job will not change again (the page stops polling)."""
        return self.status.ended or self.cancelled

    @property
    def state(self) -> str:
        """How the page names where it stands."""
        if self.cancelled or self.status is JobStatus.CANCELLED:
            return "cancelled"
        if self.status is JobStatus.QUEUED:
            return "waiting to start"
        return self.status.value if self.status.ended else "running"


@dataclass(frozen=True)
class SiteRow:
    """A site staff added: crawled every `every_hours` (0: when asked); the last crawl's summary, and the pages
    missed that wait out the grace period before they go."""

    id: int
    url: str
    visibility: str
    every_hours: int
    last_crawl_at: datetime | None
    summary: dict[str, Any]
    waiting: list[str]
    grace_days: int


@dataclass(frozen=True)
class ReadSection:
    """One section of a public document as a visitor reads it: its heading, its anchor, its passages' text."""

    heading: str
    slug: str
    paragraphs: list[str]


@dataclass(frozen=True)
class PublicDocument:
    """A public document shown whole (`/documents/<key>`), so a visitor can read around what was quoted."""

    title: str
    date: str | None
    url: str | None
    sections: list[ReadSection]
