"""How current an answer is. Every passage has its document's date when it has one (front matter `date:`, or the
day a web page was fetched). A question about the present ("Is Babylon still operating?") is answered from what
the documents say with that date in the text, and says that they do not speak to today: a document from 2021
saying "Babylon is a large British company" must not read as "yes, still".
"""

import re
from datetime import date

from assistant.models import Chunk

# Words that ask about now. The adverbs among them ("still", "currently") carry nothing to retrieve by and are taken
# out before assessing ("Does PIONEER currently accept…" is assessed as "Does PIONEER accept…"); "current" and
# "latest" stay, as they may name what is asked ("the current population").
_NOW_ADVERBS = (
    r"still|currently|nowadays|presently|right now|now|today|at (?:the )?moment|at present|these days|any ?more|"
    r"as of now"
)
_PRESENT = re.compile(rf"\b(?:{_NOW_ADVERBS}|current|latest|this year|up to date|up-to-date)\b", re.I)
_ADVERB = re.compile(rf"\b(?:{_NOW_ADVERBS})\b", re.I)


def asks_about_present(question: str) -> bool:
    return bool(_PRESENT.search(question))


def without_present(question: str) -> str:
    """The question with its words about now removed (for retrieval), or unchanged if nothing would be left."""
    stripped = " ".join(_ADVERB.sub(" ", question).split())
    stripped = re.sub(r"\s+([?.!,])", r"\1", stripped)
    return stripped if len(stripped.split()) >= 2 else question


def document_date(chunk: Chunk) -> date | None:
    """The date of a passage's document: its front matter `date:`, else when it was fetched; None when unknown."""
    for key in ("date", "fetched"):
        value = chunk.metadata.get(key, "")
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            continue
    return None


def spoken(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def as_of(text: str, chunks: list[Chunk]) -> str:
    """An answer to a question about now: what the documents say, dated by the oldest document quoted."""
    dates = [d for d in (document_date(c) for c in chunks) if d is not None]
    if not dates:
        return f"The cluster's documents say: {text} They carry no date, so they do not say whether this is still so."
    one = len({c.source for c in chunks}) == 1
    quoted = "the document quoted; it does" if one else "the oldest document quoted; they do"
    return (
        f"As of {spoken(min(dates))}, the cluster's documents say: {text} "
        f"(That is the date of {quoted} not say whether this is still the case.)"
    )
