"""Messages that are not questions for the documents: greetings, thanks, goodbyes, questions about the assistant
itself, and requests to speak to a person. They are recognised before retrieval, so "hi" is greeted rather than
searched for (and reported as a gap).

Two rules, in order:
1. An exact list of the shortest forms ("hi", "thanks", "bye"), matched after lower-casing and dropping punctuation.
2. A nearest-neighbour classifier over MiniLM, like triage's: a handful of examples per intent, and as many
   ordinary questions as a contrast class. A message is an intent when its closest intent example is close
   (`MIN_SIMILARITY`) and closer than any ordinary question by `MARGIN`. Long messages and messages naming
   something the documents know ("Can I speak to someone at PIONEER?") are always questions: the first are
   enquiries, and the second deserve an answer from the documents when there is one.
"""

import re
from dataclasses import dataclass

import numpy as np

from assistant.engine.embedder import Embedder
from assistant.models import CONTACT as CONTACT_KIND
from assistant.models import SMALL_TALK, Answer, Part

GREETING, THANKS, GOODBYE, IDENTITY, CAPABILITIES, CONTACT = (
    "greeting",
    "thanks",
    "goodbye",
    "identity",
    "capabilities",
    "contact",
)
EXAMPLES: dict[str, tuple[str, ...]] = {
    GREETING: ("hi there", "hello", "good morning", "good afternoon", "hey, anyone there?", "hello, how are you?"),
    THANKS: ("thank you", "thanks a lot", "thanks, that helps", "great, thank you!", "that was helpful", "cheers"),
    GOODBYE: ("bye", "goodbye", "see you later", "that's all for now", "have a nice day", "I'm done, bye"),
    IDENTITY: (
        "who are you?",
        "what are you?",
        "are you a bot?",
        "am I talking to a real person?",
        "who made you?",
        "what is this chat?",
    ),
    CAPABILITIES: (
        "what can you do?",
        "what can you help me with?",
        "how does this work?",
        "what can I ask you?",
        "what do you know about?",
        "how can you help me?",
    ),
    CONTACT: (
        "how do I contact you?",
        "can I speak to someone?",
        "phone number?",
        "I want to talk to a person",
        "how can I get in touch with the team?",
        "what is your email address?",
        "can a human call me back?",
        "I'd like to speak to a member of staff",
    ),
}
# Ordinary questions, to contrast with: an intent must look more like its examples than like any of these.
QUESTIONS = (
    "What is the region known for?",
    "Which universities are there?",
    "Who can get access to the data?",
    "Tell me about the companies in the area",
    "How do I apply for funding?",
    "What does the hub do?",
    "Where is the company based?",
    "How many graduates are there each year?",
    "Is there support for small businesses?",
    "What research is done here?",
)
SHORT_FORMS = {
    **dict.fromkeys(("hi", "hello", "hey", "hiya", "howdy", "yo", "good morning", "good afternoon"), GREETING),
    **dict.fromkeys(("good evening", "morning", "hi there", "hello there", "greetings"), GREETING),
    **dict.fromkeys(("thanks", "thank you", "thx", "ty", "cheers", "many thanks", "thanks a lot", "ta"), THANKS),
    **dict.fromkeys(("ok", "okay", "great", "cool", "nice", "perfect", "got it", "brilliant", "lovely"), THANKS),
    **dict.fromkeys(("bye", "goodbye", "bye bye", "see you", "see ya", "good night"), GOODBYE),
    **dict.fromkeys(("help", "menu", "start"), CAPABILITIES),
    **dict.fromkeys(("contact", "human", "agent", "a person", "person", "phone", "email", "phone number"), CONTACT),
}
MIN_SIMILARITY = 0.55  # cosine to the closest intent example
MARGIN = 0.05  # ... and at least this much closer than the closest ordinary question
MAX_WORDS = 12  # longer messages are enquiries, however they open
_PUNCTUATION = re.compile(r"[^\w\s']+")


def normalise(message: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", message.lower()).split())


@dataclass(frozen=True)
class Intent:
    """What a message that is not a question for the documents wants, and how sure the classifier is."""

    name: str
    similarity: float  # 1.0 for a short form


class IntentClassifier:
    """Recognises small talk and contact requests; the examples are embedded once, on first use."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._labels = [name for name, examples in EXAMPLES.items() for _ in examples] + ["question"] * len(QUESTIONS)
        self._vectors: np.ndarray | None = None

    def classify(
        self, message: str, names_something: bool, encoded: dict[str, np.ndarray] | None = None
    ) -> Intent | None:
        """The intent of a message, or None for a question. `names_something`: the message names a thing the
        documents know (such a message is a question). The message's vector, when computed, is left in `encoded`
        for the caller to reuse."""
        plain = normalise(message)
        if plain in SHORT_FORMS:
            return Intent(SHORT_FORMS[plain], 1.0)
        if not plain or len(plain.split()) > MAX_WORDS or names_something:
            return None
        if self._vectors is None:
            examples = [e for group in EXAMPLES.values() for e in group] + list(QUESTIONS)
            self._vectors = self.embedder.encode(examples)
        vector = self.embedder.encode([message])[0]
        if encoded is not None:
            encoded[message] = vector
        similarities = self._vectors @ vector
        question_best = max(
            float(s) for s, label in zip(similarities, self._labels, strict=True) if label == "question"
        )
        best = int(np.argmax(similarities))
        label, similarity = self._labels[best], float(similarities[best])
        if label == "question" or similarity < MIN_SIMILARITY or similarity - question_best < MARGIN:
            return None
        return Intent(label, similarity)


ABOUT = "I'm the Cluster Assistant: I answer questions from the cluster's own documents, with numbered sources."
PERSON = "A person from the cluster team can help too: ask to speak to someone, or choose “Ask a person”."
HANDOFF = (
    "Of course: a person from the cluster team can help. If you agree to pass your question on, leave your name "
    "and e-mail address and the team will reply by e-mail."
)


def replied(intent: Intent, message: str, topics: str, spent: dict[str, float]) -> Answer:
    """The Answer to a message that is not a question for the documents: no citations, its own kind."""
    kind = CONTACT_KIND if intent.name == CONTACT else SMALL_TALK
    text = reply(intent.name, topics)
    notes = [f"intent: {intent.name} (similarity {intent.similarity:.3f})"]
    return Answer(text, [], False, 0.0, spent, None, message, [], notes, [Part(message, text, False)], kind)


def reply(intent: str, topics: str) -> str:
    """The short friendly answer to an intent; `topics` says what the documents cover."""
    if intent == CONTACT:
        return HANDOFF
    opening = {
        GREETING: f"Hello! {ABOUT}",
        THANKS: "Glad to help. Ask another question any time.",
        GOODBYE: "Goodbye, and thanks for asking.",
        IDENTITY: f"{ABOUT} I'm a program, not a person, and I don't give medical advice.",
        CAPABILITIES: f"{ABOUT} When they don't say, I tell you rather than guess.",
    }[intent]
    return f"{opening} {topics} {PERSON}"
