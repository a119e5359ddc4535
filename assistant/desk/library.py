"""What the assistant knows, as staff manage it: the indexed documents listed, files uploaded (originals kept in
the database), documents removed (a tombstone keeps a `corpus/` file out until staff add it again) and re-ingested.
Ingest runs as a background job, one at a time per index, with its progress on the job row.

library = Library(sessions, assistant, settings)
job_id = library.add_files([("report.pdf", data)], "public", ["annual"], "kim@cluster.example")
library.remove("upload/7/report.pdf", member)           # an admin's
"""

import logging
from collections import Counter
from dataclasses import replace
from pathlib import PurePath
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import answers, jobs, sites
from assistant.desk.accounts import StaffMember
from assistant.desk.audit import audit
from assistant.desk.tables import Job, StoredDocument, utcnow
from assistant.engine import Assistant, one_document
from assistant.errors import Conflict, InvalidRequest, LoadError, NotAllowed, NotFound
from assistant.models import PUBLIC
from ingest import fetch
from ingest.load import SUPPORTED_SUFFIXES, check_visibility, load_bytes
from ingest.pipeline import index_documents, ingest

log = logging.getLogger(__name__)
INGEST = sites.INGEST
UPLOAD_PREFIX = "upload/"  # an upload's source in the index: upload/<id>/<file name>


def removed_sources(sessions: sessionmaker[Session]) -> frozenset[str]:
    """Sources staff removed (tombstones): an ingest of `corpus/` leaves them out until staff add them again."""
    with sessions() as session:
        return frozenset(session.scalars(select(StoredDocument.source).where(StoredDocument.status == "removed")))


