"""Calibrate abstention on SQuAD v2.0-format data: fit the confidence model and choose its threshold, honestly.

Paragraphs of CORPUS are indexed (each one document, titled `<article> #<paragraph>`); its answerable questions
should be answered, and the questions of UNSEEN (articles not indexed) should be abstained on. When DISTRACTORS is
given, every question is also asked of a larger index (CORPUS and DISTRACTORS' paragraphs), and the model is fitted
on both, so that its decision holds as the index grows.

Cross-validation is grouped by article: fold k holds the k-th article of each file, and never a question of a
held-out article is in the fit. The threshold is the confidence below which `level` of the fitted answerable
questions fall; `level` is the largest that keeps false abstention at or below `MAX_FALSE_ABSTAIN` in a
cross-validation of the fitting folds alone (nested), so the held-out figures are of a procedure that never saw
them. The shipped model is the same procedure on all the data.
"""

import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.engine import CALIBRATION_FILE, SIGNALS, Assistant, Embedder, load_embedder
from assistant.errors import InvalidRequest
from evaluation.squad import squad_assistant, squad_questions

MAX_FALSE_ABSTAIN = 0.04
LEVELS = np.linspace(0.0, 0.06, 61)  # candidate shares of fitted answerable questions left below the threshold


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


@dataclass(frozen=True)
class Rows:
    """Every question asked of every index: its signals, whether it is answerable, its fold and its index."""

    x: np.ndarray
    answerable: np.ndarray
    fold: np.ndarray
    index: np.ndarray  # "small" (the corpus alone) or "large" (with the distractors)
    nearmiss: np.ndarray  # an unanswerable question about an indexed article


@dataclass(frozen=True)
class Model:
    weights: np.ndarray
    bias: float
    threshold: float

    def answers(self, x: np.ndarray) -> np.ndarray:
        return confidences(x, self.weights, self.bias) >= self.threshold


def confidences(x: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights + bias)))


def article_folds(articles: list[str], k: int, rng: random.Random) -> dict[str, int]:
    """Each article's fold: the articles shuffled, then dealt round the `k` folds."""
    order = sorted(set(articles))
    rng.shuffle(order)
    return {article: i % k for i, article in enumerate(order)}


def threshold_at(ranked: np.ndarray, level: float) -> float:
    """The confidence below which at most `level` of the answerable questions fall (`ranked`: their confidences,
    sorted)."""
    return float(ranked[min(int(np.floor(level * len(ranked))), len(ranked) - 1)])


def false_abstain_by_level(rows: Rows) -> np.ndarray:
    """For each of `LEVELS`, the false abstention of fitting on all folds but one, pooled over held-out folds."""
    missed = np.zeros(len(LEVELS))
    for fold in np.unique(rows.fold):
        fit, held = rows.fold != fold, (rows.fold == fold) & rows.answerable
        weights, bias = fit_logistic(rows.x[fit], rows.answerable[fit].astype(float))
        held_conf = confidences(rows.x[held], weights, bias)
        ranked = np.sort(confidences(rows.x[fit & rows.answerable], weights, bias))
        for i, level in enumerate(LEVELS):
            missed[i] += np.sum(held_conf < threshold_at(ranked, level))
    return missed / max(int(rows.answerable.sum()), 1)


def fit_model(rows: Rows) -> tuple[Model, float]:
    """The model fitted on `rows`, its threshold at the largest level that cross-validation within them allows."""
    level = 0.0
    if len(np.unique(rows.fold)) > 1:
        allowed = LEVELS[false_abstain_by_level(rows) <= MAX_FALSE_ABSTAIN]
        level = float(allowed.max()) if len(allowed) else 0.0
    weights, bias = fit_logistic(rows.x, rows.answerable.astype(float))
    ranked = np.sort(confidences(rows.x[rows.answerable], weights, bias))
    return Model(weights, bias, threshold_at(ranked, level)), level


def _subset(rows: Rows, mask: np.ndarray) -> Rows:
    return Rows(rows.x[mask], rows.answerable[mask], rows.fold[mask], rows.index[mask], rows.nearmiss[mask])


def figures(rows: Rows, answered: np.ndarray) -> dict[str, dict[str, float | int]]:
    """False abstention and unseen abstention, for each index."""
    out: dict[str, dict[str, float | int]] = {}
    for name in sorted(set(rows.index.tolist()), reverse=True):
        mine = rows.index == name
        pos, neg, near = mine & rows.answerable, mine & ~rows.answerable & ~rows.nearmiss, mine & rows.nearmiss
        out[name] = {
            "answerable": int(pos.sum()),
            "unseen": int(neg.sum()),
            "nearmiss": int(near.sum()),
            "false_abstain": round(float(np.mean(~answered[pos])), 4),
            "abstain_unseen": round(float(np.mean(~answered[neg])), 4),
        }
        if near.any():  # none when the corpus file has no unanswerable questions
            out[name]["nearmiss_abstained"] = round(float(np.mean(~answered[near])), 4)
    return out


