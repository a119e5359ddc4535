"""Text analysis shared by ingest and answering: sentence splitting, and content-word stems for BM25 and scoring."""

import re
from collections.abc import Set as AbstractSet
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves also tell please
    s t don't isn't aren't wasn't weren't it's i'm what's who's there's let""".split()  # noqa: SIM905 (a list is 150 lines)
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Content-word stems of a text, in order, repeats kept."""
    words = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    kept = [w.split("'")[0] for w in words if w not in STOP_WORDS]
    return list(_stemmer().stemWords([w for w in kept if w]))


_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "no",
    "nos",
    "fig",
    "approx",
    "inc",
    "ltd",
    "co",
    "corp",
    "dept",
    "univ",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "cf",
    "al",
    "u.k",
    "u.s",
    "p",
    "pp",
    "vol",
    "ed",
    "eds",
}
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
MIN_SENTENCE_WORDS = 4  # shorter pieces ("Coventry and Wolverhampton.") stay with the sentence before them


def split_sentences(text: str, keep_short: bool = False) -> list[str]:
    """Sentences of a paragraph, not breaking after common abbreviations or initials. A short piece stays with the
    sentence before it unless `keep_short` (a message's "Thanks, Anita" is no part of its question)."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].strip()
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    sentences: list[str] = []
    for piece in pieces:
        if sentences and not keep_short and len(piece.split()) < MIN_SENTENCE_WORDS and not re.search(r"[!?]$", piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [s for s in sentences if s]


# A sentence opening like this continues what came before it ("…is PIONEER. This is a major research database…",
# "The company's ambition…", "They launched…"): a pronoun, or "the"/"this" and a noun naming a kind of entity.
DESCRIPTORS = (
    r"company|companies|firm|business|partnership|hub|database|project|programme|program|organisation|"
    r"organization|group|service|model|scheme|initiative|centre|center|network|platform|team|trust|university|"
    r"institute|charity|consortium|venture|product|device|app|system|tool|study|trial|fund"
)
_ANAPHOR = re.compile(
    rf"^(?:this|these|that|those|it|its|they|their|he|she|his|her|such|"
    rf"(?:the|this|that|these|those) (?:new |same |[a-z]+-based )?(?:{DESCRIPTORS}))(?:'s|’s)?\b",
    re.I,
)
# A name: a run of capitalised words (with "of", "for", "and" inside), e.g. "PIONEER Health Data Research Hub".
_NAMES = re.compile(r"[A-Z][\w&’'-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w&’'-]*)*")


def is_continuation(sentence: str) -> bool:
    """Whether a sentence refers back ("It…", "This database…", "The company…") rather than standing alone."""
    return bool(_ANAPHOR.match(sentence))


def names(sentence: str, known: AbstractSet[str] = frozenset()) -> list[str]:
    """The capitalised names in a sentence. A single capitalised word that opens the sentence is a name only when
    it is written in capitals ("PIONEER") or is one of the `known` names' words; otherwise it is just capitalised."""
    found = []
    for match in _NAMES.finditer(sentence):
        name = match.group(0)
        single = match.start() == 0 and " " not in name and not (name.isupper() and len(name) > 1)
        if single and (not terms(name) or not set(terms(name)) <= known):
            continue
        if match.start() == 0 and name.split(" ", 1)[0].lower() in ("the", "a", "an", "this", "in", "at", "on"):
            name = name.split(" ", 1)[1] if " " in name else ""
        if terms(name):
            found.append(name)
    return found
