"""Verify: the probability that a sentence answers a question, read together with it.

Similarity and shared words tell that a sentence is about what the question names; they cannot tell that it says
what the question asks ("a single Data Controller" does not say *who*). The verifier is a cross-encoder fine-tuned
from the packaged MiniLM weights on SQuAD v2.0 question–sentence pairs (`make train-verifier`,
evaluation/train_verifier.py), shipped as int8 ONNX in `verifier/` beside this file with its held-out figures in
`verifier.json`. It reads the best `CANDIDATES` sentences of an assessment in one batch; a sentence that refers back
("It…", "The Hub…") is read after the sentence naming what it refers to (see `as_read`).
"""

from collections.abc import Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from assistant.engine.answer_types import asked_type, holds
from assistant.engine.compose import RUNNER_UP_VERIFIED, ScoredSentence, best_first
from assistant.engine.embedder import model_path
from assistant.engine.retrieve import AnswerIndex
from assistant.engine.terms import is_continuation
from assistant.errors import ModelUnavailable
from assistant.models import Hit

VERIFIER_FILE = Path(__file__).with_name("verifier") / "verifier-int8.onnx"
MAX_TOKENS = 80  # as trained: a question and a sentence (with the one before, when it refers back)
# The best sentences by score that are read: ~30 ms a SQuAD question on 2 cores; eight cost ~50 ms and declined no
# more near misses. The rest are too far down to lead.
CANDIDATES = 6
REMEMBERED = 4096  # question and candidates read before, whose probabilities are kept
VERIFIED_WEIGHT = 0.3  # how much the verifier's probability adds to a sentence's score (compose's scale: ~0-1.3)


class Verifier:
    """The cross-encoder on onnxruntime, with MiniLM's own tokenizer. Thread-safe."""

    def __init__(self, path: Path = VERIFIER_FILE) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not path.is_file():
            raise ModelUnavailable(
                f"The answer verifier {path} is missing: reinstall cluster-assistant, or rebuild it with "
                "`make train-verifier`."
            )
        options = ort.SessionOptions()
        # Two threads a call, without spinning: one question is read in ~35 % less time, and concurrent ones do not
        # burn the cores waiting for each other.
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own exception types: a truncated or foreign file
            raise ModelUnavailable(
                f"The answer verifier {path} cannot be read ({exc}): reinstall cluster-assistant."
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise ModelUnavailable(f"The answer verifier {path} is not a question–sentence model.")
        self._tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")  # a long question too
        self._tokenizer.enable_padding()
        # The same question over the same index reads the same candidates: the questions people ask most (the
        # chat's starters among them) cost the verifier once, not every time. Bounded: a few MB at most.
        self._remembered = lru_cache(maxsize=REMEMBERED)(self._read)

    def probabilities(self, question: str, candidates: Sequence[str]) -> np.ndarray:
        """For each candidate, the probability that it answers `question` (one batch; read-only)."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        return self._remembered(question, tuple(candidates))

    def _read(self, question: str, candidates: tuple[str, ...]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch([(question, c) for c in candidates])
        feeds = {
            "input_ids": np.asarray([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encoded], dtype=np.int64),
        }
        logits = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        found = (1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64).reshape(-1)))).astype(np.float32)
        found.flags.writeable = False  # remembered: shared by every later caller
        return found


@cache
def shared_verifier() -> Verifier:
    """The packaged verifier, loaded once a process (every assistant of the process reads with it)."""
    return Verifier()


def as_read(sentence: ScoredSentence, index: AnswerIndex) -> str:
    """The sentence as the verifier reads it: when it refers back ("The Hub can provide…"), after the sentence that
    names what it refers to ("… is PIONEER Health Data Research Hub."), else after the one before it. Read after
    only the one before ("This is a major research database…"), it never names PIONEER, and scored 0.15 for "Who
    can use PIONEER's data?" against 0.90 read after the name."""
    if not is_continuation(sentence.text):
        return sentence.text
    chain = index.antecedents(sentence.chunk, sentence.index)
    before = chain[0] if chain else index.previous_sentence(sentence.chunk, sentence.index)
    return f"{before[1]} {sentence.text}" if before else sentence.text


def verify(verifier: Verifier, question: str, scored: list[ScoredSentence], index: AnswerIndex) -> list[ScoredSentence]:
    """`scored` with its best `CANDIDATES` read by the verifier: each gets its probability (`verified`) and, when it
    holds the kind of answer asked for, that much more score; they are ordered again, so that the answer leads with
    the sentence most likely to answer (`best_first`). The rest follow, unread."""
    head, tail = scored[:CANDIDATES], scored[CANDIDATES:]
    found = verifier.probabilities(question, [as_read(s, index) for s in head])
    # A sentence without the kind of answer asked for does not answer, however likely the verifier finds it: for
    # "Which universities…?", "We have 7 research led universities…" names none; the list that follows does.
    kind = asked_type(question)
    head = [
        replace(s, score=s.score + VERIFIED_WEIGHT * float(p) * holds(kind, s.text, question), verified=float(p))
        for s, p in zip(head, found, strict=True)
    ]
    return best_first(head) + tail


def answering_passages(hits: list[Hit], scored: list[ScoredSentence]) -> list[Hit]:
    """The passages an optional writer may write from: those holding a sentence the verifier finds as likely to
    answer as a runner-up must be (all of them when none was read)."""
    best = max((s.verified for s in scored), default=0.0)
    kept = {s.chunk.id for s in scored[:CANDIDATES] if s.verified >= RUNNER_UP_VERIFIED * best}
    return [h for h in hits if h.chunk.id in kept] or hits
