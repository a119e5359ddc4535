"""Golden cases in JSONL: `expect_any` strings in the first 300 characters, `expect_abstain`, multi-turn `turns`,
`expect_smalltalk` (a friendly reply: not the not-found text, no citations), `expect_dated` (with `expect_any`:
the answer also states a date) and `parts` (one list of strings per question of the message, judged each in the
answer given to that question; `[]`: that question must be declined)."""

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from assistant.config import Settings
from assistant.engine import NOT_FOUND, Assistant, Embedder, Store
from assistant.errors import AssistantError
from assistant.models import Part
from evaluation.metrics import contains_answer
from ingest.pipeline import ingest

Case = TypeVar("Case")


@dataclass(frozen=True)
class GoldenCase:
    id: str
    turns: list[str]
    expect_any: list[str] = field(default_factory=list)
    expect_abstain: bool = False
    expect_smalltalk: bool = False
    expect_dated: bool = False
    parts: list[list[str]] = field(default_factory=list)


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# A date as answers state one: "25 November 2026", "November 2026", or ISO "2026-11-25".
DATE = re.compile(rf"\b(?:\d{{1,2}} )?(?:{_MONTHS}) \d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b")


def read_cases(path: Path, kind: str, parse: Callable[[dict[str, Any]], Case]) -> list[Case]:
    """The cases of a JSONL file, one `parse`d object a line (blank lines skipped); raises `AssistantError` naming
    the line when one is malformed (`parse` raises ValueError, KeyError or TypeError)."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(parse(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{number}: not {kind} ({exc})") from None
    return cases


def _golden(raw: dict[str, Any]) -> GoldenCase:
    turns = raw["turns"] if "turns" in raw else [raw["question"]]
    if not turns or not all(isinstance(t, str) for t in turns):
        raise ValueError("turns must be a non-empty list of strings")
    case = GoldenCase(
        str(raw["id"]),
        turns,
        list(raw.get("expect_any", [])),
        bool(raw.get("expect_abstain")),
        bool(raw.get("expect_smalltalk")),
        bool(raw.get("expect_dated")),
        [list(p) for p in raw.get("parts", [])],
    )
    if not case.expect_any and not case.expect_abstain and not case.expect_smalltalk:
        raise ValueError("a case needs expect_any, expect_abstain or expect_smalltalk")
    if case.expect_dated and not case.expect_any:
        raise ValueError("expect_dated goes with expect_any")
    return case


def load_cases(path: Path) -> list[GoldenCase]:
    """The golden cases of a JSONL file; raises `AssistantError` naming the line when one is malformed."""
    return read_cases(path, "a golden case", _golden)


def judge(case: GoldenCase, assistant: Assistant) -> dict[str, Any]:
    """Ask the turns in order (earlier ones as history) and judge the last answer."""
    answer = None
    for i, turn in enumerate(case.turns):
        answer = assistant.ask(turn, case.turns[:i])
    assert answer is not None
    if case.expect_abstain:
        passed = answer.abstained
    elif case.expect_smalltalk:
        passed = not answer.citations and NOT_FOUND not in answer.text
    elif case.parts:
        passed = parts_pass(case.parts, answer.parts)
    else:
        passed = not answer.abstained and contains_answer(answer.text, case.expect_any)
        passed = passed and (not case.expect_dated or bool(DATE.search(answer.text)))
    return {"id": case.id, "passed": passed, "answer": answer.text}


def parts_pass(expected: list[list[str]], given: list[Part]) -> bool:
    """Each question of the message judged in its own answer: its strings there, or declined for `[]`. A message
    read as a different number of questions fails: an answer under the wrong question is a wrong answer."""
    if len(expected) != len(given):
        return False
    return all(
        part.abstained if not strings else (not part.abstained and contains_answer(part.text, strings))
        for strings, part in zip(expected, given, strict=True)
    )


def evaluate_golden(cases: list[GoldenCase], corpus: Path, settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Index `corpus` into a fresh temporary store and judge every case."""
    with tempfile.TemporaryDirectory() as tmp:
        temp_settings = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None})
        report = ingest([str(corpus)], Store.open(temp_settings, embedder), embedder, progress=False)
        if not report.chunks_written:
            raise AssistantError(f"Could not index {corpus} for the golden cases: {report.summary()}")
        assistant = Assistant.load(temp_settings, embedder)
        results = [judge(case, assistant) for case in cases]
    return {"passed": sum(r["passed"] for r in results), "total": len(results), "cases": results}
