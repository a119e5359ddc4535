"""SQuAD v2.0-format data as the assistant sees it: each paragraph one document, indexed with the normal ingest."""

import json
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.embedder import Embedder
from assistant.models import Block, LoadedDocument
from assistant.service import Assistant, Calibration
from assistant.store import open_store
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
    corpus: Path, settings: Settings, embedder: Embedder, data_dir: Path, calibration: Calibration | None = None
) -> Assistant:
    """An assistant over a fresh embedded index of `corpus`'s paragraphs in `data_dir`."""
    temp_settings = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
    store = open_store(temp_settings, embedder)
    index_documents(squad_documents(corpus), store, embedder, progress=None)
    return Assistant(temp_settings, embedder, store, calibration or Calibration.load())
