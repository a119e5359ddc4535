"""The plain LangChain pipeline we measure ourselves against, run on the same data in the same process.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), the same MiniLM embedder, a langchain-chroma
store with its defaults, `similarity_search_with_relevance_scores`; the answer is the first 300 characters of the
top chunk, and it abstains below the score that gives 5% false abstention on its own answerable questions.
The only place LangChain's vector store is used; the product's own Chroma adapter is assistant/engine/store.py.
"""

import time
import warnings
from pathlib import Path
from typing import Any

from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.engine import Embedder
from assistant.models import LoadedDocument
from evaluation.metrics import CONTAINMENT_CHARS, Outcome, distinct, percentile

PEER_FALSE_ABSTAIN = 0.05
PEER_K = 5


class MiniLMEmbeddings(Embeddings):
    """Our embedder behind LangChain's `Embeddings` interface."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.encode([text])[0].tolist()


def build_peer(documents: list[LoadedDocument], embedder: Embedder, directory: Path) -> Chroma:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    pieces = splitter.split_documents(
        [Document("\n\n".join(b.text for b in d.blocks), metadata={"source": d.source}) for d in documents]
    )
    client = chromadb.PersistentClient(path=str(directory), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(collection_name="peer", embedding_function=MiniLMEmbeddings(embedder), client=client)
    store.add_documents(pieces)
    return store


def peer_search(store: Chroma, question: str) -> list[tuple[Document, float]]:
    with warnings.catch_warnings():  # its L2 relevance goes below 0 for far chunks, and it warns each time
        warnings.simplefilter("ignore")
        return store.similarity_search_with_relevance_scores(question, k=PEER_K)


def run_peer(store: Chroma, questions: list[dict[str, Any]], answerable: list[bool]) -> list[Outcome]:
    """Ask every question; abstention is decided afterwards from the answerable questions' top scores."""
    raw = []
    for q in questions:
        started = time.perf_counter()
        found = peer_search(store, q["question"])
        elapsed = (time.perf_counter() - started) * 1000
        raw.append((found, elapsed))
    top_scores = [found[0][1] if found else 0.0 for found, _ in raw]
    own = [s for s, a in zip(top_scores, answerable, strict=True) if a]
    threshold = percentile(own, PEER_FALSE_ABSTAIN) if own else 0.0
    outcomes = []
    for q, is_answerable, (found, elapsed), top in zip(questions, answerable, raw, top_scores, strict=True):
        abstained = not found or top < threshold
        outcomes.append(
            Outcome(
                answerable=is_answerable,
                ranking=distinct([doc.metadata["source"] for doc, _ in found]),
                gold=q.get("source"),
                answers=q.get("answers", []),
                text="" if abstained else found[0][0].page_content[:CONTAINMENT_CHARS],
                abstained=abstained,
                latency_ms=elapsed,
                nearmiss=q.get("nearmiss", False),
            )
        )
    return outcomes
