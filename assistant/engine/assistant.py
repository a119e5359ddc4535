"""The engine's entry point: one question in, a cited `Answer` (or an honest abstention) out.

settings = Settings()
assistant = Assistant.load(settings)          # loads the model and reads the index once
answer = assistant.ask("What is PIONEER?")
answer.to_json()["citations"][0]["title"]
"""

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

from assistant.config import MAX_HISTORY_ITEMS, Settings
from assistant.engine.calibration import Calibration, confidence, signals
from assistant.engine.cite import cite_groups
from assistant.engine.compose import (
    ScoredSentence,
    Topic,
    referred_to,
    rerank,
    score_sentences,
    select,
    topic_question,
)
from assistant.engine.embedder import Embedder, load_embedder
from assistant.engine.followup import resolve
from assistant.engine.generate import SYSTEM_PROMPT, LLMUnavailable, Writer, build_prompt
from assistant.engine.guard import CLINICAL_FLAG, SIGNPOST, is_clinical_advice_request
from assistant.engine.outcome import ABSTAINED, ANSWERED, SIGNPOSTED, Assessment, Outcome
from assistant.engine.parts import NOT_FOUND, OFFER_PERSON, compose_parts, split_message
from assistant.engine.retrieve import AnswerIndex, Visible, retrieve
from assistant.engine.store import Store
from assistant.engine.terms import terms
from assistant.engine.validate import bounded_history, validate_question
from assistant.errors import StoreUnavailable
from assistant.models import Answer, Hit, Part

log = logging.getLogger("cluster_assistant.decisions")
FRESH_S = 2.0  # how often `ask` checks the store for changes and reachability
CANDIDATE_FACTOR = 2  # passages retrieved per passage kept: their best sentences decide which are kept


