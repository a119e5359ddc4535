"""Several questions in one message: split a message into the questions and requests it asks, each to be answered.

Rules, not a model, so each split is explainable: a message is cut into sentences; a sentence is cut again where
", and" or ", also" opens a new question ("… for an evaluation, and does the region produce …"); short lead-ins
("Two questions:", "Also,") are dropped; a piece is kept when it asks (ends with "?", opens with a question word or
an auxiliary) or requests ("Could you…", "Please…", "We need…"). Statements of context ("I run a start-up in
Solihull.") are not questions. A message with no such piece is one question: the message itself.
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
    r"we want|we need|i need|we are looking|we're looking|i am looking|i'm looking|let me know|explain|describe)\b",
    re.I,
)
_ASKS = re.compile(rf"^{_QUESTION_START}\b", re.I)
_NEW_QUESTION = re.compile(rf",\s+(?:and|also|plus|but)\s+(?={_QUESTION_START}\s)", re.I)
_LEAD_IN = re.compile(r"^(?:also|and|plus|so|then|finally|secondly|firstly|first|second|lastly)\b[,:]?\s*", re.I)
_COLON_LEAD = re.compile(r"^[^:?]{1,40}:\s+")  # "Two questions: …", "My question: …"
_GREETING = re.compile(r"^(?:hi|hello|hey|dear [^,]+|good (?:morning|afternoon|evening))\b[,!.]?\s*", re.I)


def _clean(piece: str) -> str:
    piece = _GREETING.sub("", piece.strip())
    piece = _COLON_LEAD.sub("", piece)
    piece = _LEAD_IN.sub("", piece)
    return piece[:1].upper() + piece[1:] if piece else piece


def _is_question(piece: str) -> bool:
    return len(piece.split()) >= MIN_WORDS and (
        piece.endswith("?") or bool(_ASKS.match(piece)) or bool(_REQUEST_START.match(piece))
    )


def split_message(message: str) -> list[str]:
    """The questions and requests a message asks, in order (at most `MAX_PARTS`); [message] when it asks none."""
    parts: list[str] = []
    for sentence in split_sentences(message):
        pieces = _NEW_QUESTION.split(sentence)
        if any(len(p.split()) < MIN_WORDS for p in pieces):
            pieces = [sentence]  # "Where and when is it?" stays one question
        for piece in pieces:
            cleaned = _clean(piece)
            if _is_question(cleaned):
                ending = "" if cleaned.endswith(("?", ".", "!")) else "?"
                parts.append(cleaned + ending)
    # One question (or none found) is the message itself, untouched: a single question is answered as it was asked.
    return parts[:MAX_PARTS] if len(parts) > 1 else [message]


def asking(message: str) -> str:
    """The sentences of a message that ask, without the context around them ("I'm writing a report on … in
    England."); the message itself when none does."""
    # Cut at every sentence end: `split_sentences` keeps short ones ("Urgent please.") with the one before.
    asked = [s for s in re.split(r"(?<=[.!?])\s+", message.strip()) if _is_question(_clean(s))]
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
