"""The ingest job (`ingest` in the jobs table): staff's documents, `corpus/` files let back in, or a site's crawl,
written through the engine's indexer with progress on the job row. One at a time per index."""

import logging
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import jobs, sites
from assistant.desk.tables import StoredDocument, utcnow
from assistant.desk.vocabulary import DocumentStatus, JobKind
from assistant.engine import Indexer
from assistant.errors import LoadError
from assistant.models import PUBLIC
from ingest import fetch
from ingest.load import load_bytes
from ingest.pipeline import index_documents, ingest

log = logging.getLogger(__name__)


def removed_sources(sessions: sessionmaker[Session]) -> frozenset[str]:
    """Sources staff removed (tombstones): an ingest of `corpus/` leaves them out until staff add them again."""
    with sessions() as session:
        removed = select(StoredDocument.source).where(StoredDocument.status == DocumentStatus.REMOVED)
        return frozenset(session.scalars(removed))


def run(sessions: sessionmaker[Session], indexer: Indexer, settings: Settings, job: jobs.Claimed) -> None:
    """The ingest job: each document in turn (a failed one is recorded and the rest go on), progress on the
    job row after each, stopping between documents when cancelled. One at a time per index."""
    if jobs.other_running(sessions, job, JobKind.INGEST):
        raise jobs.RetryLater("waiting for the ingest before it", wait_s=2.0, counts=False)
    if "site" in job.payload:
        sites.crawl(sessions, indexer, settings, job, removed_sources(sessions))
        return
    if "paths" in job.payload:  # corpus files and pages let back in, at the level they had, fetched as sites are
        policy = fetch.FetchPolicy.allowing(settings.ingest_allowed_networks)
        report = ingest(
            job.payload["paths"],
            indexer.target,
            indexer.embedder,
            progress=False,
            visibility=job.payload.get("visibility", PUBLIC),
            fetch_policy=policy,
        )
        errors = [f"{where}: {why}" for where, why in report.failed]
        jobs.set_progress(
            sessions,
            job.id,
            {"total": 1, "done": 1, "chunks": report.chunks_written, "errors": errors, "current": None},
            job.owner,
        )
        indexer.written()
        return
    started = jobs.progress_of(sessions, job.id)
    progress = {
        "total": started["total"],
        "by": started.get("by"),
        "done": 0,
        "chunks": 0,
        "errors": [],
        "current": None,
    }
    for document_id in job.payload["documents"]:
        if jobs.progress_of(sessions, job.id).get("cancel"):
            jobs.set_progress(sessions, job.id, {**progress, "current": None, "cancelled": True}, job.owner)
            return
        progress = _one(sessions, indexer, job, document_id, progress)
    jobs.set_progress(sessions, job.id, {**progress, "current": None}, job.owner)
    indexer.written()


def _one(
    sessions: sessionmaker[Session], indexer: Indexer, job: jobs.Claimed, document_id: int, progress: dict[str, Any]
) -> dict[str, Any]:
    with sessions() as session:
        row = session.get(StoredDocument, document_id)
        if row is None or row.status == DocumentStatus.REMOVED or row.content is None:
            return {**progress, "done": progress["done"] + 1}
        source, name, data = row.source, row.filename or row.title, row.content
        level, tags, origin = row.visibility, row.tags, row.origin
    jobs.set_progress(sessions, job.id, {**progress, "current": name}, job.owner)
    try:
        document = load_bytes(data, source, PurePath(name).suffix, visibility=level)
        meta = {**document.metadata, "origin": origin} | ({"tags": ",".join(tags)} if tags else {})
        # The pipeline's split → embed → write, incrementally: a document already indexed as it is costs nothing.
        report = index_documents([replace(document, metadata=meta)], indexer.target, indexer.embedder)
        outcome: dict[str, Any] = {"status": DocumentStatus.INDEXED, "last_error": None, "title": document.title}
        if not report.unchanged:
            outcome["chunk_count"] = report.chunks_written
        progress = {**progress, "chunks": progress["chunks"] + report.chunks_written}
    except (LoadError, ValueError) as exc:
        outcome = {"status": DocumentStatus.FAILED, "last_error": str(exc).removeprefix(f"{source}: ")}
        progress = {**progress, "errors": [*progress["errors"], f"{name}: {outcome['last_error']}"]}
    except Exception as exc:  # a parser meeting hostile input can raise anything: the file fails, not the job
        log.exception("ingest of %s crashed", source)
        outcome = {"status": DocumentStatus.FAILED, "last_error": f"could not be parsed ({type(exc).__name__})"}
        progress = {**progress, "errors": [*progress["errors"], f"{name}: {outcome['last_error']}"]}
    with sessions.begin() as session:
        row = session.get_one(StoredDocument, document_id)
        for key, value in outcome.items():
            setattr(row, key, str(value)[:300] if key == "title" else value)
        row.last_ingested_at = utcnow()
    return {**progress, "done": progress["done"] + 1}
