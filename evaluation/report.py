"""Eval results as text a person reads: a Markdown table of ours vs the peer vs the targets, golden failures."""

from typing import Any

from evaluation.metrics import METRIC_KEYS

# The targets of issue 3 on squad2-dev (300 + 300 questions); latency's target is relative to the peer.
TARGETS = {
    "recall_at_1": ">= 0.92",
    "recall_at_5": ">= 0.99",
    "mrr": "",
    "containment_300": ">= 0.93",
    "abstain_unseen": ">= 0.98",
    "nearmiss_abstained": ">= 0.40",
    "false_abstain": "<= 0.02",
    "latency_ms_p50": "",
    "latency_ms_p95": "<= peer",
}


def squad_table(result: dict[str, Any]) -> str:
    """Markdown: one row per metric, ours and the plain LangChain pipeline from the same run."""
    lines = ["| metric | ours | plain LangChain | target |", "|---|---|---|---|"]
    for key in METRIC_KEYS:
        lines.append(f"| {key} | {result[key]} | {result['peer'][key]} | {TARGETS[key]} |")
    return "\n".join(lines)


def print_golden(result: dict[str, Any]) -> str:
    lines = []
    for case in result["cases"]:
        if not case["passed"]:
            lines.append(f"FAIL {case['id']}: {case['answer']}")
    lines.append(f"{result['passed']}/{result['total']} golden cases passed")
    return "\n".join(lines)


def print_enquiries(result: dict[str, Any], cases: list[Any]) -> str:
    """Failures with their drafts, then the counts a person compares."""
    lines = [f"FAIL {case['id']}:\n{case['draft']}\n" for case in result["cases"] if not case["passed"]]
    nones = sum(c.expect == "none" for c in cases)
    signposts = sum(c.expect == "signpost" or c.signpost for c in cases)
    lines.append(
        f"parts answered {result['parts_answered']}/{result['parts_total']}, "
        f"nothing-to-say {result['none_ok']}/{nones}, signposted {result['signpost_ok']}/{signposts}"
    )
    return "\n".join(lines)
