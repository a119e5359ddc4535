"""Typos in names: a question word that neither the documents nor everyday English know, and that is one edit
(two in a long word) from a name or rare term of the documents, is read as that term ("pioner" → PIONEER,
"dignoi" → Dignio).

- English is the embedding model's own word list (its WordPiece vocabulary: ~22,000 whole words), so no further
  dictionary is shipped, and a real word the documents lack ("broker") is never "corrected" into a name ("Bruker").
- Names are the words the documents capitalise mid-sentence and never write in lower case; rare terms are their
  words English does not have ("informatics"). Only these are targets: ordinary words are left as typed.
- The distance is optimal string alignment (a swap of two letters is one edit), from `rapidfuzz`; the first letter
  must match, as it does in most misspellings, and ties go to the term the documents use most.
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.engine.embedder import model_path
from assistant.engine.terms import STOP_WORDS
from assistant.models import Correction

MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
# A possessive, a plural, or a regular ending of a verb or adjective ("networked", "linking", "faster").
INFLECTIONS = ("'s", "s'", "'", "es", "s", "ed", "d", "ing", "er", "ers", "est", "ly")
# Chat spellings of the words questions are made of: short, so no distance could tell them, and common enough to
# list ("wat is pioner"). They are read silently: the asker knows what they meant.
CHAT_FORMS = {
    "wat": "what",
    "wot": "what",
    "wht": "what",
    "whats": "what's",
    "wats": "what's",
    "hw": "how",
    "whos": "who's",
    "wher": "where",
    "wen": "when",
    "pls": "please",
    "plz": "please",
    "abt": "about",
    "bout": "about",
    "cn": "can",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[a-z0-9,;:()] )[A-Z][A-Za-z]+|\b[A-Z]{2,}\b")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The model's whole-word vocabulary (lower case)."""
    lines = (model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if w.isalpha())


def max_edits(word: str) -> int:
    return 1 if len(word) < 8 else 2


class Vocabulary:
    """The words of the indexed documents, and the names and rare terms a typo may be corrected to."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        forms: Counter[str] = Counter()  # each word as written
        capitalised: Counter[str] = Counter()
        lower_used: set[str] = set()
        for text in texts:
            words = _WORD.findall(text)
            forms.update(words)
            counts.update(w.lower() for w in words)
            lower_used.update(w.lower() for w in words if w.islower())
            capitalised.update(_MID_SENTENCE_CAPITAL.findall(text))
        self.words = frozenset(counts)
        names = {form.lower() for form in capitalised if form.lower() not in lower_used}
        english = english_words()
        rare = {w for w in counts if w not in english and w not in STOP_WORDS}
        self.targets = sorted((w for w in names | rare if len(w) >= MIN_LENGTH), key=lambda w: -counts[w])
        self._target_set = frozenset(self.targets)
        self.display: dict[str, str] = {}  # how the documents most often write each target ("PIONEER")
        for form, _ in forms.most_common():
            if form.lower() in self._target_set:
                self.display.setdefault(form.lower(), form)

    def names_something(self, text: str) -> bool:
        """Whether a text mentions a name or rare term of the documents as written (`correct` finds mistyped ones)."""
        return any(w.lower() in self._target_set for w in _WORD.findall(text))

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """The text with its mistyped names replaced, and what was replaced."""
        corrections: list[Correction] = []

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            if word in CHAT_FORMS:  # as typed, in lower case: "WAT" may be an acronym
                return CHAT_FORMS[word]
            target = self._closest(word.lower())
            if target is None:
                return word
            read = self.display.get(target, target)
            corrections.append(Correction(word, read))
            return read

        return _WORD.sub(fix, text), corrections

    def _inflected(self, word: str) -> bool:
        """Whether the word is a known one with a possessive, plural or other regular ending ("managing": manage)."""
        stems = [word[: -len(end)] for end in INFLECTIONS if word.endswith(end) and len(word) > len(end) + 2]
        return any(s in self.words or s in english_words() for stem in stems for s in (stem, f"{stem}e"))

    def _closest(self, word: str) -> str | None:
        if len(word) < MIN_LENGTH or word in self.words or word in english_words() or word in STOP_WORDS:
            return None
        if self._inflected(word.replace("’", "'")):
            return None  # "Trust's", "Dignio’s", "wearables", "networked": a known word with an ending, not a typo
        candidates = [t for t in self.targets if t[0] == word[0] and abs(len(t) - len(word)) <= max_edits(word)]
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=max_edits(word))
        return found[0] if found else None


def showing(corrections: list[Correction]) -> str:
    """The line that tells the asker which words were read ("Showing results for PIONEER.")."""
    read = list(dict.fromkeys(c.read for c in corrections))
    listed = read[0] if len(read) == 1 else ", ".join(read[:-1]) + " and " + read[-1]
    return f"Showing results for {listed}."
