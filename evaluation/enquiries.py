"""Enquiry cases in JSONL (`../shared/eval/enquiries-dev.jsonl`), judged on the staff reply draft built from them.

- `expect: "answer"` with `parts`: a part is answered when one of its strings appears, case-insensitively, in the
  draft's document answer (the cited paragraph after the documents heading);
- `expect: "none"`: the draft carries no document text;
- `expect: "signpost"`: a request for personal medical advice: signposted (GP / NHS 111), no document text.

The draft comes from the desk's own code: the triage classifier picks the category, `Triage.draft` writes it.
"""

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.desk import open_database
from assistant.desk.taxonomy import load_taxonomy
from assistant.desk.triage import DOCUMENTS_HEADING, Triage
from assistant.engine import Assistant, Embedder, Store
from assistant.errors import AssistantError
from evaluation.golden import read_cases
from ingest.pipeline import ingest

EXPECTATIONS = ("answer", "none", "signpost")
SIGNPOSTS = ("NHS 111", "GP", "999")
_MARKER = re.compile(r"\[\d+\]")
_SOURCE_LINE = re.compile(r"^\[\d+\] ")


@dataclass(frozen=True)
class EnquiryCase:
    id: str
    text: str
    expect: str
    parts: list[list[str]] = field(default_factory=list)


def _enquiry(raw: dict[str, Any]) -> EnquiryCase:
    case = EnquiryCase(str(raw["id"]), str(raw["text"]), str(raw["expect"]), list(raw.get("parts", [])))
    if case.expect not in EXPECTATIONS:
        raise ValueError(f"expect must be one of {', '.join(EXPECTATIONS)}")
    if case.expect == "answer" and not (case.parts and all(isinstance(p, list) and p for p in case.parts)):
        raise ValueError("an 'answer' case needs parts, each a non-empty list of strings")
    return case


def load_enquiry_cases(path: Path) -> list[EnquiryCase]:
    """The enquiry cases of a JSONL file; raises `AssistantError` naming the line when one is malformed."""
    return read_cases(path, "an enquiry case", _enquiry)


def document_answer(draft: str) -> str:
    """The draft's cited document answer: what stands between the documents heading and the list of sources
    ("" when there is none, or when nothing in it is cited)."""
    if DOCUMENTS_HEADING not in draft:
        return ""
    lines = []
    for line in draft.split(DOCUMENTS_HEADING, 1)[1].strip().splitlines():
        if _SOURCE_LINE.match(line):
            break
        lines.append(line)
    section = "\n".join(lines).strip()
    return section if _MARKER.search(section) else ""


def judge_enquiry(case: EnquiryCase, triage: Triage) -> dict[str, Any]:
    """Draft a reply as the desk does and judge it; returns the case's result with its draft."""
    category = triage.classifier.classify(case.text).category
    draft, _citations = triage.draft(None, case.text, category)
    answer = document_answer(draft).lower()
    answered = [any(s.lower() in answer for s in part) for part in case.parts]
    if case.expect == "answer":
        passed = all(answered)
    elif case.expect == "none":
        passed = not answer
    else:
        passed = not answer and any(s in draft for s in SIGNPOSTS)
    return {"id": case.id, "passed": passed, "draft": draft, "answered": answered}


def evaluate_enquiries(
    cases: list[EnquiryCase], corpus: Path, settings: Settings, embedder: Embedder
) -> dict[str, Any]:
    """Index `corpus` and a scratch database in a temporary folder, then judge every case."""
    with tempfile.TemporaryDirectory() as tmp:
        temp = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None, "database_url": None})
        report = ingest([str(corpus)], Store.open(temp, embedder), embedder, progress=False)
        if not report.chunks_written:
            raise AssistantError(f"Could not index {corpus} for the enquiry cases: {report.summary()}")
        assistant = Assistant.load(temp, embedder)
        triage = Triage(load_taxonomy(settings.taxonomy_file), assistant, open_database(temp))
        results = [judge_enquiry(case, triage) for case in cases]
    answers = [r for r, c in zip(results, cases, strict=True) if c.expect == "answer"]
    return {
        "parts_answered": sum(sum(r["answered"]) for r in answers),
        "parts_total": sum(len(r["answered"]) for r in answers),
        "none_ok": sum(r["passed"] for r, c in zip(results, cases, strict=True) if c.expect == "none"),
        "signpost_ok": sum(r["passed"] for r, c in zip(results, cases, strict=True) if c.expect == "signpost"),
        "cases": [{"id": r["id"], "passed": r["passed"], "draft": r["draft"]} for r in results],
    }
