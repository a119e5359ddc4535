"""Golden cases in JSONL: `expect_any` strings in the first 300 characters, `expect_abstain`, multi-turn `turns`."""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.engine import Assistant, Embedder, Store
from assistant.errors import AssistantError
from evaluation.metrics import contains_answer
from ingest.pipeline import ingest


@dataclass(frozen=True)
class GoldenCase:
    id: str
    turns: list[str]
    expect_any: list[str] = field(default_factory=list)
    expect_abstain: bool = False


def load_cases(path: Path) -> list[GoldenCase]:
    """The cases of a JSONL file; raises `AssistantError` naming the line when one is malformed."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw["turns"] if "turns" in raw else [raw["question"]]
            if not turns or not all(isinstance(t, str) for t in turns):
                raise ValueError("turns must be a non-empty list of strings")
            case = GoldenCase(str(raw["id"]), turns, list(raw.get("expect_any", [])), bool(raw.get("expect_abstain")))
            if not case.expect_any and not case.expect_abstain:
                raise ValueError("a case needs expect_any or expect_abstain")
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{number}: not a golden case ({exc})") from None
        cases.append(case)
    return cases


def judge(case: GoldenCase, assistant: Assistant) -> dict[str, Any]:
    """Ask the turns in order (earlier ones as history) and judge the last answer."""
    answer = None
    for i, turn in enumerate(case.turns):
        answer = assistant.ask(turn, case.turns[:i])
    assert answer is not None
    if case.expect_abstain:
        passed = answer.abstained
    else:
        passed = not answer.abstained and contains_answer(answer.text, case.expect_any)
    return {"id": case.id, "passed": passed, "answer": answer.text}


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
