"""Answer types: what kind of answer a question asks for, and whether a sentence holds one.

"When" is answered only by a sentence with a date or year, "how much / what does it cost" by an amount, "how many"
by a number, "who / which organisation" by a name other than the ones the question gives, "where" by a place. A
sentence without one does not answer, however well it matches: "One hospital trust … came up" does not say *which*
trust; "a single Data Controller" does not say *who*.

Plain patterns, not a library: what answers "when" here is a year, a month, a century or decade, a time, a day, a
season or a named period, which a pattern finds exactly (dateparser's `search_dates` reads "may", "march" and
"second" as dates and costs milliseconds a sentence), and no named-entity model installs from PyPI with its weights
to run offline.
"""

import re

DATE, MONTH, AMOUNT, NUMBER, NAME, PLACE = "date", "month", "amount", "number", "name", "place"

# Up to two words before the noun ("which British city", "what local NHS trust"), but not "what kind of company",
# which asks for a description.
_MODIFIERS = r"(?!(?:kind|kinds|type|types|sort|sorts) of\b)(?:[\w-]+ ){0,2}"
_AUXILIARIES = "is|are|was|were|did|does|do|will|would|can|could|should|has|have|had|may|might|must|shall"
_ASKS = (
    (
        AMOUNT,
        r"\bhow much (?:does|do|did|is|are|was|were|will|would)\b.*\b(?:cost|costs|charge|pay|paid|worth|fee|"
        r"price)\b|\bhow much (?:money|funding|investment|does it cost)\b|\bwhat (?:does|do|did|will|would) .*"
        r"\bcost\b|\bwhat (?:is|are|was|were) (?:the )?(?:cost|price|fee|fees|value|worth)\b|\bhow much is .* "
        r"worth\b|\bwhat is .* worth\b",
    ),
    (
        NUMBER,
        r"\bhow many\b|\bwhat (?:number|percentage|proportion|share) of\b|\bhow much (?:of|percent)\b|"
        r"\bhow (?:long(?! ago)|old|far)\b",
    ),
    (MONTH, r"\b(?:which|what) month\b"),  # a year does not say which month
    (
        DATE,
        # "When" asking ("When did …", "and when was …"), not opening a condition ("When an activated T cell …,
        # it releases what?") nor inside one ("What happens when …").
        rf"(?:^\W*|[,;:]\s*|\b(?:and|so|then|but) )when (?:{_AUXILIARIES})\b|\b(?:what|which) (?:year|date|month|"
        r"decade|century|day)\b|\bsince when\b|\bhow long ago\b|\bin what year\b",
    ),
    (
        NAME,
        r"^who\b|\bwho (?:is|are|was|were|runs|leads|owns|founded|set up|started|funds|acts|did|does|do)\b|"
        rf"\b(?:which|what) {_MODIFIERS}(?:organisation|organization|company|companies|firm|firms|trust|trusts|"
        r"university|universities|body|bodies|person|people|hospital|hospitals|charity|charities|business|businesses|"
        r"partner|partners|group|groups|team|agency)\b",
    ),
    (
        PLACE,
        r"^where\b|\bwhere (?:is|are|was|were|does|do|did|can|could)\b|"
        rf"\b(?:in |at )?(?:which|what) {_MODIFIERS}(?:city|cities|town|towns|country|countries|region|regions|"
        r"county|place|places|area|location|site)\b",
    ),
)
_ASKED = [(kind, re.compile(pattern, re.I)) for kind, pattern in _ASKS]

