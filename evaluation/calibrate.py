"""Calibrate abstention on SQuAD v2.0-format data: fit the confidence model and choose its threshold.

Paragraphs of CORPUS are indexed (each one document, titled `<article> #<paragraph>`); its answerable questions
should be answered, and the questions of UNSEEN (articles not indexed) should be abstained on. A logistic model
over the composer's signals is fitted on one half of each, and the threshold is the highest that keeps false
abstention at or below `MAX_FALSE_ABSTAIN` on that half. The other half reports how well that holds.
"""

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.engine import CALIBRATION_FILE, SIGNALS, Assistant, Embedder, load_embedder
from evaluation.squad import squad_assistant, squad_questions

MAX_FALSE_ABSTAIN = 0.02


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 4000, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Plain gradient-descent logistic regression on standardised features; returns raw-scale weights."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w = np.zeros(z.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + l2 * w)
        b -= 0.5 * float(np.mean(p - y))
    weights = w / std
    return weights, float(b - weights @ mean)


def collect_signals(questions: list[dict[str, Any]], assistant: Assistant) -> np.ndarray:
    """The abstention signals `ask` would see for each question, one row each, in `SIGNALS` order."""
    rows = []
    for q in questions:
        values = assistant.assess(q["question"]).signals
        rows.append([values[name] for name in SIGNALS])
    return np.asarray(rows)


def calibrate(
    corpus: Path,
    unseen: Path,
    settings: Settings,
    seed: int = 13,
    embedder: Embedder | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """Fit and write the calibration; returns what was written."""
    embedder = embedder or load_embedder(settings.embedding_backend, settings.model_cache_dir)
    rng = random.Random(seed)
    positives = squad_questions(corpus, answerable=True)
    negatives = squad_questions(unseen, answerable=True) + squad_questions(unseen, answerable=False)
    rng.shuffle(positives)
    rng.shuffle(negatives)
    with tempfile.TemporaryDirectory() as tmp:
        assistant = squad_assistant(corpus, settings, embedder, Path(tmp))
        x_pos = collect_signals(positives, assistant)
        x_neg = collect_signals(negatives, assistant)
    half_pos, half_neg = len(x_pos) // 2, len(x_neg) // 2
    x_fit = np.vstack([x_pos[:half_pos], x_neg[:half_neg]])
    y_fit = np.concatenate([np.ones(half_pos), np.zeros(half_neg)])
    weights, bias = fit_logistic(x_fit, y_fit)

    def conf(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(x @ weights + bias)))

    fit_pos = np.sort(conf(x_pos[:half_pos]))
    threshold = float(fit_pos[int(np.floor(MAX_FALSE_ABSTAIN * len(fit_pos)))])  # highest keeping ≤ 2% below it
    held_pos, held_neg = conf(x_pos[half_pos:]), conf(x_neg[half_neg:])
    result = {
        "weights": {name: round(float(w), 6) for name, w in zip(SIGNALS, weights, strict=True)},
        "bias": round(bias, 6),
        "threshold": round(threshold, 6),
        "details": {
            "command": "make calibrate",
            "corpus": corpus.name,
            "unseen": unseen.name,
            "seed": seed,
            "embedder": embedder.model_id,
            "fitted_on": {
                "answerable": half_pos,
                "unseen": half_neg,
                "false_abstain": round(float(np.mean(fit_pos < threshold)), 4),
                "abstain_unseen": round(float(np.mean(conf(x_neg[:half_neg]) < threshold)), 4),
            },
            "held_out": {
                "answerable": len(held_pos),
                "unseen": len(held_neg),
                "false_abstain": round(float(np.mean(held_pos < threshold)), 4),
                "abstain_unseen": round(float(np.mean(held_neg < threshold)), 4),
            },
        },
    }
    (out or CALIBRATION_FILE).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
