"""Staff's written answers to knowledge gaps: each a Markdown document of its own (front matter: title, author,
date, visibility), kept in the database like an upload, so the library ingests it like one."""

import json

from sqlalchemy.orm import Session, sessionmaker

from assistant.desk.tables import StoredDocument, utcnow
from assistant.desk.views import WrittenAnswer
from assistant.desk.vocabulary import DocumentOrigin, DocumentStatus
from assistant.errors import InvalidRequest, NotFound
from ingest.load import split_front_matter


def answer_of(sessions: sessionmaker[Session], document_id: int) -> WrittenAnswer:
    """A written answer's title, text and visibility (for editing it); raises `NotFound`."""
    with sessions() as session:
        row = session.get(StoredDocument, document_id)
        if row is None or row.origin != DocumentOrigin.ANSWER or row.content is None:
            raise NotFound(f"No written answer {document_id}.")
        meta, body = split_front_matter(row.content.decode("utf-8"))
    text = body.split("\n", 2)[-1].strip() if body.startswith("# ") else body.strip()
    return WrittenAnswer(meta.get("title", row.title), text, row.visibility)


def store_answer(
    session: Session, title: str, text: str, level: str, author: str, document_id: int | None
) -> StoredDocument:
    """The answer's document row, new or (with `document_id`) a new version of one, holding its Markdown."""
    title, text = " ".join(title.split())[:200], text.strip()
    if not title or len(text) < 20:
        raise InvalidRequest("An answer needs a title and at least a sentence of text.")
    front = {"title": title, "author": author, "date": utcnow().date().isoformat(), "visibility": level}
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
