"""Follow-ups: rewrite "Who can use its data?" after "What is PIONEER?" into a question that stands alone.

The subject of the latest earlier question that has one (its longest capitalised name, else the phrase after
"about"/"is"/…) replaces the first pronoun, or a noun phrase that points back: "that hub", "the company" (the
subject itself), "those universities", "the data" (the subject's: "West Midlands universities", "PIONEER data").
A question with neither, or naming something of its own, is taken to stand alone.
"""

import re

from assistant.config import MAX_HISTORY_ITEMS
from assistant.engine.parts import split_with_context

# "this", "that" and "there" are left out: as often as not they point at the question's own words.
_PRONOUN = re.compile(r"\b(its|their|it|they|them|he|she|his|her)\b", re.I)
_POSSESSIVE = {"its", "their", "his", "her"}
# A "there" that ends a question points at a place named before ("Which companies are based there?"); an
# existential one ("Is there …", "are there any …?") is not replaced.
_THERE = re.compile(r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere(?=[\s?.!]*$)", re.I)
_SUBJECT_AFTER = re.compile(
    r"\b(?:about|is|are|was|were|does|do|did|of|on|regarding|describe|explain)\s+(.+?)[?.!]*$", re.I
)
_LEADING = re.compile(r"^(the|a|an|your|our)\s+", re.I)
_QUESTION_WORDS = {"what", "who", "where", "when", "why", "how", "which", "tell", "is", "are", "can", "do", "does"}
MAX_SUBJECT_WORDS = 4
# Nouns that name the kind of thing a subject is: "the company" after "What is Dignio?" is Dignio itself. Not
# "cluster" or "network": "the cluster" is the one this assistant speaks for.
_KINDS = (
    "company|firm|business|organisation|organization|hub|database|platform|programme|program|project|service|"
    "product|charity|centre|center|institute|university|partnership|scheme|initiative|app"
)
# "that hub", "those universities", "this data", and "the" with a kind of thing ("the company") or "the data".
# A "that" before a pronoun, an article or a verb joins a clause ("a community that our scientists could join"):
# it points at nothing.
_NOT_A_NOUN = (
    r"(?!(?:our|we|you|they|i|he|she|it|its|my|your|their|the|a|an|is|are|was|were|has|have|had|can|could|will|"
    r"would|should|may|might|do|does|did|be|been|in|on|of|to|for|with|and|or|there)\b)"
)
_POINTING = re.compile(
    rf"\b(?:(?:that|this|those|these)\s+{_NOT_A_NOUN}(?P<noun>[a-z][\w-]*)|the\s+(?P<kind>{_KINDS}|data)s?)\b"
    r"(?!\s+of\b)"
)
_KIND = re.compile(rf"^(?:{_KINDS})$")


def subject_of(question: str) -> str | None:
    """The thing a question is about: its longest capitalised name, else the phrase after "about"/"is"/…."""
    text = question.strip()
    names = re.findall(r"\b[A-Z][\w&’'-]*(?:\s+(?:of\s+)?[A-Z][\w&’'-]*)*", text)
    # A question word opening the question is no part of a name: "Is Dignio's product…" is about Dignio.
    names = [" ".join(n.split()[1:]) if n.split()[0].lower() in _QUESTION_WORDS else n for n in names]
    names = [re.sub(r"[’']s?$", "", n) for n in names if n and not _PRONOUN.fullmatch(n)]  # Dignio's: Dignio
    if names:
        name = max(names, key=len)
        before = text[: text.index(name)].split()
        after = text[text.index(name) + len(name) :].split()
        # "about the PIONEER hub": a name after "the" that ends the question keeps its noun.
        if before and before[-1].lower() == "the" and len(after) == 1 and after[0].strip("?.!,").isalpha():
            name = f"{name} {after[0].strip('?.!,')}"
        return name
    match = _SUBJECT_AFTER.search(text)
    if match:
        subject = _LEADING.sub("", match.group(1).strip())
        words = subject.split()
        if 0 < len(words) <= MAX_SUBJECT_WORDS and not _PRONOUN.match(subject):
            return subject
    return None


def _substitute(question: str, subject: str | None) -> str:
    """`question` with its first pronoun replaced by `subject` (possessive kept), if it has one."""
    match = _PRONOUN.search(question)
    if not subject or subject.lower() in question.lower():
        return question
    place = _THERE.search(question)
    if not match and place and subject[:1].isupper():
        return question[: place.start()] + f"in {subject}" + question[place.end() :]
    if not match:
        return _noun_phrase(question, subject)
    word = match.group(0)
    replacement = f"{subject}'s" if word.lower() in _POSSESSIVE else subject
    return question[: match.start()] + replacement + question[match.end() :]


def _noun_phrase(question: str, subject: str) -> str:
    """`question` with a noun phrase that points back ("that hub", "those universities") resolved, if it has one
    and names nothing of its own."""
    found = _POINTING.search(question)
    named = re.search(r"(?<!^)\b[A-Z][\w&’'-]+", question.strip())
    if not found or named or not subject[:1].isupper():
        return question
    noun = found["noun"] or found["kind"]
    whole = found.group(0)
    # The kind of thing the subject is stands for the subject; anything else is the subject's ("PIONEER data").
    replaced = subject if _KIND.match(noun.rstrip("s")) else f"{subject} {whole.split(maxsplit=1)[1]}"
    return question[: found.start()] + replaced + question[found.end() :]


def resolve(question: str, history: list[str]) -> str:
    """`question` made to stand alone, using the earlier user turns (oldest first).

    One pass, left to right: each earlier turn is made to stand alone with the subject carried so far, then gives
    its own subject if it has one. The work is linear in the history, whatever pronouns it holds (a recursive
    re-resolution of the whole history per turn doubled per turn: 50 turns never ended).
    """
    if not history or not (_PRONOUN.search(question) or _THERE.search(question) or _POINTING.search(question)):
        return question
    subject: str | None = None
    for earlier in history:
        standing = _substitute(earlier, subject)
        # A turn that pointed back stays on its topic ("Is it bigger than Babylon?" is still about Dignio); any
        # other turn gives its own subject, if it has one.
        subject = subject if subject and standing != earlier else subject_of(standing) or subject
    return _substitute(question, subject)


_THEN = re.compile(r"\b(?:then|that time)\b", re.I)


def points_back(question: str) -> bool:
    """Whether a question leans on something said before it: a pronoun, a pointing noun phrase, "then", or a
    "there" that means a place ("based there?"; not "is there …", which points at nothing)."""
    return bool(
        _PRONOUN.search(question) or _POINTING.search(question) or _THEN.search(question) or _THERE.search(question)
    )


def read_parts(message: str, history: list[str]) -> list[tuple[str, str]]:
    """The questions a message asks (see `parts.split_with_context`), each as asked and made to stand alone: read
    with the earlier turns, the message's statements before it and its questions before it, as asked (so a part
    that pointed back keeps its topic); a part that leans on the sentence before it ("the progress made then",
    "the company") is read with that sentence."""
    read: list[tuple[str, str]] = []
    earlier = list(history)
    for part, context in split_with_context(message):
        said = context or [read[-1][0] for _ in read[-1:]]  # the sentence before: a statement, or the last question
        earlier = [*earlier, *context][-MAX_HISTORY_ITEMS:]
        resolved = resolve(part, earlier)
        read.append((part, f"{said[-1]} {resolved}" if said and points_back(part) else resolved))
        earlier = [*earlier, part][-MAX_HISTORY_ITEMS:]
    return read
