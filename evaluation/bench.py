"""`make bench`: answer quality (SQuAD eval vs the plain LangChain pipeline, golden cases), ask latency (warm) and
ingest encoding throughput, ONNX int8 vs sentence-transformers torch.

Writes a JSON report and a Markdown table, and puts the table into the README between its bench markers. Figures
are from this machine, in this run; nothing is asserted here (tests don't time).
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from assistant.config import Settings
from assistant.engine import Assistant, Calibration, OnnxEmbedder, Store, TorchEmbedder, Verifier
from evaluation.enquiries import evaluate_enquiries, load_enquiry_cases
from evaluation.golden import evaluate_golden, load_cases
from evaluation.load import load, rss_mb, server
from evaluation.metrics import percentile
from evaluation.report import squad_table
from evaluation.squad import evaluate_squad, squad_documents, squad_questions
from ingest.load import load_file, walk
from ingest.pipeline import index_documents
from ingest.split import split

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def markdown(result: dict) -> str:  # type: ignore[type-arg]
    golden, enquiries = result["golden"], result["enquiries"]
    failed = ", ".join(c["id"] for c in golden["cases"] if not c["passed"]) or "none"
    visitor = result["visitor"]
    near = [c["passed"] for c in visitor["cases"] if c["id"] <= "w14"]  # the README of ../shared/eval: w01–w14
    ask, enc = result["ask_ms"], result["encode_chunks_per_s"]
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']} with `make bench` "
            f"(SQuAD: {result['squad_questions']} + {result['squad_questions']} questions, seed {result['seed']}).",
            "",
            squad_table(result["squad"]),
            "",
            "With `squad2-distractors.json`'s 570 paragraphs indexed beside it:",
            "",
            squad_table(result["squad_with_distractors"]),
            "",
            _held_out_line(result["abstention_held_out"]),
            "",
            f"Golden cases (`seed-dev.jsonl`): {golden['passed']}/{golden['total']} passed (failed: {failed}).",
            f"Visitor cases (`visitor-dev.jsonl`, each part judged in its own answer): {visitor['passed']}/"
            f"{visitor['total']} passed; near misses (w01–w14) declined {sum(near)}/{len(near)}.",
            f"Enquiry drafts (`enquiries-dev.jsonl`): parts answered {enquiries['parts_answered']}/"
            f"{enquiries['parts_total']}, nothing to say {enquiries['none_ok']}, "
            f"signposted {enquiries['signpost_ok']}.",
            f"Ask, warm: p50 {ask['p50']} ms, p95 {ask['p95']} ms over {ask['n']} questions, of which the "
            f"verifier p50 {ask['verifier_p50']} ms, p95 {ask['verifier_p95']} ms. "
            f"Encoding: ONNX int8 {enc['onnx_int8']} vs torch {enc['torch']} chunks/s ({enc['speedup']}x); "
            f"ingest pipeline {result['ingest_pipeline_chunks_per_s']} chunks/s.",
            "",
            "| `POST /api/ask` over HTTP | answers/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|",
            *(
                f"| {r['clients']} client(s), {r['requests']} requests | {r['answers_per_s']} | {r['p50_ms']} | "
                f"{r['p95_ms']} | {r['p99_ms']} | {r['errors']} |"
                for r in result["http"]["runs"]
            ),
            "",
            f"Server resident memory: {result['http']['rss_mb_after_warm_up']} MB after warm-up, "
            f"{result['http']['rss_mb_after_load']} MB after the load (target ≤ 800 MB; at 16 clients the target "
            "is ≥ 250 answers/s with p95 ≤ 100 ms; `make loadtest` measures it alone).",
            "",
            f"Staff triage classification on {result['triage_classification']['n']} labelled enquiries "
            f"(tests/data/enquiries.jsonl): top-1 {result['triage_classification']['top1']}, "
            f"top-2 {result['triage_classification']['top2']} (targets 0.85 / 0.95).",
        ]
    )


def _held_out_line(held: dict) -> str:  # type: ignore[type-arg]
    """The honest abstention figures: `make calibrate`'s article-grouped, nested cross-validation."""
    sizes = "; ".join(
        f"{name} index: false abstention {f['false_abstain']}, unseen abstained {f['abstain_unseen']}, near misses "
        f"declined {f.get('nearmiss_abstained', '-')} ({f['answerable']} + {f['unseen']} + {f.get('nearmiss', 0)} "
        "questions)"
        for name, f in held.items()
    )
    return f"Abstention on held-out articles (`make calibrate`, cross-validated by article): {sizes}."


