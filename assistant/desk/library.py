"""What the assistant knows, as staff manage it: the indexed documents listed, files uploaded (originals kept in
the database), documents removed (a tombstone keeps a `corpus/` file out until staff add it again) and re-ingested.
Ingest runs as a background job, one at a time per index, with its progress on the job row.

library = Library(sessions, assistant, settings)
job_id = library.add_files([("report.pdf", data)], "public", ["annual"], "kim@cluster.example")
library.remove("upload/7/report.pdf", member)           # an admin's
"""

import logging
from dataclasses import replace
from pathlib import PurePath
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import answers, ingesting, jobs, sites
from assistant.desk.accounts import StaffMember
from assistant.desk.audit import audit
from assistant.desk.tables import Job, StoredDocument, maybe_aware, utcnow
from assistant.desk.views import ChunkView, DocumentRow, JobProgress, SiteRow, Tried, WrittenAnswer
from assistant.desk.vocabulary import AuditAction, DocumentOrigin, DocumentStatus, JobKind, JobStatus, Role
from assistant.engine import PUBLIC_ONLY, Assistant, one_document
from assistant.errors import Conflict, InvalidRequest, LoadError, NotAllowed, NotFound
from ingest.front_matter import check_visibility
from ingest.load import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)
UPLOAD_PREFIX = "upload/"  # an upload's source in the index: upload/<id>/<file name>


