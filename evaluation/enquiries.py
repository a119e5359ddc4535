"""Enquiry cases in JSONL (`../shared/eval/enquiries-dev.jsonl`, `enquiries-email-dev.jsonl`), judged on the staff
reply draft built from them.

- `expect: "answer"` with `parts`: a part is answered when one of its strings appears, case-insensitively, in the
  answer the draft gives to that part's question: the draft's answered questions are matched to the expected parts
  in order, each used once (a question the splitter found beyond the expected ones is skipped, never reused);
- `"signpost": true` beside `"expect": "answer"`: the draft must also signpost (GP / NHS 111 / 999);
- `expect: "none"`: the draft carries no document text;
- `expect: "signpost"`: a request for personal medical advice: signposted, no document text.

The draft comes from the desk's own code, as an e-mail is triaged: the body read (`mail.body.read_body`), the
classifier's category, `Triage.draft`.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.desk import open_database
from assistant.desk.mail.body import read_body
from assistant.desk.taxonomy import load_taxonomy
from assistant.desk.triage import Triage
from assistant.engine import Assistant, Embedder, Store
from assistant.errors import AssistantError
from evaluation.golden import read_cases
from ingest.pipeline import ingest

EXPECTATIONS = ("answer", "none", "signpost")
SIGNPOSTS = ("NHS 111", "GP", "999")


@dataclass(frozen=True)
class EnquiryCase:
    id: str
    text: str
    expect: str
    parts: list[list[str]] = field(default_factory=list)
    signpost: bool = False


def _enquiry(raw: dict[str, Any]) -> EnquiryCase:
    parts, signpost = list(raw.get("parts", [])), bool(raw.get("signpost", False))
    case = EnquiryCase(str(raw["id"]), str(raw["text"]), str(raw["expect"]), parts, signpost)
    if case.expect not in EXPECTATIONS:
        raise ValueError(f"expect must be one of {', '.join(EXPECTATIONS)}")
    if case.expect == "answer" and not (case.parts and all(isinstance(p, list) and p for p in case.parts)):
        raise ValueError("an 'answer' case needs parts, each a non-empty list of strings")
    return case


def load_enquiry_cases(path: Path) -> list[EnquiryCase]:
    """The enquiry cases of a JSONL file; raises `AssistantError` naming the line when one is malformed."""
    return read_cases(path, "an enquiry case", _enquiry)


def matched_parts(expected: list[list[str]], answers: list[tuple[str, str]]) -> list[bool]:
    """For each expected part in order, whether one of its strings is in the answer to a question of the draft:
    the draft's answers are taken in order, each for one part at most. A message answered as one question has
    one answer, given to all its parts."""
    if len(answers) == 1:
        return [any(x.lower() in answers[0][1].lower() for x in strings) for strings in expected]
    found, start = [], 0
    for strings in expected:
        at = next(
            (i for i in range(start, len(answers)) if any(x.lower() in answers[i][1].lower() for x in strings)),
            None,
        )
        found.append(at is not None)
        start = at + 1 if at is not None else start
    return found


def judge_enquiry(case: EnquiryCase, triage: Triage) -> dict[str, Any]:
    """Draft a reply as the desk does for an e-mail, and judge it; returns the case's result with its draft."""
    body = read_body(case.text).text
    draft = triage.draft(None, body, triage.classifier.classify(body))
    signposted = draft.signposted and any(s in draft.text for s in SIGNPOSTS)
    answered = matched_parts(case.parts, draft.answers)
    if case.expect == "answer":
        passed = all(answered) and (signposted or not case.signpost)
    elif case.expect == "none":
        passed = not draft.answers
    else:
        passed = not draft.answers and signposted
    return {"id": case.id, "passed": passed, "draft": draft.text, "answered": answered, "signposted": signposted}


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
        "signpost_ok": sum(r["signposted"] for r, c in zip(results, cases, strict=True) if signposts(c)),
        "cases": [{"id": r["id"], "passed": r["passed"], "draft": r["draft"]} for r in results],
    }


def signposts(case: EnquiryCase) -> bool:
    """Whether the case's draft must signpost (a `signpost` case, or an `answer` case marked `"signpost": true`)."""
    return case.expect == "signpost" or case.signpost
