"""The engine's entry point: one question in, a cited `Answer` (or an honest abstention) out.

settings = Settings()
assistant = Assistant.load(settings)          # loads the model and reads the index once
answer = assistant.ask("What is PIONEER?")
answer.to_json()["citations"][0]["title"]
"""

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from assistant.config import Settings
from assistant.engine import outcome
from assistant.engine.answer_types import missing_type
from assistant.engine.asked import answer_index, written_answer_for, written_outcome
from assistant.engine.calibration import Calibration, confidence, signals, trusted_at_most
from assistant.engine.catalogue import Catalogue
from assistant.engine.cite import cite_groups, passage_key
from assistant.engine.compose import ScoredSentence, Topic, referred_to, rerank, score_sentences, select, topic_question
from assistant.engine.dated import as_of, asks_about_present, without_present
from assistant.engine.embedder import Embedder, load_embedder
from assistant.engine.followup import read_parts, resolve
from assistant.engine.generate import Writer, supported_sentences
from assistant.engine.guard import CLINICAL_FLAG, SIGNPOST, is_clinical_advice_request
from assistant.engine.intent import IntentClassifier, replied
from assistant.engine.outcome import ABSTAINED, ANSWERED, SIGNPOSTED, Assessment, Encoded, Outcome, Read, timings
from assistant.engine.overview import Overview
from assistant.engine.parts import NOT_FOUND, OFFER_PERSON, asking, compose_parts, first_person, split_with_context
from assistant.engine.retrieve import Visible, retrieve
from assistant.engine.sections import named_section
from assistant.engine.spelling import showing
from assistant.engine.store import Store
from assistant.engine.terms import terms
from assistant.engine.validate import bounded_history, validate_question
from assistant.engine.verifier import Verifier, answering_passages, shared_verifier, verify
from assistant.errors import StoreUnavailable
from assistant.models import Answer, Correction, Part

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
        verifier: Verifier | None = None,
    ) -> None:
        self.settings = settings
        self.verifier = verifier or shared_verifier()  # loaded once a process; a missing file stops the start
        self.embedder = embedder
        self.store = store
        self.calibration = calibration
        self.writer = writer
        self.threshold = settings.min_confidence if settings.min_confidence is not None else calibration.threshold
        self.index = answer_index(store, embedder)
        self.overview = Overview(self.index)
        self.intents = IntentClassifier(embedder)
        self.index_version = store.version()
        self.catalogue = Catalogue(self)  # what the desk reads and changes of the index
        self._checked = time.monotonic()
        self._checking = threading.Lock()

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None, writer: Writer | None = None) -> "Assistant":
        """The assistant over the existing index; the writer is the configured LLM's, if any, unless given."""
        embedder = embedder or load_embedder(settings.embedding_backend, settings.model_cache_dir)
        writer = writer or Writer.from_settings(settings)
        return cls(settings, embedder, Store.open_existing(settings, embedder), Calibration.load(), writer)

    def reload(self) -> None:
        """Re-read the index after an ingest."""
        version = self.store.version()
        self.index = answer_index(self.store, self.embedder)
        self.overview = Overview(self.index)
        self.index_version = version

    def ensure_fresh(self) -> None:
        """At most every `FRESH_S`: check the store is reachable (else `StoreUnavailable`: a snapshot that may be
        stale is worse) and reload if another process changed the index."""
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
                self.store.refresh()  # another process wrote it: an embedded client must open it again
                self.reload()
            self._checked = time.monotonic()

    def answers(self, question: str, visible: Visible | None = None) -> bool:
        """Whether `ask` would answer this one question from the documents, decided as it decides but without
        calling the writer (how the chat's automatic starters are checked)."""
        read = self._read(validate_question(question), visible, time.perf_counter())
        if isinstance(read, Answer):
            return False  # small talk or a request for a person: replied to, not answered
        decided = self._decide(read[0], read[0], visible, False, read[2])
        return not isinstance(decided, Outcome) or decided.status == ANSWERED  # a named section is answered

    def ask(
        self, question: str, history: list[str] | None = None, visible: Visible | None = None, said: str = ""
    ) -> Answer:
        """Answer a message: one question, or several (each answered on its own, cited with one numbering).
        `history`: the user's earlier questions, oldest first; `visible`: the documents the answer may come from (a
        channel's or partner's view); `said`: the previous answer's text (not quoted again as context)."""
        started = time.perf_counter()
        # 1. Validate: refuse empty or oversized input; make sure the index is reachable and current.
        question = validate_question(question)
        self.ensure_fresh()
        # 2. Read: small talk and requests for a person are replied to, never searched; typos read as names.
        read = self._read(question, visible, started)
        if isinstance(read, Answer):
            return read
        question, corrections, encoded = read
        # 3. Split: the questions and requests the message asks (usually one: the message itself).
        asked = read_parts(question, bounded_history(history))
        # A request for personal medical advice anywhere is signposted first, and nothing personal in the
        # message is answered from the documents; its other questions still are.
        personal = len(asked) > 1 and is_clinical_advice_request(question)
        # 4-7. Resolve (in `read_parts`), guard, assess, decide and compose each part.
        outcomes = [self._answer(p, r, visible, personal and first_person(p), encoded, said) for p, r in asked]
        # 8. Cite: number the sources in the order the answer uses them, across the parts.
        return self._compose(outcomes, started, visible, corrections)

    def _read(self, question: str, visible: Visible | None, started: float) -> Answer | Read:
        """The reply to small talk or a contact request; otherwise the question with its typos corrected, and the
        vectors already computed (the classifier's of the message: assessing the same text reuses it)."""
        vocabulary = self.overview.vocabulary(visible)
        corrected, corrections = vocabulary.correct(question)
        encoded: Encoded = {}
        names = bool(corrections) or vocabulary.names_something(question)
        intent = self.intents.classify(question, names, encoded)
        if intent is None:
            return corrected, corrections, encoded
        log.info("decision", extra={"abstained": False, "reason": f"intent:{intent.name}"})
        return replied(intent, question, self.overview.topics(visible), timings(started, []))

    def _answer(
        self, asked: str, resolved: str, visible: Visible | None, guarded: bool, encoded: Encoded, said: str
    ) -> Outcome:
        decided = self._decide(asked, resolved, visible, guarded, encoded)
        if isinstance(decided, Outcome):
            return decided
        found, notes = decided
        chosen = list(self._write(found, notes)) or select(found.scored, self.index, said=said)
        return Outcome(asked, resolved, ANSWERED, chosen, found, notes)

    def _decide(
        self, asked: str, resolved: str, visible: Visible | None, guarded: bool, encoded: Encoded
    ) -> Outcome | tuple[Assessment, list[str]]:
        """Steps 4-6 up to composing: the outcome when the question is not answered, else what answers it."""
        # 5. Guard: a request for personal medical advice is signposted, never answered from documents.
        if guarded or is_clinical_advice_request(resolved):
            log.info("decision", extra={"abstained": True, "reason": CLINICAL_FLAG})
            return Outcome(asked, resolved, SIGNPOSTED, [], None, [])
        query = without_present(resolved)  # "still", "currently": about when, not what
        # A question naming a section ("what's the four Ds") is answered from its opening.
        opening = named_section(query, self.overview.sections(visible))
        if opening:
            log.info("decision", extra={"abstained": False, "reason": "section"})
            return outcome.quoted(asked, resolved, opening, 1.0, f"section named: {opening[0].chunk.section}")
        vector = encoded[query] if query in encoded else self.embedder.encode([query])[0]
        written = written_answer_for(self.index, vector, visible)
        if written is not None:  # a question staff wrote the answer to, asked again: that answer, cited
            log.info("decision", extra={"abstained": False, "reason": "written_answer"})
            return written_outcome(asked, resolved, written)
        # 6. Assess: retrieve passages, score their sentences, estimate how well they answer.
        found = self.assess(query, visible, vector)
        notes = [
            f"signals: {json.dumps({k: round(v, 3) for k, v in found.signals.items()})}",
            f"threshold: {self.threshold:.3f}",
        ]
        # 7. Decide: abstain below the calibrated confidence, or when the best sentence misses what is named.
        if found.confidence < self.threshold:
            log.info("decision", extra={"abstained": True, "reason": "low_confidence", "confidence": found.confidence})
            return Outcome(asked, resolved, ABSTAINED, [], found, notes)
        most = trusted_at_most(query, asking(query), found.scored, self.index)
        if most is None:
            log.info("decision", extra={"abstained": True, "reason": "names_missing"})
            notes.append("abstained: the best sentence does not speak of what the question asks about")
            return Outcome(asked, resolved, ABSTAINED, [], found, notes)
        if found.confidence > most:
            found = replace(found, confidence=most)
            notes.append(f"confidence capped at {most}: the best sentence misses a name of the question")
        missing = missing_type(asking(query), [s.text for s in select(found.scored, self.index)])
        if missing:  # "When …" answered by a sentence with no date: it does not answer, however well it matches
            log.info("decision", extra={"abstained": True, "reason": "answer_type", "asked": missing})
            return Outcome(asked, resolved, ABSTAINED, [], found, [*notes, f"abstained: no {missing} in the answer"])
        log.info("decision", extra={"abstained": False, "confidence": found.confidence})
        return found, notes

    def ask_stream(
        self, question: str, history: list[str] | None = None, visible: Visible | None = None, said: str = ""
    ) -> Iterator[str | Answer]:
        """`ask`, for a screen that shows the answer as it is written: with a writer, each sentence it writes is
        yielded (with its `[n]`) as soon as the grounding check accepts it; a dropped one never appears. The last
        item is always the `Answer`. Without a writer, or for a message of several questions, only the Answer."""
        started = time.perf_counter()
        question = validate_question(question)
        if self.writer is None or len(split_with_context(question)) > 1:
            yield self.ask(question, history, visible, said)
            return
        self.ensure_fresh()
        read = self._read(question, visible, started)
        if isinstance(read, Answer):
            yield read
            return
        question, corrections, encoded = read
        resolved = resolve(question, bounded_history(history))
        decided = self._decide(question, resolved, visible, False, encoded)
        if isinstance(decided, Outcome):
            yield self._compose([decided], started, visible, corrections)
            return
        found, notes = decided
        accepted: list[ScoredSentence] = []
        numbers: dict[object, int] = {}  # cite_groups numbers sections by first use, in this same order
        for supported in self._write(found, notes):
            accepted.append(supported)
            yield f"{supported.text} [{numbers.setdefault(passage_key(supported.chunk), len(numbers) + 1)}]"
        chosen = accepted or select(found.scored, self.index, said=said)
        yield self._compose(
            [Outcome(question, resolved, ANSWERED, chosen, found, notes)], started, visible, corrections
        )

    def _write(self, found: Assessment, notes: list[str]) -> Iterator[ScoredSentence]:
        """The writer's checked sentences (none without one), from the passages the verifier kept: see `verifier`."""
        if self.writer is None:
            return iter(())
        kept = answering_passages(found.hits, found.scored)
        return supported_sentences(self.writer, found.question, kept, self.index, self.embedder, notes)

    def _compose(
        self, outcomes: list[Outcome], started: float, visible: Visible | None, corrections: list[Correction]
    ) -> Answer:
        answered = [o for o in outcomes if o.status == ANSWERED]
        texts, citations, per_part = cite_groups([o.chosen for o in answered])
        # A question about now is answered with the date of what is quoted, and says the documents stop there.
        texts = [
            as_of(t, [s.chunk for s in o.chosen]) if asks_about_present(o.resolved) else t
            for t, o in zip(texts, answered, strict=True)
        ]
        found = [o.found for o in outcomes if o.found is not None]
        signposted = any(o.status == SIGNPOSTED for o in outcomes)
        confidence = max((f.confidence for f in found), default=0.0)
        cited = dict(zip((id(o) for o in answered), zip(texts, per_part, strict=True), strict=True))
        parts = [
            Part(o.asked, cited[id(o)][0], False, cited[id(o)][1])
            if id(o) in cited
            else Part(o.asked, "", True, signposted=o.status == SIGNPOSTED)
            for o in outcomes
        ]
        if len(outcomes) == 1:
            unanswered = f"{SIGNPOST} {self.overview.topics(visible)}" if signposted else self._not_found(visible)
            text = texts[0] if answered else unanswered
            parts = [replace(parts[0], text=text)]
        else:
            open_questions = [o.asked for o in outcomes if o.status == ABSTAINED]
            answered_parts = [p for p in parts if not p.abstained]
            text = compose_parts(answered_parts, open_questions, signposted, self.overview.topics(visible))
        if corrections:
            text = f"{showing(corrections)}\n\n{text}"
        return Answer(
            text,
            citations,
            not answered,
            confidence,
            timings(started, found),
            CLINICAL_FLAG if signposted else None,
            " | ".join(o.resolved for o in outcomes),
            [h for f in found for h in f.hits],
            [n for o in outcomes for n in o.notes],
            parts,
            corrections=corrections,
        )

    def _not_found(self, visible: Visible | None) -> str:
        return f"{NOT_FOUND} {self.overview.topics(visible)} {OFFER_PERSON}"

    def assess(self, question: str, visible: Visible | None = None, vector: np.ndarray | None = None) -> Assessment:
        """Retrieve passages for a stand-alone question and score how well their sentences answer it (`ask` decides
        from this; calibration fits on it, so both always see the same evidence)."""
        started = time.perf_counter()
        if vector is None:  # given when reading the message already encoded this very text
            vector = self.embedder.encode([question])[0]
        candidates = retrieve(self.index, question, vector, self.settings.passages * CANDIDATE_FACTOR, visible)
        about, topic = topic_question(question), None
        if about is not None and referred_to(about[0], candidates, self.index):
            topic = Topic(about[0], self.embedder.encode([about[1]])[0])  # encoded only when it can matter
        retrieved = time.perf_counter()
        question_terms = set(terms(question))
        scored = score_sentences(question, question_terms, vector, candidates, self.index, topic)
        hits, scored = rerank(candidates, scored, self.settings.passages)
        scored = verify(self.verifier, question, scored, self.index)
        values = signals(question, question_terms, hits, scored, self.index)
        conf = confidence(values, self.calibration.weights, self.calibration.bias)
        done = time.perf_counter()
        spent = (retrieved - started) * 1000, (done - retrieved) * 1000
        return Assessment(question, hits, scored, values, conf, *spent, done)