_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_ORDINALS = (
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|"
    r"fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first"
)
_DATE = re.compile(
    r"\b(?:1[0-9]\d\d|20\d\d)s?\b"  # a year or a decade
    rf"|\b(?:{_MONTHS}) (?:\d{{1,2}}|of|\d{{4}})\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})\b"  # a day of a month
    rf"|\b\d{{1,2}}(?:st|nd|rd|th) century\b|\b(?:{_ORDINALS}) century\b"
    r"|\b(?:yesterday|today|tomorrow|last (?:year|month|week)|this year|next year)\b"
    # A time, a day or a season ("at nine on Mondays", "07:15", "every weekday", "in spring") answers "when" too.
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(?:weekdays?|weekends?|noon|midnight|dawn|dusk)\b"
    r"|\b(?:in the )?(?:morning|afternoon|evening)s?\b|\bat (?:\d|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve)\b|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2} ?(?:am|pm)\b|\b(?:daily|weekly|monthly|annually|yearly)\b"
    r"|\b(?:every|each) (?:day|week|month|year|quarter)\b|\b(?:spring|summer|autumn|winter)\b"
    # A period or an event: "during the Second World War", "after the Restoration", "following the war".
    r"|\bduring\b|\b(?:after|before|since|until|following)\s+(?:the\s+)?(?:[A-Z]\w+|wars?|era|period|reign)\b"
    r"|\b(?:since|until|by|in|from) (?:the )?(?:early|mid|late)?-?\d{2,4}s?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.I,
)
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b", re.I)  # what answers "which month"
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    r"million|millions|billion|billions|dozen|dozens|half|twice|single|both|a couple"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_AMOUNT = re.compile(
    r"[£$€¥]\s?\d|\b\d[\d,.]*\s?(?:k|m|bn|million|billion|thousand)?\s?(?:pounds?|dollars?|euros?|pence|p|gbp|usd|"
    r"eur)\b|\bfree(?: of charge)?\b|\bno (?:cost|charge|fee)\b|\bat no cost\b|\bcosts? nothing\b|\bworth\b.*\d|"
    r"\b\d[\d,.]*\s?(?:million|billion|bn|m)\b",
    re.I,
)
# A run of capitalised words: a name (person, organisation, place), unless it is only a word that opens a sentence.
_CAPITALISED = re.compile(r"\b[A-Z][\w&’'-]*(?:\s+(?:of|for|and|&)?\s*[A-Z][\w&’'-]*)*")
_OPENERS = frozenset(
    re.findall(
        r"\w+",
        "a an the this that these those it its he she they we you i in on at by for from to of and but or so as if "
        "when while after before since during with without there here some many most all each every one another "
        "such both however also although though because then thus today now yet not no only other their his her our",
    )
)
_PLACE_PHRASE = re.compile(
    r"\b(?:in|at|on|from|near|across|along|throughout|within|inside|outside|around|to|over|under|beside|between|"
    r"among|beneath|above|below)\s+(?:the\s+)?"
    r"[\w-]+",
    re.I,
)


def asked_type(question: str) -> str | None:
    """The kind of answer a question asks for (`DATE`, `AMOUNT`, `NUMBER`, `NAME`, `PLACE`), or None when it is
    open ("What is …", "How does …", "Why …")."""
    for kind, pattern in _ASKED:
        if pattern.search(question):
            return kind
    return None


def holds(kind: str | None, sentence: str, question: str) -> bool:
    """Whether `sentence` holds an answer of `kind` (always, for an open question). A name must be one the
    question does not give itself: "Who runs PIONEER?" is not answered by a sentence that names only PIONEER."""
    if kind is None:
        return True
    if kind == DATE:
        return bool(_DATE.search(sentence))
    if kind == MONTH:
        return bool(_MONTH.search(sentence))
    if kind == NUMBER:
        return bool(_NUMBER.search(sentence))
    if kind == AMOUNT:
        return bool(_AMOUNT.search(sentence))
    named = _new_names(sentence, question)
    if kind == NAME:
        return bool(named)
    return bool(named) or bool(_PLACE_PHRASE.search(sentence))


def _new_names(sentence: str, question: str) -> list[str]:
    """The names in `sentence` the question does not give. "The Hub" or "The Company" refers back to a name
    already given (a capitalised common noun after "the"), so it is not a new one; "The NHS" is."""
    asked = {_bare(w) for w in re.findall(r"[\w’'-]+", question)}
    found = []
    for name in _CAPITALISED.findall(sentence.strip()):
        capitals = [w for w in re.findall(r"[\w’'-]+", name) if w[0].isupper() and _bare(w) not in _OPENERS]
        refers_back = name.lower().startswith("the ") and len(capitals) == 1 and not capitals[0].isupper()
        if not refers_back and any(_bare(w) not in asked for w in capitals):
            found.append(name)
    return found


def _bare(word: str) -> str:
    """A word without case or a possessive: "PIONEER's" is "pioneer"."""
    return re.sub(r"[’']s$", "", word.lower())


def missing_type(question: str, sentences: list[str]) -> str | None:
    """The kind of answer the question asks for when none of the answer's sentences holds one, else None."""
    kind = asked_type(question)
    return kind if kind and not any(holds(kind, s, question) for s in sentences) else None
