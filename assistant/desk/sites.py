"""Web pages and sitemaps staff add, crawled through the SSRF-safe fetcher now and on a schedule (daily by
default). Unchanged pages cost nothing (their content hash is known), changed ones are replaced, new ones added;
a page gone from the site is removed only after `grace_days` of absence (a site down for an afternoon loses
nothing). Each crawl leaves a summary of what changed.
"""

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk import jobs
from assistant.desk.audit import audit
from assistant.desk.tables import Site, aware, maybe_aware, utcnow
from assistant.desk.views import SiteRow
from assistant.desk.vocabulary import AuditAction, JobKind, SiteStatus
from assistant.engine import Indexer
from assistant.errors import Conflict, InvalidRequest, NotFound
from ingest import fetch
from ingest.pipeline import Hooks, IngestReport, ingest

GRACE_DAYS = 7  # a page missing from its site this long is removed from the index (a site down a day loses nothing)


def add_site(sessions: sessionmaker[Session], url: str, visibility: str, every_hours: int, actor: str) -> int:
    """Add a page or sitemap and queue its first crawl; returns the job's id."""
    url = url.strip()
    if not fetch.is_url(url) or len(url) > 500:
        raise InvalidRequest("Give a web address (http:// or https://) of a page or a sitemap.")
    try:
        with sessions.begin() as session:
            site = Site(
                url=url,
                visibility=visibility,
                tags=[],
                every_hours=max(0, every_hours),
                grace_days=GRACE_DAYS,
                missing={},
                status=SiteStatus.ACTIVE,
                last_summary={},
                created_by=actor,
                created_at=utcnow(),
            )
            session.add(site)
            session.flush()
            audit(session, None, actor, AuditAction.SITE_ADDED, url=url)
            return queue_crawl(session, site.id, actor)
    except IntegrityError:
        raise Conflict(f"{url} is already added: crawl it again from its row.") from None


def queue_ingest(session: Session, payload: dict[str, Any], total: int, actor: str, key: str | None = None) -> int:
    """Queue an ingest job (documents, paths or a site), its progress starting at 0 of `total`; returns its id."""
    job = jobs.enqueue(session, JobKind.INGEST, payload, key=key, max_attempts=3)
    job.progress = {"total": total, "done": 0, "chunks": 0, "errors": [], "current": None, "by": actor}
    session.flush()
    return int(job.id)


def queue_crawl(session: Session, site_id: int, actor: str, key: str | None = None) -> int:
    return queue_ingest(session, {"site": site_id}, 0, actor, key)


def crawl_now(sessions: sessionmaker[Session], site_id: int, actor: str) -> int:
    with sessions.begin() as session:
        site = session.get(Site, site_id)
        if site is None or site.status != SiteStatus.ACTIVE:
            raise NotFound(f"No site {site_id}.")
        return queue_crawl(session, site_id, actor)


def queue_due(sessions: sessionmaker[Session]) -> int:
    """The periodic check: queue a crawl of every site whose schedule says it is due (once per site per hour)."""
    queued = 0
    now = utcnow()
    with sessions() as session:
        scheduled = session.scalars(select(Site).where(Site.status == SiteStatus.ACTIVE, Site.every_hours > 0))
        due = [
            s.id
            for s in scheduled
            if s.last_crawl_at is None or aware(s.last_crawl_at) + timedelta(hours=s.every_hours) <= now
        ]
    for site_id in due:
        try:
            with sessions.begin() as session:
                queue_crawl(session, site_id, "schedule", key=f"crawl:{site_id}:{int(time.time() // 3600)}")
                queued += 1
        except IntegrityError:
            pass  # queued this hour already
    return queued


def listing(sessions: sessionmaker[Session]) -> list[SiteRow]:
    """The sites staff added, by address, with their last crawl."""
    active = select(Site).where(Site.status == SiteStatus.ACTIVE).order_by(Site.url)
    with sessions() as session:
        return [
            SiteRow(
                s.id,
                s.url,
                s.visibility,
                s.every_hours,
                maybe_aware(s.last_crawl_at),
                s.last_summary or {},
                sorted(s.missing or {}),
                s.grace_days,
            )
            for s in session.scalars(active)
        ]


def crawl(
    sessions: sessionmaker[Session], indexer: Indexer, settings: Settings, job: jobs.Claimed, left_out: frozenset[str]
) -> IngestReport:
    """One crawl of a site (the ingest job's work for `{"site": id}`), progress on the job row."""
    with sessions() as session:
        site = session.get(Site, job.payload["site"])
        if site is None or site.status != SiteStatus.ACTIVE:
            raise NotFound("The site was removed.")
        url, level, grace, missing = site.url, site.visibility, timedelta(days=site.grace_days), dict(site.missing)
    now = utcnow()

    def progress(done: int, total: int, source: str, report: IngestReport) -> None:
        errors = [f"{where}: {why}" for where, why in report.failed]
        jobs.set_progress(
            sessions,
            job.id,
            {"total": total, "done": done, "chunks": report.chunks_written, "errors": errors, "current": source},
            job.owner,
        )

    def remove_now(gone: list[str]) -> list[str]:
        """Pages missed for longer than the grace period go; the others wait (and are remembered as missing)."""
        for page in gone:
            missing.setdefault(page, now.isoformat())
        return [page for page in gone if now - datetime.fromisoformat(missing[page]) >= grace]

    policy = fetch.FetchPolicy.allowing(settings.ingest_allowed_networks)
    report = ingest(
        [url],
        indexer.target,
        indexer.embedder,
        progress=False,
        visibility=level,
        fetch_policy=policy,
        left_out=left_out,
        hooks=Hooks(progress, remove_now),
    )
    found = set(report.added) | set(report.updated) | set(report.unchanged)
    summary = {
        "added": report.added,
        "changed": report.updated,
        "removed": report.removed,
        "unchanged": len(report.unchanged),
        "failed": [f"{s}: {why}" for s, why in report.failed],
        "at": now.isoformat(),
    }
    with sessions.begin() as session:
        site = session.get_one(Site, job.payload["site"])
        site.missing = {p: t for p, t in missing.items() if p not in found and p not in report.removed}
        site.last_crawl_at, site.last_summary = now, summary
    done = {
        "total": len(found) + len(report.failed),
        "done": len(found) + len(report.failed),
        "current": None,
        "chunks": report.chunks_written,
        "errors": summary["failed"],
        "summary": summary,
    }
    jobs.set_progress(sessions, job.id, done, job.owner)
    indexer.written()
    return report
