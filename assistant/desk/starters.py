"""Starter questions for the chat when the operator sets none: the public documents' section headings (and the titles
of documents without sections) asked as plain questions, each kept only if the assistant answers it.

"The four Ds" becomes "What are the four Ds?", "Regional Landscape" "What is the regional landscape?". A heading
word is lowercased when the documents write it in lower case more often than capitalised mid-sentence, so names
("West Midlands", "PIONEER") keep their capitals. Headings that name no subject ("Introduction") are skipped.
"""

import re
from collections import Counter
from collections.abc import Iterable

from assistant.engine import PUBLIC_ONLY, Assistant
from assistant.models import Chunk

# Headings about the document, not about a subject a visitor would ask of.
_BOILERPLATE = {
    "about",
    "about us",
    "abstract",
    "acknowledgements",
    "appendix",
    "background",
    "conclusion",
    "conclusions",
    "contact",
    "contact us",
    "contents",
    "disclaimer",
    "executive summary",
    "faq",
    "faqs",
    "further reading",
    "glossary",
    "introduction",
    "notes",
    "overview",
    "preface",
    "references",
    "summary",
    "table of contents",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_MID_SENTENCE = re.compile(r"(?<=[a-z,;:] )[A-Za-z][a-z'’-]+")  # a word that follows a lower-case word
_JOINS = {"in", "of", "for", "and", "at", "on", "with", "to", "from", "across", "by"}
_DETERMINERS = {"our", "your", "their", "its", "this", "these", "those", "some", "all"}
_LONGEST = 80  # characters: a starter is a button label
TRIED_PER_STARTER = 5  # headings checked (each as `ask` would decide it) per starter wanted


def automatic_starters(assistant: Assistant, count: int) -> list[str]:
    """Up to `count` questions about the public documents' sections, in document order, that the assistant answers
    (decided as `ask` decides, without calling an LLM writer: a starter must never lead to an apology)."""
    chunks = assistant.catalogue.chunks(PUBLIC_ONLY)
    casing = word_casing(c.text for c in chunks)
    starters: list[str] = []
    for subject in subjects(chunks)[: count * TRIED_PER_STARTER]:  # a bound on start-up work in a large corpus
        question = as_question(subject, casing)
        if question and question not in starters and len(question) <= _LONGEST and assistant.answers(question):
            starters.append(question)
        if len(starters) == count:
            break
    return starters


def subjects(chunks: list[Chunk]) -> list[str]:
    """Each document's section headings (the last level of each), or its title when it has none; round robin
    across documents so that one long document does not fill every starter."""
    per_document: dict[str, list[str]] = {}
    for chunk in chunks:
        found = per_document.setdefault(chunk.source, [])
        heading = chunk.section.split(" > ")[-1].strip() if chunk.section else ""
        if heading and heading not in found and heading.lower() not in _BOILERPLATE:
            found.append(heading)
    titles = {c.source: c.title for c in chunks}
    lists = [found or [titles[source]] for source, found in per_document.items()]
    return [items[i] for i in range(max(map(len, lists), default=0)) for items in lists if i < len(items)]


def word_casing(texts: Iterable[str]) -> Counter[str]:
    """How often each word is written in lower case (positive) versus capitalised mid-sentence (negative)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for word in _MID_SENTENCE.findall(text):
            counts[word.lower()] += 1 if word.islower() else -1
    return counts


def as_question(subject: str, casing: Counter[str]) -> str | None:
    """ "What is/are …?" for a heading or title; None for one that is not a noun phrase of words."""
    words = subject.strip().rstrip(":.").split()
    if not words or not all(_WORD.fullmatch(w.strip("()")) for w in words) or words[-1].lower() in _JOINS:
        return None
    cased: list[str] = []
    for i, word in enumerate(words):
        # A capitalised word right after one that kept its capital continues a name ("PIONEER Health Data Hub").
        name_goes_on = i > 0 and cased[-1][0].isupper() and word[0].isupper()
        cased.append(word if name_goes_on else _cased(word, casing))
    words = cased[1:] if cased[0] in ("the", "a", "an") else cased
    if not words:
        return None
    head = next((words[i - 1] for i, w in enumerate(words) if i and w in _JOINS), words[-1])
    verb = "are" if _plural(head) else "is"
    # A proper name stands alone ("What is PIONEER?"); a common noun takes "the" ("What is the regional landscape?").
    article = "" if words[0][0].isupper() or words[0] in _DETERMINERS else "the "
    return f"What {verb} {article}{' '.join(words)}?"


def _cased(word: str, casing: Counter[str]) -> str:
    if len(word) <= 2 or not word[0].isupper() or not word[1:].islower():
        return word  # acronyms ("PIONEER", "NHS"), "Ds", and words already in lower case
    return word.lower() if casing[word.lower()] >= 0 else word


def _plural(word: str) -> bool:
    return len(word) > 1 and word.endswith("s") and not word.endswith(("ss", "us", "is"))