class Assistant:
    """Answers questions from one index. Thread-safe for concurrent `ask` calls.

    Its two seams are arguments: the `embedder`, and the optional `writer` (an LLM that writes from the passages;
    without one, answers are the passages' own sentences).
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        calibration: Calibration,
        writer: Writer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.calibration = calibration
        self.writer = writer
        self.threshold = settings.min_confidence if settings.min_confidence is not None else calibration.threshold
        self.index = AnswerIndex.build(store)
        self.index_version = store.version()
        self._checked = time.monotonic()
        self._checking = threading.Lock()
        self._help: dict[Visible | None, str] = {}

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None, writer: Writer | None = None) -> "Assistant":
        """The assistant over the existing index; the writer is the configured LLM's, if any, unless given."""
        embedder = embedder or load_embedder(settings.embedding_backend, settings.model_cache_dir)
        writer = writer or Writer.from_settings(settings)
        return cls(settings, embedder, Store.open_existing(settings, embedder), Calibration.load(), writer)

    def reload(self) -> None:
        """Re-read the index after an ingest."""
        version = self.store.version()
        self.index = AnswerIndex.build(self.store)
        self.index_version = version
        self._help = {}

    def ensure_fresh(self) -> None:
        """At most every `FRESH_S`: check the store is reachable and reload if another process changed the index.

        Raises `StoreUnavailable` when the store does not answer: answering from a snapshot that may be stale, with
        no way to tell, would be worse than saying so.
        """
        if time.monotonic() - self._checked < FRESH_S:
            return
        with self._checking:  # one thread checks (and reloads); those queued behind it find the work done
            if time.monotonic() - self._checked < FRESH_S:
                return
            try:
                version = self.store.version()
            except Exception as exc:  # each Chroma client raises its own connection errors
                raise StoreUnavailable(f"The document store is not reachable: {exc}") from None
            if version != self.index_version:
                log.info("index changed in the store; reloading")
                self.reload()
            self._checked = time.monotonic()

    def help_text(self, visible: Visible | None = None) -> str:
        """What the assistant can help with, from the titles and sections the channel may see."""
        text = self._help.get(visible)
        if text is None:
            text = self._help[visible] = self._topics(visible)
        return text

    def _topics(self, visible: Visible | None) -> str:
        topics: dict[str, list[str]] = {}
        for chunk in self.index.chunks:
            if visible is not None and not visible(chunk):
                continue
            sections = topics.setdefault(chunk.title, [])
            top = chunk.section.split(" > ")[0]
            if top and top not in sections:
                sections.append(top)
        if not topics:
            return "The index is empty: nothing has been ingested yet."
        listed = [
            f"{title} ({'; '.join(sections[:5])})" if sections else title
            for title, sections in list(topics.items())[:6]
        ]
        return "I can help with questions about: " + "; ".join(listed) + "."

    def ask(self, question: str, history: list[str] | None = None, visible: Visible | None = None) -> Answer:
        """Answer a message: one question, or several (each answered on its own, cited with one numbering).

        `history` is the user's earlier questions in this conversation, oldest first; `visible`, when given,
        limits the documents the answer may come from (a channel's or partner's view).
        """
        started = time.perf_counter()
        # 1. Validate: refuse empty or oversized input; make sure the index is reachable and current.
        question = validate_question(question)
        self.ensure_fresh()
        # 2. Split: the questions and requests the message asks (usually one: the message itself).
        asked = split_message(question)
        # A request for personal medical advice anywhere is signposted first, and nothing personal in the
        # message is answered from the documents; its other questions still are.
        personal = len(asked) > 1 and is_clinical_advice_request(question)
        outcomes: list[Outcome] = []
        earlier = bounded_history(history)
        for part in asked:
            # 3. Resolve: a follow-up ("Who can use its data?") becomes a question that stands alone.
            resolved = resolve(part, earlier)
            earlier = [*earlier, resolved][-MAX_HISTORY_ITEMS:]
            # 4-6. Guard, assess, decide and compose this part.
            outcomes.append(self._answer(part, resolved, visible, guarded=personal and _first_person(part)))
        # 7. Cite: number the sources in the order the answer uses them, across the parts.
        return self._compose(outcomes, started, visible)

    def _answer(self, asked: str, resolved: str, visible: Visible | None, guarded: bool) -> Outcome:
        decided = self._decide(asked, resolved, visible, guarded)
        if isinstance(decided, Outcome):
            return decided
        found, notes = decided
        chosen = list(self._written(resolved, found.hits, notes)) or select(found.scored, self.index)
        return Outcome(asked, resolved, ANSWERED, chosen, found, notes)

    def _decide(
        self, asked: str, resolved: str, visible: Visible | None, guarded: bool
    ) -> Outcome | tuple[Assessment, list[str]]:
        """Steps 4-6 up to composing: the outcome when the question is not answered, else what answers it."""
        # 4. Guard: a request for personal medical advice is signposted, never answered from documents.
        if guarded or is_clinical_advice_request(resolved):
            log.info("decision", extra={"abstained": True, "reason": CLINICAL_FLAG})
            return Outcome(asked, resolved, SIGNPOSTED, [], None, [])
        # 5. Assess: retrieve passages, score their sentences, estimate how well they answer.
        found = self.assess(resolved, visible)
        notes = [
            f"signals: {json.dumps({k: round(v, 3) for k, v in found.signals.items()})}",
            f"threshold: {self.threshold:.3f}",
        ]
        # 6. Decide, then compose: below the calibrated confidence say so; else the best sentences of the
        # passages, or what the writer wrote that the passages support.
        if found.confidence < self.threshold:
            log.info("decision", extra={"abstained": True, "reason": "low_confidence", "confidence": found.confidence})
            return Outcome(asked, resolved, ABSTAINED, [], found, notes)
        log.info("decision", extra={"abstained": False, "confidence": found.confidence})
        return found, notes

    def ask_stream(
        self, question: str, history: list[str] | None = None, visible: Visible | None = None
    ) -> Iterator[str | Answer]:
        """`ask`, for a screen that shows the answer as it is written: with a writer, each sentence it writes is
        yielded (with its `[n]`) as soon as the grounding check accepts it; a dropped one never appears. The last
        item is always the `Answer`. Without a writer, or for a message of several questions, only the Answer."""
        started = time.perf_counter()
        question = validate_question(question)
        if self.writer is None or len(split_message(question)) > 1:
            yield self.ask(question, history, visible)
            return
        self.ensure_fresh()
        resolved = resolve(question, bounded_history(history))
        decided = self._decide(question, resolved, visible, guarded=False)
        if isinstance(decided, Outcome):
            yield self._compose([decided], started, visible)
            return
        found, notes = decided
        accepted: list[ScoredSentence] = []
        numbers: dict[str, int] = {}  # cite_groups numbers passages by first use, in this same order
        for supported in self._written(resolved, found.hits, notes):
            accepted.append(supported)
            yield f"{supported.text} [{numbers.setdefault(supported.chunk.id, len(numbers) + 1)}]"
        chosen = accepted or select(found.scored, self.index)
        yield self._compose([Outcome(question, resolved, ANSWERED, chosen, found, notes)], started, visible)

    def _compose(self, outcomes: list[Outcome], started: float, visible: Visible | None) -> Answer:
        answered = [o for o in outcomes if o.status == ANSWERED]
        texts, citations, per_part = cite_groups([o.chosen for o in answered])
        found = [o.found for o in outcomes if o.found is not None]
        signposted = any(o.status == SIGNPOSTED for o in outcomes)
        confidence = max((f.confidence for f in found), default=0.0)
        cited = dict(zip((id(o) for o in answered), zip(texts, per_part, strict=True), strict=True))
        parts = [
            Part(o.asked, cited[id(o)][0], False, cited[id(o)][1]) if id(o) in cited else Part(o.asked, "", True)
            for o in outcomes
        ]
        if len(outcomes) == 1:
            text = texts[0] if answered else self._not_answered(signposted, visible)
            parts = [replace(parts[0], text=text)]
        else:
            open_questions = [o.asked for o in outcomes if o.status == ABSTAINED]
            answered_parts = [p for p in parts if not p.abstained]
            text = compose_parts(answered_parts, open_questions, signposted, self.help_text(visible))
        return Answer(
            text,
            citations,
            not answered,
            confidence,
            _timings(started, found),
            CLINICAL_FLAG if signposted else None,
            " | ".join(o.resolved for o in outcomes),
            [h for f in found for h in f.hits],
            [n for o in outcomes for n in o.notes],
            parts,
        )

    def _not_answered(self, signposted: bool, visible: Visible | None) -> str:
        if signposted:
            return f"{SIGNPOST} {self.help_text(visible)}"
        return f"{NOT_FOUND} {self.help_text(visible)} {OFFER_PERSON}"

    def assess(self, question: str, visible: Visible | None = None) -> Assessment:
        """Retrieve passages for a stand-alone question and score how well their sentences answer it.

        `ask` decides from this; calibration fits on it, so both always see the same evidence.
        """
        started = time.perf_counter()
        vector = self.embedder.encode([question])[0]
        candidates = retrieve(self.index, question, vector, self.settings.passages * CANDIDATE_FACTOR, visible)
        about = topic_question(question)
        topic = None
        if about is not None and referred_to(about[0], candidates, self.index):
            topic = Topic(about[0], self.embedder.encode([about[1]])[0])  # encoded only when it can matter
        retrieved = time.perf_counter()
        question_terms = set(terms(question))
        scored = score_sentences(question, question_terms, vector, candidates, self.index, topic)
        hits, scored = rerank(candidates, scored, self.settings.passages)
        values = signals(question, question_terms, hits, scored, self.index)
        conf = confidence(values, self.calibration.weights, self.calibration.bias)
        done = time.perf_counter()
        return Assessment(hits, scored, values, conf, (retrieved - started) * 1000, (done - retrieved) * 1000, done)

    def _written(self, question: str, hits: list[Hit], notes: list[str]) -> Iterator[ScoredSentence]:
        """The writer's sentences that the passages support, each as soon as it is checked (none without a
        writer). `notes` records the prompt, what was written, what was dropped, and any failure."""
        if self.writer is None:
            return
        notes.append(f"llm prompt:\n{SYSTEM_PROMPT}\n\n{build_prompt(question, hits)}")
        written: list[str] = []
        accepted = 0
        try:
            for sentence, supported in self.writer.stream(question, hits, self.index, self.embedder):
                written.append(sentence)
                if supported is None:
                    notes.append(f"llm sentence dropped as unsupported: {sentence}")
                    continue
                accepted += 1
                yield supported
        except LLMUnavailable as exc:
            kept = "the sentences checked before it" if accepted else "the extractive answer"
            notes.append(f"llm: unavailable ({exc}); {kept} used")
        else:
            if not accepted:
                notes.append("llm: nothing supported by the passages; extractive answer used")
        finally:
            notes.append(f"llm wrote: {' '.join(written)}")


def _timings(started: float, found: list[Assessment]) -> dict[str, float]:
    """Where the time of one `ask` went: retrieval, composing (scoring, selection, writing, citing), in total."""
    now = time.perf_counter()
    compose = sum(f.score_ms for f in found) + ((now - found[-1].done_at) * 1000 if found else 0.0)
    return {"retrieve": sum(f.retrieve_ms for f in found), "compose": compose, "total": (now - started) * 1000}


def _first_person(text: str) -> bool:
    return bool(re.search(r"\b(i|i'm|i've|my|me|we|our|he|she|his|her)\b", text, re.I))
