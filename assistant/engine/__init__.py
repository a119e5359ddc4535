"""The answering engine: question → cited `Answer`, from the index, or an honest abstention.

It imports only `assistant.config`, `assistant.errors` and `assistant.models`. The desk, the UI, ingest and the
evaluation use it through the names exported here.
"""

from assistant.engine.assistant import NOT_FOUND, OFFER_PERSON, Assistant
from assistant.engine.calibration import CALIBRATION_FILE, SIGNALS, Calibration
from assistant.engine.catalogue import Catalogue, IndexedDocument, Indexer
from assistant.engine.dated import spoken as spoken_date
from assistant.engine.embedder import Embedder, OnnxEmbedder, TorchEmbedder, load_embedder, model_path
from assistant.engine.generate import Writer
from assistant.engine.guard import SIGNPOST
from assistant.engine.guard import is_clinical_advice_request as asks_for_medical_advice
from assistant.engine.parts import asks_anything
from assistant.engine.store import EmbeddedChunk, Store
from assistant.engine.terms import split_sentences, terms
from assistant.engine.validate import bounded_history, validate_question
from assistant.engine.verifier import VERIFIER_FILE, Verifier
from assistant.engine.visibility import PUBLIC_ONLY, STAFF_VIEW, Visible, one_document, visibility_filter

__all__ = [
    "CALIBRATION_FILE",
    "NOT_FOUND",
    "OFFER_PERSON",
    "PUBLIC_ONLY",
    "SIGNALS",
    "SIGNPOST",
    "STAFF_VIEW",
    "VERIFIER_FILE",
    "Assistant",
    "Calibration",
    "Catalogue",
    "EmbeddedChunk",
    "Embedder",
    "IndexedDocument",
    "Indexer",
    "OnnxEmbedder",
    "Store",
    "TorchEmbedder",
    "Verifier",
    "Visible",
    "Writer",
    "asks_anything",
    "asks_for_medical_advice",
    "bounded_history",
    "load_embedder",
    "model_path",
    "one_document",
    "split_sentences",
    "spoken_date",
    "terms",
    "validate_question",
    "visibility_filter",
]