class TimedVerifier:
    """The assistant's verifier, counting the milliseconds it spends on each question."""

    def __init__(self, inner: Verifier) -> None:
        self.inner, self.spent, self.per_question = inner, 0.0, list[float]()

    def probabilities(self, question: str, candidates: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.probabilities(question, candidates)
        finally:
            self.spent += (time.perf_counter() - started) * 1000


def update_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    if START in text and END in text:
        head, rest = text.split(START, 1)
        README.write_text(f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


def classification_figures(embedder: OnnxEmbedder) -> dict:  # type: ignore[type-arg]
    """Top-1 and top-2 accuracy of staff triage on the labelled enquiries in tests/data."""
    from assistant.desk.taxonomy import Classifier, load_taxonomy

    rows = [json.loads(line) for line in Path("tests/data/enquiries.jsonl").read_text().splitlines() if line.strip()]
    classifier = Classifier(load_taxonomy(), embedder)
    ranked = [[name for name, _ in classifier.classify(row["text"]).ranked] for row in rows]
    return {
        "n": len(rows),
        "top1": round(sum(r[0] == row["category"] for r, row in zip(ranked, rows, strict=True)) / len(rows), 4),
        "top2": round(sum(row["category"] in r[:2] for r, row in zip(ranked, rows, strict=True)) / len(rows), 4),
        "targets": {"top1": 0.85, "top2": 0.95},
    }


def http_figures(questions: list[str]) -> dict:  # type: ignore[type-arg]
    """`POST /api/ask` over HTTP at 1 and 16 clients against `serve` on the `make run` index, and its memory.

    The server logs to a throwaway database, so bench questions never reach the real question log.
    """
    with (
        tempfile.TemporaryDirectory() as tmp,
        server({"CLUSTER_ASSISTANT_DATABASE_URL": f"sqlite:///{tmp}/b.db"}) as (
            url,
            process,
        ),
    ):
        load(url, questions, 4, 100)  # warm-up
        warm_rss = rss_mb(process.pid)
        runs = [load(url, questions, 1, 300), load(url, questions, 16, 1600)]
        return {
            "runs": runs,
            "rss_mb_after_warm_up": warm_rss,
            "rss_mb_after_load": rss_mb(process.pid),
            "targets": {"answers_per_s_at_16": 250, "p95_ms_at_16": 100, "rss_mb": 800},
        }


def quality_figures(onnx: OnnxEmbedder, questions: int, seed: int) -> dict[str, Any]:
    """SQuAD (alone, and with the distractor articles indexed beside it), golden cases, enquiry drafts."""
    corpus, unseen = EVAL / "squad2-dev-corpus.json", EVAL / "squad2-dev-unseen.json"
    return {
        "squad": evaluate_squad(corpus, unseen, Settings(), onnx, questions, seed),
        "squad_with_distractors": evaluate_squad(
            corpus, unseen, Settings(), onnx, questions, seed, EVAL / "squad2-distractors.json"
        ),
        "golden": evaluate_golden(load_cases(EVAL / "seed-dev.jsonl"), Path("corpus"), Settings(), onnx),
        "visitor": evaluate_golden(load_cases(EVAL / "visitor-dev.jsonl"), Path("corpus"), Settings(), onnx),
        "enquiries": evaluate_enquiries(
            load_enquiry_cases(EVAL / "enquiries-dev.jsonl"), Path("corpus"), Settings(), onnx
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("evaluation/results/latest.json"))
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    onnx = OnnxEmbedder(Settings().model_cache_dir)  # the exported model of `make run`, not a fresh export
    quality = quality_figures(onnx, args.questions, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        documents = squad_documents(EVAL / "squad2-dev-corpus.json") + [load_file(p) for p in walk(Path("corpus"))]
        chunks = [c for d in documents for c in split(d, onnx.count_tokens)]
        texts = [c.text for c in chunks]
        torch = TorchEmbedder()
        timings = {}
        for name, embedder in (("onnx_int8", onnx), ("torch", torch)):
            embedder.encode(texts[:8])
            started = time.perf_counter()
            embedder.encode(texts)
            timings[name] = len(texts) / (time.perf_counter() - started)
        store = Store.open(settings, onnx)
        started = time.perf_counter()
        report = index_documents(documents, store, onnx)
        pipeline_rate = report.chunks_written / (time.perf_counter() - started)
        assistant = Assistant.load(settings, onnx)
        questions = [q["question"] for q in squad_questions(EVAL / "squad2-dev-corpus.json", True)][: args.questions]
        seed = [
            json.loads(line).get("question") or json.loads(line)["turns"][0]
            for line in (EVAL / "seed-dev.jsonl").read_text().splitlines()
            if line.strip()
        ]
        questions += seed
        for q in squad_questions(EVAL / "squad2-dev-unseen.json", True)[:20]:
            assistant.ask(q["question"])  # warm-up, on questions not timed: the verifier remembers those it read
        latencies, verifier = [], TimedVerifier(assistant.verifier)
        assistant.verifier = cast(Verifier, verifier)
        for q in questions:
            started, verifier.spent = time.perf_counter(), 0.0
            assistant.ask(q)
            latencies.append((time.perf_counter() - started) * 1000)
            verifier.per_question.append(verifier.spent)
    http = http_figures(seed)  # questions about the corpus the server has indexed
    classification = classification_figures(onnx)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        "command": "make bench",
        "seed": args.seed,
        "squad_questions": args.questions,
        **quality,
        "abstention_held_out": Calibration.load().details["held_out"],
        "ask_ms": {
            "n": len(latencies),
            "p50": round(statistics.median(latencies), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "target_p95": 40,
            "verifier_p50": round(statistics.median(verifier.per_question), 2),
            "verifier_p95": round(percentile(verifier.per_question, 0.95), 2),
        },
        "encode_chunks_per_s": {
            "onnx_int8": round(timings["onnx_int8"], 1),
            "torch": round(timings["torch"], 1),
            "speedup": round(timings["onnx_int8"] / timings["torch"], 2),
            "chunks": len(texts),
            "target_speedup": 2.0,
        },
        "ingest_pipeline_chunks_per_s": round(pipeline_rate, 1),
        "http": http,
        "triage_classification": classification,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    table = markdown(result)
    args.out.with_suffix(".md").write_text(table + "\n")
    update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
