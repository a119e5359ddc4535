"""The `cluster-assistant` command: ingest, ask, chat, serve, calibrate, eval, staff, enquiries.

Errors from the assistant become a one-line message on stderr and the error's exit code; anything else is a bug
and keeps its traceback.
"""

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.models import PUBLIC, VISIBILITY_LEVELS
from ui.cli_desk import DESK_COMMANDS, desk_parsers


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.desk import open_database, removed_sources
    from assistant.engine import Store, load_embedder
    from ingest.fetch import FetchPolicy
    from ingest.pipeline import ingest

    targets = args.targets or [str(settings.corpus_dir)]
    if args.rebuild:
        Store.reset(settings)
    embedder = load_embedder(settings.embedding_backend, settings.model_cache_dir)
    store = Store.open(settings, embedder)
    policy = FetchPolicy.allowing(settings.ingest_allowed_networks)
    progress = None if not args.quiet else False
    left_out = removed_sources(open_database(settings))  # documents staff removed stay out
    report = ingest(
        targets, store, embedder, progress, visibility=args.visibility, fetch_policy=policy, left_out=left_out
    )
    print(report.summary())
    return 1 if report.failed else 0


def _print_answer(answer, explain: bool) -> None:  # type: ignore[no-untyped-def]
    print(answer.text)
    for c in answer.citations:
        where = c.url or c.source
        dated = f" — dated {c.date}" if c.date else ""
        print(f"  [{c.n}] {c.title} — {c.section or '(no section)'} — {where}{dated}")
    if explain:
        print("\n--- explain ---")
        if answer.resolved_question:
            print(f"resolved question: {answer.resolved_question}")
        print(f"{answer.kind}: confidence {answer.confidence:.3f} abstained {answer.abstained} flag {answer.flagged}")
        for rank, hit in enumerate(answer.hits, 1):
            print(
                f"  #{rank} fused={hit.score:.4f} cosine={hit.dense_similarity:.3f} dense_rank={hit.dense_rank} "
                f"bm25_rank={hit.lexical_rank} {hit.chunk.title} — {hit.chunk.section}\n      {hit.chunk.text[:200]}"
            )
        for note in answer.notes:
            print(f"  {note}")
        print(f"timings (ms): {json.dumps({k: round(v, 1) for k, v in answer.timings.items()})}")


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine import Assistant, validate_question

    validate_question(args.question)  # fail fast, before loading anything
    answer = Assistant.load(settings).ask(args.question)
    if args.json:
        payload = answer.to_json()
        if args.explain:
            payload["explain"] = {"resolved_question": answer.resolved_question, "notes": answer.notes}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_answer(answer, args.explain)
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine import Assistant

    assistant = Assistant.load(settings)
    history: list[str] = []
    print("Ask about the West Midlands health-tech cluster. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = assistant.ask(question, history)
        except AssistantError as exc:
            print(f"! {exc}")
            continue
        _print_answer(answer, args.explain)
        history.append(question)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    overrides: dict[str, object] = {"workers": args.workers or settings.workers}
    if args.forwarded_allow_ips is not None:
        overrides["forwarded_allow_ips"] = [ip.strip() for ip in args.forwarded_allow_ips.split(",") if ip.strip()]
    serve(settings.model_copy(update=overrides), host=args.host or settings.host, port=args.port or settings.port)
    return 0


def _calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.calibrate import calibrate

    distractors = Path(args.distractors) if args.distractors else None
    result = calibrate(Path(args.corpus), Path(args.unseen), settings, seed=args.seed, distractors=distractors)
    print(json.dumps(result["details"], indent=2))
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine import load_embedder
    from evaluation.report import print_enquiries, print_golden, squad_table

    embedder = load_embedder(settings.embedding_backend, settings.model_cache_dir)
    if args.suite == "squad":
        from evaluation.squad import evaluate_squad

        for path in (args.corpus, args.unseen, args.distractors):
            if path and not Path(path).is_file():
                raise AssistantError(f"No such SQuAD file: {path}")
        distractors = Path(args.distractors) if args.distractors else None
        result = evaluate_squad(
            Path(args.corpus), Path(args.unseen), settings, embedder, args.questions, args.seed, distractors
        )
        print(json.dumps(result, indent=2) if args.json else squad_table(result))
        return 0
    if not Path(args.file).is_file():
        raise AssistantError(f"No such {args.suite} file: {args.file}")
    if args.suite == "enquiries":
        from evaluation.enquiries import evaluate_enquiries, load_enquiry_cases

        cases = load_enquiry_cases(Path(args.file))
        found = evaluate_enquiries(cases, Path(args.corpus or settings.corpus_dir), settings, embedder)
        print(json.dumps(found, indent=2, ensure_ascii=False) if args.json else print_enquiries(found, cases))
        return 0 if all(c["passed"] for c in found["cases"]) else 1
    from evaluation.golden import evaluate_golden, load_cases

    result = evaluate_golden(load_cases(Path(args.file)), Path(args.corpus or settings.corpus_dir), settings, embedder)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else print_golden(result))
    return 0 if result["passed"] == result["total"] else 1


