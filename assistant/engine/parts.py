"""Several questions in one message: split a message into the questions and requests it asks, each to be answered.

Rules, not a model, so each split is explainable, and the same for the chat and for e-mail: a message is cut into
paragraphs, each item of a numbered or bulleted list its own; then into sentences at every ".", "?" or "!" (lower-case
text too; not after "Dr." or "e.g."); a sentence is cut again where ", and" or ", also" opens a new question ("… for
an evaluation, and does the region produce …"). A lead-in ending in ":" ("A couple of questions before we take this
to our board: is there …") and openers ("Also,", "Second,") are dropped; a piece is kept when it asks (ends with "?",
opens with a question word or an auxiliary) or requests ("Could you…", "Please send…", "I'd like to know whether…").
Statements of context ("I run a start-up in Solihull.") are not questions, but they are kept beside the questions
after them, so that "it" in "Is it expanding?" can be read as what the statement before named. A sign-off ("Thanks,
Anita") is a sentence of its own, never part of a question. A message with no such piece is one question: the
message itself.
"""

import re

from assistant.engine.guard import SIGNPOST
from assistant.engine.terms import split_sentences
from assistant.models import Part

NOT_FOUND = "I couldn't find an answer to that in the cluster's documents, so I won't guess."
OFFER_PERSON = "If you'd like, a person from the cluster team can help."

MAX_PARTS = 5  # a message rarely asks more; the bound keeps one message's work bounded too
MIN_WORDS = 3  # a piece shorter than this is not a question of its own ("Where", "and when")
_QUESTION_START = (
    r"(?:who|what|which|where|when|why|how|whose|whom|is|are|was|were|does|do|did|can|could|will|would|should|"
    r"has|have|had|may|might)"
)
_REQUEST_START = re.compile(
    r"^(?:could you|can you|would you|please|tell me|i'd like|i would like|i want|we'd like|we would like|"
    r"we want|we need|i need|we are looking|we're looking|i am looking|i'm looking|let me know|explain|describe|"
    r"i wonder|i was wondering|i'm wondering|we were wondering|i'd be grateful|we'd be grateful|"
    r"i would be grateful|we would be grateful|i'm interested in|we're interested in)\b",
    re.I,
)
_ASKS = re.compile(rf"^{_QUESTION_START}\b", re.I)
_NEW_QUESTION = re.compile(rf",\s+(?:and|also|plus|but)\s+(?={_QUESTION_START}\s)", re.I)
_LEAD_IN = re.compile(r"^(?:also|and|plus|so|then|finally|secondly|firstly|first|second|lastly)\b[,:]?\s*", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[a-z][.)]|[-*•–])\s+")  # "1. …", "2) …", "a) …", "- …", "• …"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_GREETING = re.compile(
    # "Dear Cluster team,", "Hi Alex,", "Hello there," (a greeting and up to three words before a comma), or a bare
    # "Hi", "Good morning".
    r"^(?:(?:hi|hiya|hello|hey|dear|greetings|(?:good )?(?:morning|afternoon|evening))(?:\s+[^\s,.!?]+){0,3}\s*[,!]|"
    r"(?:hi|hiya|hello|hey|greetings|(?:good )?(?:morning|afternoon|evening))\b[,!.]?)\s*",
    re.I,
)


def _clean(piece: str) -> str:
    piece = _GREETING.sub("", piece.strip())
    lead, colon, rest = piece.partition(": ")
    if colon and "?" not in lead and _is_question(_clean(rest)):  # "A couple of questions before …: is there …"
        piece = rest
    piece = _LEAD_IN.sub("", piece)
    return piece[:1].upper() + piece[1:] if piece else piece


def _is_question(piece: str) -> bool:
    return len(piece.split()) >= MIN_WORDS and (
        piece.endswith("?") or bool(_ASKS.match(piece)) or bool(_REQUEST_START.match(piece))
    )


def sentences(message: str) -> list[str]:
    """A message's sentences in order: its paragraphs (lines of one paragraph joined; each list item its own),
    each cut into sentences."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", message.strip()):
        for line in paragraph.splitlines():
            item = _LIST_ITEM.match(line)
            if item or not blocks or blocks[-1].endswith(":") or line.strip().endswith(":"):
                blocks.append(line[item.end() :].strip() if item else line.strip())
            else:
                blocks[-1] = f"{blocks[-1]} {line.strip()}".strip()
        blocks.append("")  # a paragraph ends: the next line starts a block of its own
    # Text written with capitals ends a sentence only before one, and not after "Dr." or "U.S." (as the documents'
    # sentences are cut); text written without them ends one at every full stop.
    capitalised = re.search(r"(?:^|[.!?]\s+)[A-Z]", message) is not None
    found: list[str] = []
    for block in filter(None, blocks):
        found += split_sentences(block, keep_short=True) if capitalised else _SENTENCE_END.split(block)
    return [s for s in found if s.strip()]


def split_with_context(message: str) -> list[tuple[str, list[str]]]:
    """The questions and requests a message asks, in order (at most `MAX_PARTS`), each with the statements that
    came before it (since the question before): [(message, [])] when it asks fewer than two."""
    parts: list[tuple[str, list[str]]] = []
    context: list[str] = []
    for sentence in sentences(message):
        pieces = _NEW_QUESTION.split(sentence)
        if any(len(p.split()) < MIN_WORDS for p in pieces):
            pieces = [sentence]  # "Where and when is it?" stays one question
        for piece in pieces:
            cleaned = _clean(piece)
            if _is_question(cleaned):
                ending = "" if cleaned.endswith(("?", ".", "!")) else "?"
                parts.append((cleaned + ending, context))
                context = []
            elif cleaned:
                context = [*context, cleaned]
    # One question (or none found) is the message itself, untouched: a single question is answered as it was asked.
    return parts[:MAX_PARTS] if len(parts) > 1 else [(message, [])]


def split_message(message: str) -> list[str]:
    """The questions and requests a message asks, in order (at most `MAX_PARTS`); [message] when it asks none."""
    return [part for part, _context in split_with_context(message)]


def asks_anything(message: str) -> bool:
    """Whether any sentence of the message asks or requests something (an e-mail that only tells asks nothing)."""
    return any(_is_question(_clean(s)) for s in sentences(message))


def asking(message: str) -> str:
    """The sentences of a message that ask, without the context around them ("I'm writing a report on … in
    England."); the message itself when none does."""
    # Cut at every sentence end: `split_sentences` keeps short ones ("Urgent please.") with the one before.
    asked = [s for s in sentences(message) if _is_question(_clean(s))]
    return " ".join(asked) or message


def compose_parts(answered: list[Part], open_questions: list[str], signposted: bool, help_text: str) -> str:
    """The answer to a message of several questions: the signpost first when one asks for medical advice, then
    each answered question with its cited answer, then plainly which questions need a person."""
    if not answered and not signposted:
        return f"{NOT_FOUND} {help_text} {OFFER_PERSON}"
    blocks = [SIGNPOST] if signposted else []
    blocks += [f"{p.question}\n{p.text}" for p in answered]
    if open_questions:
        these = "this" if len(open_questions) == 1 else "these"
        blocks.append(
            f"The cluster's documents don't answer {these}, so a person from the cluster team can help: "
            + " ".join(open_questions)
        )
    return "\n\n".join(blocks)


def first_person(text: str) -> bool:
    """Whether a question speaks of the writer or someone close ("my son", "can I …"): personal, not general."""
    return bool(re.search(r"\b(i|i'm|i've|my|me|we|our|he|she|his|her)\b", text, re.I))
