"""SQuAD v2.0-format data as the assistant sees it: each paragraph one document, indexed with the normal ingest."""

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.engine import Assistant, Calibration, Embedder, Store
from assistant.models import Block, LoadedDocument
from evaluation.metrics import Outcome, distinct, summarize
from evaluation.peer import build_peer, peer_search, run_peer
from ingest.load import content_hash
from ingest.pipeline import index_documents


def squad_documents(path: Path) -> list[LoadedDocument]:
    """Each paragraph of a SQuAD v2.0 file as one document titled `<article> #<paragraph index>`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    documents = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            title = f"{article['title']} #{i}"
            context = paragraph["context"]
            documents.append(LoadedDocument(f"squad:{title}", title, [Block(context)], content_hash(context.encode())))
    return documents


def squad_questions(path: Path, answerable: bool) -> list[dict[str, Any]]:
    """Questions with the source of their paragraph and their gold answers."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                if qa.get("is_impossible", False) != (not answerable):
                    continue
                answers = [a["text"] for a in qa.get("answers", [])]
                out.append({"question": qa["question"], "source": f"squad:{article['title']} #{i}", "answers": answers})
    return out


def squad_assistant(
    corpus: Path,
    settings: Settings,
    embedder: Embedder,
    data_dir: Path,
    calibration: Calibration | None = None,
    distractors: Path | None = None,
) -> Assistant:
    """An assistant over a fresh embedded index of `corpus`'s paragraphs (and `distractors`') in `data_dir`."""
    temp_settings = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
    store = Store.open(temp_settings, embedder)
    documents = squad_documents(corpus) + (squad_documents(distractors) if distractors else [])
    index_documents(documents, store, embedder, progress=None)
    return Assistant(temp_settings, embedder, store, calibration or Calibration.load())


def sample_questions(corpus: Path, unseen: Path, n: int, seed: int) -> tuple[list[dict[str, Any]], list[bool]]:
    """`n` answerable questions of CORPUS, `n` questions of UNSEEN and `n` unanswerable questions of CORPUS (near
    misses, marked `nearmiss`), shuffled together, with their answerability."""
    rng = random.Random(seed)
    answerable = squad_questions(corpus, answerable=True)
    outside = squad_questions(unseen, answerable=True) + squad_questions(unseen, answerable=False)
    picked = rng.sample(answerable, min(n, len(answerable))) + rng.sample(outside, min(n, len(outside)))
    near = squad_questions(corpus, answerable=False)
    picked += [{**q, "nearmiss": True} for q in rng.sample(near, min(n, len(near)))]
    flags = [True] * min(n, len(answerable)) + [False] * (min(n, len(outside)) + min(n, len(near)))
    order = list(range(len(picked)))
    rng.shuffle(order)  # interleaved, so neither kind is timed on a colder process
    return [picked[i] for i in order], [flags[i] for i in order]


def run_ours(assistant: Assistant, questions: list[dict[str, Any]], answerable: list[bool]) -> list[Outcome]:
    outcomes = []
    for q, is_answerable in zip(questions, answerable, strict=True):
        started = time.perf_counter()
        answer = assistant.ask(q["question"])
        elapsed = (time.perf_counter() - started) * 1000
        outcomes.append(
            Outcome(
                answerable=is_answerable,
                ranking=distinct([h.chunk.source for h in answer.hits]),
                gold=q["source"] if is_answerable else None,
                answers=q["answers"] if is_answerable else [],
                text=answer.text,
                abstained=answer.abstained,
                latency_ms=elapsed,
                nearmiss=q.get("nearmiss", False),
            )
        )
    return outcomes


def evaluate_squad(
    corpus: Path,
    unseen: Path,
    settings: Settings,
    embedder: Embedder,
    n: int = 300,
    seed: int = 7,
    distractors: Path | None = None,
) -> dict[str, Any]:
    """Ours and the plain LangChain pipeline on the same sampled questions, in this process; the eval JSON.

    `distractors`' paragraphs are indexed beside the corpus (by both), and their questions are never asked.
    """
    questions, answerable = sample_questions(corpus, unseen, n, seed)
    warm_up = squad_questions(corpus, answerable=True)[:10]
    with tempfile.TemporaryDirectory() as tmp:
        ours = squad_assistant(corpus, settings, embedder, Path(tmp) / "ours", distractors=distractors)
        for q in warm_up:
            ours.ask(q["question"])
        report: dict[str, Any] = summarize(run_ours(ours, questions, answerable))
        indexed = squad_documents(corpus) + (squad_documents(distractors) if distractors else [])
        peer = build_peer(indexed, embedder, Path(tmp) / "peer")
        for q in warm_up:
            peer_search(peer, q["question"])
        report["peer"] = summarize(run_peer(peer, questions, answerable))
    return report
