"""Staff's written answers to knowledge gaps: each a Markdown document of its own (front matter: title, author,
date, when published, visibility, the questions it answers), kept in the database like an upload, so the library
ingests it like one."""

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.tables import StoredDocument, utcnow
from assistant.desk.views import WrittenAnswer
from assistant.desk.vocabulary import DocumentOrigin, DocumentStatus
from assistant.errors import InvalidRequest, NotFound
from ingest.front_matter import split_front_matter

MAX_QUESTIONS = 20


def answer_of(sessions: sessionmaker[Session], document_id: int) -> WrittenAnswer:
    """A written answer's title, text and visibility (for editing it); raises `NotFound`."""
    with sessions() as session:
        row = session.get(StoredDocument, document_id)
        if row is None or row.origin != DocumentOrigin.ANSWER or row.content is None:
            raise NotFound(f"No written answer {document_id}.")
        meta, body = split_front_matter(row.content.decode("utf-8"))
    text = body.split("\n", 2)[-1].strip() if body.startswith("# ") else body.strip()
    asked = [q for q in meta.get("questions", "").split("\n") if q.strip()]
    return WrittenAnswer(meta.get("title", row.title), text, row.visibility, asked)


def published_answers(session: Session) -> list[tuple[datetime, list[str]]]:
    """When each written answer in use was last published, and the questions it answers."""
    rows = session.scalars(
        select(StoredDocument).where(
            StoredDocument.origin == DocumentOrigin.ANSWER, StoredDocument.status != DocumentStatus.REMOVED
        )
    ).all()
    found = []
    for row in rows:
        meta, _ = split_front_matter((row.content or b"").decode("utf-8", "replace"))
        asked = [q for q in meta.get("questions", "").split("\n") if q.strip()]
        if asked and meta.get("published"):
            found.append((datetime.fromisoformat(meta["published"]), asked))
    return found


def _questions(questions: list[str]) -> list[str]:
    """The questions an answer answers: one a line, each a question of its own, at most `MAX_QUESTIONS`."""
    kept = [" ".join(q.split())[:300] for q in questions if q.strip()]
    return list(dict.fromkeys(kept))[:MAX_QUESTIONS]


def store_answer(session: Session, written: WrittenAnswer, author: str, document_id: int | None) -> StoredDocument:
    """The answer's document row, new or (with `document_id`) a new version of one, holding its Markdown: the
    front matter keeps the questions it answers (the engine matches visitors' questions against them) and when it
    was published (knowledge gaps asked before then are closed by it)."""
    title, text, level = " ".join(written.title.split())[:200], written.text.strip(), written.visibility
    if not title or len(text) < 20:
        raise InvalidRequest("An answer needs a title and at least a sentence of text.")
    now = utcnow()
    front = {
        "title": title,
        "author": author,
        "date": now.date().isoformat(),
        "published": now.isoformat(),
        "visibility": level,
        "questions": _questions(written.questions) or [title],
    }
    markdown = "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items()) + f"---\n# {title}\n\n{text}\n"
    if document_id is None:
        row = StoredDocument(
            source=f"pending/{utcnow().timestamp()}",
            title=title,
            origin=DocumentOrigin.ANSWER,
            tags=[],
            visibility=level,
            status=DocumentStatus.PENDING,
            chunk_count=0,
            size=0,
            created_by=author,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        row.source, row.filename = f"answers/{row.id}.md", f"answer-{row.id}.md"
    else:
        found = session.get(StoredDocument, document_id)
        if found is None or found.origin != DocumentOrigin.ANSWER:
            raise NotFound(f"No written answer {document_id}.")
        row = found
        if row.status == DocumentStatus.REMOVED:
            row.status, row.removed_at, row.removed_by = DocumentStatus.PENDING, None, None
    row.title, row.visibility, row.content = title, level, markdown.encode("utf-8")
    row.size = len(row.content)
    return row