def cross_validate(rows: Rows) -> tuple[dict[str, Any], list[float]]:
    """Held-out figures: each fold decided by the procedure fitted (nested) on the other folds alone."""
    answered = np.zeros(len(rows.answerable), dtype=bool)
    levels = []
    for fold in np.unique(rows.fold):
        model, level = fit_model(_subset(rows, rows.fold != fold))
        answered[rows.fold == fold] = model.answers(rows.x[rows.fold == fold])
        levels.append(level)
    return figures(rows, answered), levels


def signal_rows(
    corpus: Path, unseen: Path, distractors: Path | None, settings: Settings, embedder: Embedder, seed: int
) -> Rows:
    """The signals of every corpus and unseen question, asked of the small index and (with distractors) the large."""
    positives = squad_questions(corpus, answerable=True)
    # Negatives: the questions of articles not indexed, and the near misses, the unanswerable questions about the
    # indexed articles (the hard case: the right article is found, and it does not say).
    nearmiss = squad_questions(corpus, answerable=False)
    negatives = nearmiss + squad_questions(unseen, answerable=True) + squad_questions(unseen, answerable=False)
    article = [q["source"].rsplit(" #", 1)[0] for q in positives + negatives]
    inside, outside = article[: len(positives)], article[len(positives) + len(nearmiss) :]
    k = min(len(set(inside)), len(set(outside)))
    if k < 2:
        raise InvalidRequest("calibration needs at least two articles in each file, to hold one out")
    rng = random.Random(seed)
    folds = article_folds(inside, k, rng) | article_folds(outside, k, rng)  # a near miss goes with its article
    near = np.array([len(positives) <= i < len(positives) + len(nearmiss) for i in range(len(article))])
    parts = []
    for name, extra in [("small", None), ("large", distractors)][: 2 if distractors else 1]:
        with tempfile.TemporaryDirectory() as tmp:
            assistant = squad_assistant(corpus, settings, embedder, Path(tmp), distractors=extra)
            x = np.vstack([collect_signals(positives, assistant), collect_signals(negatives, assistant)])
        fold = np.array([folds[a] for a in article])
        parts.append(Rows(x, np.arange(len(x)) < len(positives), fold, np.full(len(x), name), near))
    fields = ("x", "answerable", "fold", "index", "nearmiss")
    return Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def calibrate(
    corpus: Path,
    unseen: Path,
    settings: Settings,
    seed: int = 13,
    embedder: Embedder | None = None,
    out: Path | None = None,
    distractors: Path | None = None,
) -> dict[str, Any]:
    """Fit and write the calibration; returns what was written."""
    embedder = embedder or load_embedder(settings.embedding_backend, settings.model_cache_dir)
    rows = signal_rows(corpus, unseen, distractors, settings, embedder, seed)
    held_out, fold_levels = cross_validate(rows)
    model, level = fit_model(rows)
    result = {
        "weights": {name: round(float(w), 6) for name, w in zip(SIGNALS, model.weights, strict=True)},
        "bias": round(model.bias, 6),
        "threshold": round(model.threshold, 6),
        "details": {
            "command": "make calibrate",
            "corpus": corpus.name,
            "unseen": unseen.name,
            "distractors": distractors.name if distractors else None,
            "seed": seed,
            "embedder": embedder.model_id,
            "folds": len(fold_levels),
            "level": round(level, 4),
            "held_out": held_out,
            "held_out_levels": [round(v, 4) for v in fold_levels],
            "fitted_on": figures(rows, model.answers(rows.x)),
            "signal_means": signal_means(rows),
        },
    }
    (out or CALIBRATION_FILE).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def signal_means(rows: Rows) -> dict[str, dict[str, float]]:
    """Each signal's mean over answerable and unseen questions, for each index: how far it drifts as it grows."""
    out = {}
    for name in sorted(set(rows.index.tolist()), reverse=True):
        kinds = (
            ("answerable", rows.answerable),
            ("unseen", ~rows.answerable & ~rows.nearmiss),
            ("nearmiss", rows.nearmiss),
        )
        for kind, mask in kinds:
            chosen = rows.x[(rows.index == name) & mask]
            if not len(chosen):
                continue  # no near misses in the data given
            out[f"{name}/{kind}"] = {s: round(float(v), 3) for s, v in zip(SIGNALS, chosen.mean(axis=0), strict=True)}
    return out