class Library:
    """The documents staff manage, over the assistant's store and the database."""

    def __init__(self, sessions: sessionmaker[Session], assistant: Assistant, settings: Settings) -> None:
        self.sessions, self.assistant, self.settings = sessions, assistant, settings

    def handlers(self) -> dict[str, jobs.Handler]:
        """The library's background jobs: ingests and crawls (one at a time), and the hourly re-crawl check."""
        return {JobKind.INGEST: self.run, JobKind.RECRAWL: self._recrawl}

    periodic: ClassVar[dict[str, float]] = {JobKind.RECRAWL: 3600.0}  # look for due sites every hour

    def run(self, job: jobs.Claimed) -> None:
        """The ingest job (see `ingesting.run`)."""
        ingesting.run(self.sessions, self.assistant.catalogue.indexer(), self.settings, job)

    def _recrawl(self, job: jobs.Claimed) -> None:
        queued = sites.queue_due(self.sessions)
        if queued:
            log.info("queued %d scheduled re-crawls", queued)

    # Reading ---------------------------------------------------------------------------------------------------

    def listing(self, member: StaffMember) -> list[DocumentRow]:
        """Every indexed document and every one staff added or removed (with its state and last error), removed
        ones last; with what `member` may do with each."""
        rows: dict[str, dict[str, Any]] = {}
        for d in self.assistant.catalogue.documents():
            rows[d.source] = {
                **vars(d),
                "id": None,
                "status": DocumentStatus.INDEXED,
                "error": None,
                "filename": None,
                "ingested_at": None,
            }
        counts = {source: row["chunks"] for source, row in rows.items()}
        with self.sessions() as session:
            for stored in session.scalars(select(StoredDocument)):
                row = rows.setdefault(stored.source, {"source": stored.source, "url": None})
                row |= {
                    "id": stored.id,
                    "title": stored.title,
                    "origin": stored.origin,
                    "tags": stored.tags,
                    "visibility": stored.visibility,
                    "status": stored.status,
                    "error": stored.last_error,
                    "filename": stored.filename,
                    "ingested_at": maybe_aware(stored.last_ingested_at),
                }
        shown = [_row(row, counts.get(source, 0), member) for source, row in rows.items()]
        return sorted(shown, key=lambda d: (d.status == DocumentStatus.REMOVED, d.title.lower()))

    def document(self, source: str, member: StaffMember) -> DocumentRow:
        """One listed document; raises `NotFound`."""
        found = next((d for d in self.listing(member) if d.source == source), None)
        if found is None:
            raise NotFound(f"No document {source}.")
        return found

    def source_of(self, document_id: int) -> str:
        """The source of a stored document (an upload, an answer, a tombstone); raises `NotFound`."""
        with self.sessions() as session:
            row = session.get(StoredDocument, document_id)
            if row is None:
                raise NotFound(f"No document {document_id}.")
            return row.source

    def chunks_of(self, source: str) -> list[ChunkView]:
        """A document's chunks in order, with their sections."""
        found = self.assistant.catalogue.chunks_of(source)
        if not found:
            raise NotFound(f"Nothing from {source} is indexed.")
        return [ChunkView(c.section, c.text, c.position) for c in found]

    # Changing --------------------------------------------------------------------------------------------------

    def answers_now(self, questions: list[str]) -> list[Tried]:
        """How the assistant answers these questions now, as a visitor would be answered (before publishing a
        written answer to them)."""
        return [Tried.of(self.assistant.ask(q, None, PUBLIC_ONLY)) for q in questions]

    def try_question(self, source: str, question: str) -> Tried:
        """The answer from this one document alone (staff checking what it can answer)."""
        return Tried.of(self.assistant.ask(question, None, one_document(source)))

    def answer_of(self, document_id: int) -> WrittenAnswer:
        """A staff answer's title, text and visibility, for editing it."""
        return answers.answer_of(self.sessions, document_id)

    def write_answer(self, written: WrittenAnswer, author: str, document_id: int | None = None) -> int:
        """Staff's answer to a knowledge gap (the questions it answers, and the answer) as a document of its own,
        new or a new version, ingested at once; returns the job's id."""
        written = replace(written, visibility=_level(written.visibility))
        with self.sessions.begin() as session:
            row = answers.store_answer(session, written, author, document_id)
            audit(
                session,
                None,
                author,
                AuditAction.ANSWER_WRITTEN if document_id is None else AuditAction.ANSWER_EDITED,
                document=row.title,
            )
            return self._queue(session, [row.id], author)

    def restore(self, source: str, member: StaffMember) -> int:
        """Add a removed document again: a kept one (upload, answer) is ingested again; a `corpus/` file loses its
        tombstone and is ingested from where it is. Returns the job's id. The same people as for removing it
        (raises `NotAllowed`)."""
        with self.sessions.begin() as session:
            row = session.scalar(select(StoredDocument).where(StoredDocument.source == source))
            if row is None or row.status != DocumentStatus.REMOVED:
                raise NotFound(f"{source} is not a removed document.")
            _may_remove(member, row)
            audit(session, None, member.email, AuditAction.DOCUMENT_RESTORED, document=row.title)
            if row.content is None:  # a corpus file or a page: its tombstone goes, it is read again at its level
                session.delete(row)
                return sites.queue_ingest(session, {"paths": [source], "visibility": row.visibility}, 1, member.email)
            row.status, row.removed_at, row.removed_by = DocumentStatus.PENDING, None, None
            return self._queue(session, [row.id], member.email)

    def add_site(self, url: str, visibility: str, every_hours: int, actor: str) -> int:
        """A web page or sitemap, crawled now and then every `every_hours` (0: only when asked); returns the job."""
        return sites.add_site(self.sessions, url, _level(visibility), every_hours, actor)

    def crawl_now(self, site_id: int, actor: str) -> int:
        return sites.crawl_now(self.sessions, site_id, actor)

    def sites(self) -> list[SiteRow]:
        return sites.listing(self.sessions)

    def add_files(self, files: list[tuple[str, bytes]], visibility: str, tags: list[str], actor: str) -> int:
        """Keep each file and queue one ingest job for them all; returns the job's id. Raises `InvalidRequest` for
        an unsupported type, an empty or oversized file, or an unknown visibility (nothing is kept then)."""
        level = _level(visibility)
        limit = self.settings.max_upload_mb * 1024 * 1024
        for name, data in files:
            if PurePath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise InvalidRequest(f"{name}: not a supported type ({', '.join(SUPPORTED_SUFFIXES)}).")
            if not data or len(data) > limit:
                raise InvalidRequest(f"{name}: empty, or over {self.settings.max_upload_mb} MB.")
        clean_tags = sorted({t.strip().lower() for t in tags if t.strip()})[:20]
        with self.sessions.begin() as session:
            ids = []
            for name, data in files:
                row = StoredDocument(
                    source=f"pending/{utcnow().timestamp()}/{name}",
                    title=PurePath(name).stem,
                    origin=DocumentOrigin.UPLOAD,
                    filename=PurePath(name).name[:255],
                    content=data,
                    size=len(data),
                    visibility=level,
                    tags=clean_tags,
                    status=DocumentStatus.PENDING,
                    chunk_count=0,
                    created_by=actor,
                    created_at=utcnow(),
                )
                session.add(row)
                session.flush()
                row.source = f"{UPLOAD_PREFIX}{row.id}/{row.filename}"
                ids.append(row.id)
                audit(session, None, actor, AuditAction.DOCUMENT_ADDED, document=row.filename, visibility=level)
            return self._queue(session, ids, actor)

    def reingest(self, document_ids: list[int] | None, actor: str) -> int:
        """Queue the kept documents again (all of them with None); returns the job's id."""
        with self.sessions.begin() as session:
            query = select(StoredDocument.id).where(
                StoredDocument.status != DocumentStatus.REMOVED, StoredDocument.content.is_not(None)
            )
            if document_ids is not None:
                query = query.where(StoredDocument.id.in_(document_ids))
            ids = list(session.scalars(query))
            if not ids:
                raise NotFound("No kept document to ingest again.")
            audit(session, None, actor, AuditAction.DOCUMENTS_REINGESTED, documents=len(ids))
            return self._queue(session, ids, actor)

    def remove(self, source: str, member: StaffMember) -> None:
        """Take a document out of the index at once, and keep it out (a tombstone) until staff add it again.
        Admins only, except for a written answer, which any staff member may retire (raises `NotAllowed`)."""
        actor = member.email
        with self.sessions.begin() as session:
            row = session.scalar(select(StoredDocument).where(StoredDocument.source == source))
            _may_remove(member, row)
            if row is None:
                indexed = next((d for d in self.assistant.catalogue.documents() if d.source == source), None)
                if indexed is None:
                    raise NotFound(f"No document {source}.")
                # The tombstone keeps the level the document was indexed at: adding it back must not publish it.
                row = StoredDocument(
                    source=source,
                    title=indexed.title[:300],
                    origin=DocumentOrigin.CORPUS,
                    size=0,
                    tags=[],
                    visibility=indexed.visibility,
                    chunk_count=0,
                    created_by=actor,
                    created_at=utcnow(),
                )
                session.add(row)
            if row.status == DocumentStatus.REMOVED:
                raise Conflict(f"{row.title} is already removed.")
            row.status, row.removed_by, row.removed_at, row.chunk_count = DocumentStatus.REMOVED, actor, utcnow(), 0
            audit(session, None, actor, AuditAction.DOCUMENT_REMOVED, document=row.title)
        self.assistant.catalogue.remove(source)  # this process answers without it at once; the others within seconds

    def cancel(self, job_id: int, actor: str) -> None:
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.kind != JobKind.INGEST:
                raise NotFound(f"No ingest job {job_id}.")
            if JobStatus(job.status).ended:
                raise Conflict(f"The job is already {job.status}.")
            job.status, job.finished_at = (
                (JobStatus.CANCELLED, utcnow()) if job.status == JobStatus.QUEUED else (job.status, None)
            )
            job.progress = {**(job.progress or {}), "cancel": True}
            audit(session, None, actor, AuditAction.INGEST_CANCELLED, job=job_id)

    def job(self, job_id: int) -> JobProgress:
        """An ingest job's progress; raises `NotFound`."""
        progress = self._progress(job_id)
        return JobProgress(**{k: v for k, v in progress.items() if k in JobProgress.__dataclass_fields__})

    def _progress(self, job_id: int) -> dict[str, Any]:
        with self.sessions() as session:
            job = session.get(Job, job_id)
            if job is None or job.kind != JobKind.INGEST:
                raise NotFound(f"No ingest job {job_id}.")
            status = JobStatus(job.status)
            return {**(job.progress or {}), "id": job.id, "status": status, "error": job.last_error}

    def _queue(self, session: Session, ids: list[int], actor: str) -> int:
        return sites.queue_ingest(session, {"documents": ids}, len(ids), actor)