class Library:
    """The documents staff manage, over the assistant's store and the database."""

    def __init__(self, sessions: sessionmaker[Session], assistant: Assistant, settings: Settings) -> None:
        self.sessions, self.assistant, self.settings = sessions, assistant, settings

    def handlers(self) -> dict[str, jobs.Handler]:
        """The library's background jobs: ingests and crawls (one at a time), and the hourly re-crawl check."""
        return {INGEST: self.run, sites.RECRAWL: self._recrawl}

    periodic: ClassVar[dict[str, float]] = {sites.RECRAWL: 3600.0}  # look for due sites every hour

    def _recrawl(self, job: jobs.Claimed) -> None:
        queued = sites.queue_due(self.sessions)
        if queued:
            log.info("queued %d scheduled re-crawls", queued)

    # Reading ---------------------------------------------------------------------------------------------------

    def listing(self) -> list[dict[str, Any]]:
        """Every indexed document (title, source, visibility, tags, chunks) and every one staff added or removed
        (with its state and last error), newest change first."""
        counts: Counter[str] = Counter()
        shown: dict[str, dict[str, Any]] = {}
        self.assistant.ensure_fresh()  # another process's ingest shows here within seconds, not at the next question
        for chunk in self.assistant.index.chunks:
            counts[chunk.source] += 1
            shown.setdefault(chunk.source, {"id": None, "source": chunk.source, "title": chunk.title,
                                            "url": chunk.url, "origin": chunk.metadata.get("origin", "file"),
                                            "visibility": chunk.metadata.get("visibility", "public"),
                                            "tags": [t for t in chunk.metadata.get("tags", "").split(",") if t],
                                            "status": "indexed", "error": None, "ingested_at": None})  # fmt: skip
        with self.sessions() as session:
            for row in session.scalars(select(StoredDocument)):
                entry = shown.setdefault(row.source, {"source": row.source, "url": None})
                ingested = row.last_ingested_at.isoformat() if row.last_ingested_at else None
                entry |= {"id": row.id, "title": row.title, "origin": row.origin, "visibility": row.visibility,
                          "tags": row.tags, "status": row.status, "error": row.last_error, "filename": row.filename,
                          "ingested_at": ingested}  # fmt: skip
        for source, entry in shown.items():
            entry["chunks"] = counts.get(source, 0)
        return sorted(shown.values(), key=lambda e: (e["status"] == "removed", str(e["title"]).lower()))

    def chunks_of(self, source: str) -> list[dict[str, Any]]:
        """A document's chunks in order, with their sections."""
        self.assistant.ensure_fresh()
        found = [c for c in self.assistant.index.chunks if c.source == source]
        if not found:
            raise NotFound(f"Nothing from {source} is indexed.")
        return [{"section": c.section, "text": c.text, "position": c.position}
                for c in sorted(found, key=lambda c: c.position)]  # fmt: skip

    # Changing --------------------------------------------------------------------------------------------------

    def try_question(self, source: str, question: str) -> dict[str, Any]:
        """The answer from this one document alone (staff checking what it can answer)."""
        answer = self.assistant.ask(question, None, one_document(source))
        return {"text": answer.text, "abstained": answer.abstained, "confidence": round(answer.confidence, 3),
                "citations": [c.to_record() for c in answer.citations]}  # fmt: skip

    def answer_of(self, document_id: int) -> dict[str, str]:
        """A staff answer's title, text and visibility, for editing it."""
        return answers.answer_of(self.sessions, document_id)

    def write_answer(self, title: str, text: str, visibility: str, author: str, document_id: int | None = None) -> int:
        """Staff's answer to a knowledge gap as a document of its own, new or a new version, ingested at once;
        returns the job's id."""
        with self.sessions.begin() as session:
            row = answers.store_answer(session, title, text, _level(visibility), author, document_id)
            audit(
                session, None, author, "answer_written" if document_id is None else "answer_edited", document=row.title
            )
            return self._queue(session, [row.id], author)

    def restore(self, source: str, member: StaffMember) -> int:
        """Add a removed document again: a kept one (upload, answer) is ingested again; a `corpus/` file loses its
        tombstone and is ingested from where it is. Returns the job's id. The same people as for removing it
        (raises `NotAllowed`)."""
        with self.sessions.begin() as session:
            row = session.scalar(select(StoredDocument).where(StoredDocument.source == source))
            if row is None or row.status != "removed":
                raise NotFound(f"{source} is not a removed document.")
            _may_remove(member, row)
            audit(session, None, member.email, "document_restored", document=row.title)
            if row.content is None:  # a corpus file or a page: its tombstone goes, it is read again at its level
                session.delete(row)
                return sites.queue_ingest(session, {"paths": [source], "visibility": row.visibility}, 1, member.email)
            row.status, row.removed_at, row.removed_by = "pending", None, None
            return self._queue(session, [row.id], member.email)

    def add_site(self, url: str, visibility: str, every_hours: int, actor: str) -> int:
        """A web page or sitemap, crawled now and then every `every_hours` (0: only when asked); returns the job."""
        return sites.add_site(self.sessions, url, _level(visibility), every_hours, actor)

    def crawl_now(self, site_id: int, actor: str) -> int:
        return sites.crawl_now(self.sessions, site_id, actor)

    def sites(self) -> list[dict[str, Any]]:
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
                row = StoredDocument(source=f"pending/{utcnow().timestamp()}/{name}", title=PurePath(name).stem,
                                     origin="upload", filename=PurePath(name).name[:255], content=data,
                                     size=len(data), visibility=level, tags=clean_tags, status="pending",
                                     chunk_count=0, created_by=actor, created_at=utcnow())  # fmt: skip
                session.add(row)
                session.flush()
                row.source = f"{UPLOAD_PREFIX}{row.id}/{row.filename}"
                ids.append(row.id)
                audit(session, None, actor, "document_added", document=row.filename, visibility=level)
            return self._queue(session, ids, actor)

    def reingest(self, document_ids: list[int] | None, actor: str) -> int:
        """Queue the kept documents again (all of them with None); returns the job's id."""
        with self.sessions.begin() as session:
            query = select(StoredDocument.id).where(StoredDocument.status != "removed",
                                                    StoredDocument.content.is_not(None))  # fmt: skip
            if document_ids is not None:
                query = query.where(StoredDocument.id.in_(document_ids))
            ids = list(session.scalars(query))
            if not ids:
                raise NotFound("No kept document to ingest again.")
            audit(session, None, actor, "documents_reingested", documents=len(ids))
            return self._queue(session, ids, actor)

    def remove(self, source: str, member: StaffMember) -> None:
        """Take a document out of the index at once, and keep it out (a tombstone) until staff add it again.
        Admins only, except for a written answer, which any staff member may retire (raises `NotAllowed`)."""
        actor = member.email
        with self.sessions.begin() as session:
            row = session.scalar(select(StoredDocument).where(StoredDocument.source == source))
            _may_remove(member, row)
            if row is None:
                chunk = next((c for c in self.assistant.index.chunks if c.source == source), None)
                if chunk is None:
                    raise NotFound(f"No document {source}.")
                # The tombstone keeps the level the document was indexed at: adding it back must not publish it.
                row = StoredDocument(source=source, title=chunk.title[:300], origin="corpus", size=0, tags=[],
                                     visibility=chunk.metadata.get("visibility", PUBLIC), chunk_count=0,
                                     created_by=actor, created_at=utcnow())  # fmt: skip
                session.add(row)
            if row.status == "removed":
                raise Conflict(f"{row.title} is already removed.")
            row.status, row.removed_by, row.removed_at, row.chunk_count = "removed", actor, utcnow(), 0
            audit(session, None, actor, "document_removed", document=row.title)
            self.assistant.store.delete(source)
        self.assistant.reload()  # this process answers without it at once; the others within seconds

    def cancel(self, job_id: int, actor: str) -> None:
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.kind != INGEST:
                raise NotFound(f"No ingest job {job_id}.")
            if job.status in jobs.ENDED:
                raise Conflict(f"The job is already {job.status}.")
            job.status, job.finished_at = ("cancelled", utcnow()) if job.status == "queued" else (job.status, None)
            job.progress = {**(job.progress or {}), "cancel": True}
            audit(session, None, actor, "ingest_cancelled", job=job_id)

    def job(self, job_id: int) -> dict[str, Any]:
        with self.sessions() as session:
            job = session.get(Job, job_id)
            if job is None or job.kind != INGEST:
                raise NotFound(f"No ingest job {job_id}.")
            return {"id": job.id, "status": job.status, "error": job.last_error, **(job.progress or {})}

    def _queue(self, session: Session, ids: list[int], actor: str) -> int:
        return sites.queue_ingest(session, {"documents": ids}, len(ids), actor)

    # The job ---------------------------------------------------------------------------------------------------

    def run(self, job: jobs.Claimed) -> None:
        """The ingest job: each document in turn (a failed one is recorded and the rest go on), progress on the
        job row after each, stopping between documents when cancelled. One at a time per index."""
        if jobs.other_running(self.sessions, job, INGEST):
            raise jobs.RetryLater("waiting for the ingest before it", wait_s=2.0, counts=False)
        if "site" in job.payload:
            sites.crawl(self.sessions, self.assistant, self.settings, job, removed_sources(self.sessions))
            return
        if "paths" in job.payload:  # corpus files and pages let back in, at the level they had, fetched as sites are
            policy = fetch.FetchPolicy.allowing(self.settings.ingest_allowed_networks)
            report = ingest(job.payload["paths"], self.assistant.store, self.assistant.embedder, progress=False,
                            visibility=job.payload.get("visibility", PUBLIC), fetch_policy=policy)  # fmt: skip
            errors = [f"{where}: {why}" for where, why in report.failed]
            jobs.set_progress(self.sessions, job.id, {"total": 1, "done": 1, "chunks": report.chunks_written,
                                                      "errors": errors, "current": None}, job.owner)  # fmt: skip
            self.assistant.reload()
            return
        started = self.job(job.id)
        progress = {"total": started["total"], "by": started.get("by"), "done": 0, "chunks": 0, "errors": [],
                    "current": None}  # fmt: skip
        for document_id in job.payload["documents"]:
            if self.job(job.id).get("cancel"):
                jobs.set_progress(self.sessions, job.id, {**progress, "current": None, "cancelled": True}, job.owner)
                return
            progress = self._one(job, document_id, progress)
        jobs.set_progress(self.sessions, job.id, {**progress, "current": None}, job.owner)
        self.assistant.reload()

    def _one(self, job: jobs.Claimed, document_id: int, progress: dict[str, Any]) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.get(StoredDocument, document_id)
            if row is None or row.status == "removed" or row.content is None:
                return {**progress, "done": progress["done"] + 1}
            source, name, data = row.source, row.filename or row.title, row.content
            level, tags, origin = row.visibility, row.tags, row.origin
        jobs.set_progress(self.sessions, job.id, {**progress, "current": name}, job.owner)
        try:
            document = load_bytes(data, source, PurePath(name).suffix, visibility=level)
            meta = {**document.metadata, "origin": origin} | ({"tags": ",".join(tags)} if tags else {})
            # The pipeline's split → embed → write, incrementally: a document already indexed as it is costs nothing.
            report = index_documents([replace(document, metadata=meta)], self.assistant.store, self.assistant.embedder)
            outcome: dict[str, Any] = {"status": "indexed", "last_error": None, "title": document.title}
            if not report.unchanged:
                outcome["chunk_count"] = report.chunks_written
            progress = {**progress, "chunks": progress["chunks"] + report.chunks_written}
        except (LoadError, ValueError) as exc:
            outcome = {"status": "failed", "last_error": str(exc).removeprefix(f"{source}: ")}
            progress = {**progress, "errors": [*progress["errors"], f"{name}: {outcome['last_error']}"]}
        except Exception as exc:  # a parser meeting hostile input can raise anything: the file fails, not the job
            log.exception("ingest of %s crashed", source)
            outcome = {"status": "failed", "last_error": f"could not be parsed ({type(exc).__name__})"}
            progress = {**progress, "errors": [*progress["errors"], f"{name}: {outcome['last_error']}"]}
        with self.sessions.begin() as session:
            row = session.get_one(StoredDocument, document_id)
            for key, value in outcome.items():
                setattr(row, key, str(value)[:300] if key == "title" else value)
            row.last_ingested_at = utcnow()
        return {**progress, "done": progress["done"] + 1}


def _may_remove(member: StaffMember, row: StoredDocument | None) -> None:
    """Admins remove (and add back) any document; staff only the answers they write. Raises `NotAllowed`."""
    if member.role != "admin" and (row is None or row.origin != "answer"):
        raise NotAllowed("Only an admin can remove a document or add one again.")


def _level(visibility: str) -> str:
    try:
        return check_visibility(visibility)
    except LoadError as exc:
        raise InvalidRequest(str(exc)) from None
