"""The verifier's training pairs, from SQuAD v2.0 articles (see `train_verifier`): each a question, a candidate
sentence and whether it answers the question; with the hard negatives that teach it near misses."""

import random
import re
from dataclasses import dataclass
from typing import Any

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(0-9])")
_REFERS_BACK = re.compile(r"^(?:it|this|these|that|they|he|she|its|their|such)\b", re.I)
_SPANS = {
    "year": re.compile(r"\b1[0-9]\d\d\b|\b20\d\d\b"),
    "number": re.compile(r"\b\d[\d,.]*\b"),
    "name": re.compile(r"(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+)*"),
}

# General opposites, the kind SQuAD v2.0's writers used to make a question its paragraph no longer answers.
_PAIRS = (
    "first last",
    "largest smallest",
    "most least",
    "before after",
    "increase decrease",
    "higher lower",
    "earliest latest",
    "north south",
    "east west",
    "maximum minimum",
    "best worst",
    "early late",
    "more less",
    "major minor",
    "rise fall",
    "win lose",
    "won lost",
    "start end",
    "begin end",
    "inside outside",
    "old new",
    "oldest newest",
    "large small",
    "long short",
    "longest shortest",
    "high low",
    "highest lowest",
    "positive negative",
    "legal illegal",
    "public private",
    "upper lower",
    "northern southern",
    "eastern western",
    "always never",
    "allowed forbidden",
    "accepted rejected",
    "strong weak",
)
_OPPOSITES = {a: b for pair in _PAIRS for a, b in (pair.split(), pair.split()[::-1])}


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float
    article: str


def sentences_of(context: str) -> list[tuple[int, str]]:
    """(start offset, sentence) for each sentence of a paragraph."""
    out, start = [], 0
    for piece in _SENTENCE_END.split(context):
        at = context.index(piece, start)
        out.append((at, piece))
        start = at + len(piece)
    return out


def candidate_text(sentences: list[tuple[int, str]], i: int) -> str:
    """The sentence as the verifier reads it: with the one before when it refers back ("It…", "This…")."""
    text = sentences[i][1]
    return f"{sentences[i - 1][1]} {text}" if i > 0 and _REFERS_BACK.match(text) else text


def holding(sentences: list[tuple[int, str]], offset: int) -> int:
    return max(i for i, (start, _) in enumerate(sentences) if start <= offset)


def _swap(sentence: str, answer: str, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """The sentence with its answer replaced by another span of the same kind from the article, or None."""
    for kind, pattern in _SPANS.items():
        if pattern.fullmatch(answer.strip()):
            others = [s for s in pool[kind] if s != answer.strip()]
            if others and answer in sentence:
                return sentence.replace(answer, rng.choice(others), 1)
    return None


def article_pairs(article: dict[str, Any], rng: random.Random) -> list[Pair]:
    """The training pairs of one SQuAD article (see the module's docstring)."""
    title = article["title"]
    paragraphs = [sentences_of(p["context"]) for p in article["paragraphs"]]
    everything = [s for p in paragraphs for s in p]
    pool = {kind: sorted({m for _, s in everything for m in pattern.findall(s)}) for kind, pattern in _SPANS.items()}
    pairs: list[Pair] = []
    for paragraph, sentences in zip(article["paragraphs"], paragraphs, strict=True):
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            words = set(re.findall(r"\w{4,}", question.lower()))
            if qa.get("is_impossible"):
                # The nearest misses there are, and what the measure asks of them: every sentence of the paragraph
                # low. Twice, as they are the kind the other negatives only approximate.
                near = [holding(sentences, p["answer_start"]) for p in qa.get("plausible_answers", [])[:1]]
                closest = max(
                    range(len(sentences)),
                    key=lambda i: len(words & set(re.findall(r"\w{4,}", sentences[i][1].lower()))),
                )
                for i in [*near, *near, *([closest] if closest not in near else [])]:
                    pairs.append(Pair(question, candidate_text(sentences, i), 0.0, title))
                continue
            answer = qa["answers"][0]
            gold = holding(sentences, answer["answer_start"])
            pairs.append(Pair(question, candidate_text(sentences, gold), 1.0, title))
            others = [i for i in range(len(sentences)) if i != gold]
            for i in rng.sample(others, min(2, len(others))):
                pairs.append(Pair(question, candidate_text(sentences, i), 0.0, title))
            elsewhere = [s for p in paragraphs if p is not sentences for _, s in p]
            if elsewhere:
                best = max(elsewhere, key=lambda s: len(words & set(re.findall(r"\w{4,}", s.lower()))))
                pairs.append(Pair(question, best, 0.0, title))
            swapped = _swap(sentences[gold][1], answer["text"], pool, rng)
            if swapped:
                pairs.append(Pair(question, swapped, 0.0, title))
            pairs.extend(
                Pair(q, candidate_text(sentences, gold), 0.0, title)
                for q in perturbed(question, sentences[gold][1], pool, rng)
            )
    return pairs


def perturbed(question: str, sentence: str, pool: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The question changed so that its answer sentence no longer answers it, as SQuAD v2.0's writers made their
    unanswerable questions: a name, year or number that the sentence states swapped for another of the article's,
    and a word the sentence uses swapped for its opposite ("first" for "last")."""
    out = []
    for kind, pattern in _SPANS.items():
        shared = [m for m in pattern.findall(question) if m in sentence]
        others = [s for s in pool[kind] if s not in sentence and s not in question]
        if shared and others:
            out.append(question.replace(rng.choice(shared), rng.choice(others), 1))
            break
    words = question.split()
    for i, word in enumerate(words):
        opposite = _OPPOSITES.get(word.lower())
        if opposite and re.search(rf"\b{re.escape(word)}\b", sentence, re.I):
            out.append(" ".join([*words[:i], opposite, *words[i + 1 :]]))
            break
    return out
