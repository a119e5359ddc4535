"""The enquiry taxonomy and the classifier that places enquiries in it, explainably.

Each category is represented by its description and examples (plus staff corrections), all embedded with the same
MiniLM as the documents. An enquiry's score for a category is the mean of its two best similarities to that
category's texts (one lucky match is not enough); the texts that decided it are kept as the explanation. Below a
confidence threshold the enquiry is marked "needs review".
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.desk.vocabulary import Priority
from assistant.engine import Embedder
from assistant.errors import AssistantError

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")
REVIEW_BELOW = 0.45  # confidence under which a person should check the category
# Below this best similarity the enquiry resembles no category at all ("hello"), however the shares fall.
MIN_SIMILARITY = 0.3
TEMPERATURE = 0.03  # softmax temperature over category scores: cosine gaps of a few hundredths matter
_URGENT = re.compile(
    r"\b(urgent(ly)?|asap|as soon as possible|immediately|deadline|by (today|tomorrow|monday|tuesday|wednesday|"
    r"thursday|friday|the end of)|this week|within \d+ (hours|days)|closes? (on|this))\b",
    re.I,
)
_DATE = re.compile(r"\b\d{1,2}(st|nd|rd|th)? (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)


class Category(BaseModel):
    description: str
    examples: list[str] = Field(default_factory=list)
    route: str
    next_steps: str
    priority: Priority = Priority.NORMAL
    sla_hours: int = Field(72, ge=1)
    contact: str = ""
    contact_email: str | None = None  # told when an enquiry is routed here (no personal data in the notice)
    retention_days: int | None = Field(None, ge=1)  # overrides the file's retention_days for this category
    # Where requests for personal medical advice go. The signpost does not depend on it: the engine's guard reads
    # every enquiry, whatever its category, and renaming this one cannot switch the signpost off.
    clinical: bool = False
    # Where what is not an enquiry (marketing, invoices, messages that ask nothing) goes, for a person to look at.
    fallback: bool = False


class TaxonomyFile(BaseModel):
    retention_days: int = Field(365, ge=1)
    categories: dict[str, Category]

    @model_validator(mode="after")
    def _one_of_each(self) -> "TaxonomyFile":
        for role in ("clinical", "fallback"):
            named = [name for name, c in self.categories.items() if getattr(c, role)]
            if len(named) > 1:
                raise ValueError(f"only one category can be `{role}: true` (now: {', '.join(named)})")
        return self

    @property
    def clinical(self) -> str | None:
        """The category of requests for personal medical advice (`clinical: true`), if the taxonomy has one."""
        return next((name for name, c in self.categories.items() if c.clinical), None)

    @property
    def fallback(self) -> str:
        """The category for what is not an enquiry (`fallback: true`; else the last one listed)."""
        return next((name for name, c in self.categories.items() if c.fallback), list(self.categories)[-1])

    def retention_by_category(self) -> dict[str, int]:
        """Categories whose retention differs from the file's `retention_days`."""
        return {name: c.retention_days for name, c in self.categories.items() if c.retention_days}


def load_taxonomy(path: Path | None = None) -> TaxonomyFile:
    path = path or DEFAULT_TAXONOMY
    try:
        return TaxonomyFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise AssistantError(f"Cannot use the taxonomy {path}: {exc}") from None


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    needs_review: bool
    ranked: list[tuple[str, float]]  # every category with its probability, best first
    evidence: list[str] = field(default_factory=list)  # the texts that decided it

    def reasons(self) -> dict[str, Any]:
        return {
            "ranked": [[name, round(p, 3)] for name, p in self.ranked[:3]],
            "evidence": self.evidence,
        }


class Classifier:
    """Embeds the taxonomy once; `learn` adds staff corrections as examples."""

    def __init__(
        self, taxonomy: TaxonomyFile, embedder: Embedder, corrections: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        # What evidence shows for each example: the taxonomy's own text, but only a name for a staff correction,
        # whose text is an enquirer's and must not be copied into other enquiries' reasons.
        self.shown: list[str] = []
        self.labels: list[str] = []
        texts = []
        for name, category in taxonomy.categories.items():
            for text in [category.description, *category.examples]:
                texts.append(text)
                self.shown.append(text)
                self.labels.append(name)
        self.vectors = embedder.encode(texts)
        for name, text, shown in corrections:
            self.learn(name, text, shown)

    def learn(self, category: str, text: str, shown: str) -> None:
        """Add an example of `category`; evidence names it `shown` (never its text)."""
        if category not in self.taxonomy.categories:
            raise AssistantError(f"Unknown category '{category}'.")
        self.shown.append(shown)
        self.labels.append(category)
        self.vectors = np.vstack([self.vectors, self.embedder.encode([text])])

    def classify(self, text: str) -> Classification:
        vector = self.embedder.encode([text[:2000]])[0]
        similarities = self.vectors @ vector
        scores: dict[str, float] = {}
        evidence: dict[str, list[tuple[float, str]]] = {}
        for name in self.taxonomy.categories:
            picked = sorted(
                ((float(similarities[i]), self.shown[i]) for i, label in enumerate(self.labels) if label == name),
                reverse=True,
            )[:2]
            scores[name] = sum(s for s, _ in picked) / len(picked)
            evidence[name] = picked
        top = max(scores.values())
        weights = {name: math.exp((s - top) / TEMPERATURE) for name, s in scores.items()}
        total = sum(weights.values())
        ranked = sorted(((name, w / total) for name, w in weights.items()), key=lambda item: -item[1])
        best, confidence = ranked[0]
        return Classification(
            category=best,
            confidence=confidence,
            needs_review=confidence < REVIEW_BELOW or top < MIN_SIMILARITY,
            ranked=ranked,
            evidence=[f"{text} (similarity {s:.2f})" for s, text in evidence[best]],
        )


def priority_for(category: Category, text: str) -> tuple[str, list[str]]:
    """The category's priority, one step up when the text carries urgency cues; with the cues found."""
    cues = [m.group(0) for m in _URGENT.finditer(text)] + [m.group(0) for m in _DATE.finditer(text)]
    return (category.priority.raised() if cues else category.priority).value, cues


def due_at(category: Category, priority: str, received: datetime) -> datetime:
    """The SLA due time: the category's hours, halved when the priority was raised to urgent."""
    hours = (
        category.sla_hours / 2
        if priority == Priority.URGENT and category.priority != Priority.URGENT
        else category.sla_hours
    )
    return received + timedelta(hours=hours)