def _eval_parser(sub: Any) -> None:
    ev = sub.add_parser("eval", help="measure answer quality: SQuAD v2.0 files, golden or enquiry JSONL cases")
    suites = ev.add_subparsers(dest="suite", required=True)
    squad = suites.add_parser("squad", help="retrieval, containment, abstention and latency, ours vs plain LangChain")
    squad.add_argument("corpus", help="SQuAD v2.0 file whose paragraphs are indexed (a fresh temporary index)")
    squad.add_argument("--unseen", required=True, help="SQuAD v2.0 file of articles not indexed: should abstain")
    squad.add_argument("--distractors", help="SQuAD v2.0 file whose paragraphs are indexed too; never asked")
    squad.add_argument("--questions", type=int, default=300, help="questions sampled from each file (default 300)")
    squad.add_argument("--seed", type=int, default=7)
    squad.add_argument("--json", action="store_true", help="print the report as JSON")
    golden = suites.add_parser("golden", help="golden cases (JSONL) against a fresh index of a corpus folder")
    golden.add_argument("file", help="JSONL: id, question or turns, expect_any or expect_abstain")
    golden.add_argument("--corpus", help="folder to index (default: the corpus folder)")
    golden.add_argument("--json", action="store_true", help="print the report as JSON")
    enquiries = suites.add_parser("enquiries", help="enquiry cases (JSONL), judged on the staff reply draft")
    enquiries.add_argument("file", help="JSONL: id, text, expect (answer with parts, none, signpost)")
    enquiries.add_argument("--corpus", help="folder to index (default: the corpus folder)")
    enquiries.add_argument("--json", action="store_true", help="print the report as JSON")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cluster-assistant", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log decisions and progress details")
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="index folders, files, URLs or sitemaps (default: the corpus folder)")
    ing.add_argument("targets", nargs="*", metavar="PATH|URL")
    ing.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.add_argument(
        "--visibility",
        choices=VISIBILITY_LEVELS,
        default=PUBLIC,
        help="level of documents that declare none in front matter (.txt, .html, .pdf, .docx, web pages); "
        "public channels answer only from public ones (default: public)",
    )
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--explain", action="store_true", help="show passages, scores and decisions")
    chat = sub.add_parser("chat", help="a conversation in the terminal, with follow-ups")
    chat.add_argument("--explain", action="store_true")
    serve = sub.add_parser("serve", help="serve the web chat")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="server processes (each loads the model; default 1)")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated proxy addresses trusted to set X-Forwarded-For/-Proto (default: none)",
    )
    cal = sub.add_parser("calibrate", help="fit abstention on SQuAD data; writes assistant/engine/calibration.json")
    cal.add_argument("corpus", help="SQuAD v2.0 file whose paragraphs are indexed")
    cal.add_argument("--unseen", required=True, help="SQuAD v2.0 file whose questions should be abstained on")
    cal.add_argument(
        "--distractors", help="SQuAD v2.0 file whose paragraphs are indexed beside the corpus for a second fit"
    )
    cal.add_argument("--seed", type=int, default=13)
    _eval_parser(sub)
    desk_parsers(sub)
    return p


COMMANDS = {
    "ingest": _ingest,
    "ask": _ask,
    "chat": _chat,
    "serve": _serve,
    "calibrate": _calibrate,
    "eval": _eval,
    **DESK_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
        return COMMANDS[args.command](args, settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