def may_remove(member: StaffMember, origin: str | None) -> bool:
    """Admins remove (and add back) any document; staff only the answers they write."""
    return member.role == Role.ADMIN or origin == DocumentOrigin.ANSWER


def _may_remove(member: StaffMember, row: StoredDocument | None) -> None:
    """`may_remove`, or `NotAllowed`."""
    if not may_remove(member, row.origin if row else None):
        raise NotAllowed("Only an admin can remove a document or add one again.")


def _row(row: dict[str, Any], chunks: int, member: StaffMember) -> DocumentRow:
    """A listed document, with what `member` may do with it: remove it or add it back (`may_remove`), and ingest
    again a kept one (an upload, a written answer) that is not removed."""
    removed, allowed = row["status"] == DocumentStatus.REMOVED, may_remove(member, row["origin"])
    kept = row["id"] is not None and row["origin"] in tuple(DocumentOrigin)
    kept = kept and DocumentOrigin(row["origin"]).reingestable
    return DocumentRow(
        id=row["id"],
        source=row["source"],
        title=str(row.get("title") or row["source"]),
        url=row.get("url"),
        origin=row["origin"],
        visibility=row["visibility"],
        status=row["status"],
        error=row.get("error"),
        tags=list(row.get("tags") or []),
        filename=row.get("filename"),
        ingested_at=row.get("ingested_at"),
        chunks=chunks,
        can_remove=allowed and not removed,
        can_add_back=allowed and removed,
        can_reingest=kept and not removed,
    )


def _level(visibility: str) -> str:
    try:
        return check_visibility(visibility)
    except LoadError as exc:
        raise InvalidRequest(str(exc)) from None
