"""Train the answer verifier: a cross-encoder fine-tuned from the packaged MiniLM weights that reads a question and
a candidate sentence together and gives the probability that the sentence answers the question.

`make train-verifier` runs `python -m evaluation.train_verifier --reverse`: offline, on the CPU, from the repository
and `../shared/eval` alone (~20 min on 2 cores). Training pairs come from the SQuAD v2.0 files there:
- a positive: the sentence that holds an answerable question's answer;
- negatives: other sentences of its paragraph; the sentence of another paragraph of the article that shares most
  words with the question; the answer sentence with its answer swapped for another span of the same kind from the
  article (a year for a year, a number for a number, a name for a name); the question itself changed so that its
  sentence no longer answers it (a name, year or number it shares with the sentence swapped for another of the
  article's; a word swapped for its opposite), as SQuAD v2.0's writers made their unanswerable questions; and for an
  unanswerable question, the sentence holding its `plausible_answers` (twice: the nearest miss there is) and the
  sentence of its paragraph sharing most words with it.

The model shipped learns from the four articles of `squad2-dev-unseen.json` only, so that the four indexed articles
of `squad2-dev-corpus.json` stay held out for every figure: this script's, `make calibrate`'s and `eval squad`'s.
`--reverse` also trains on the indexed articles and measures the unseen ones (a second held-out figure). The model
is exported to ONNX with its MatMul and Gather weights quantized to int8 (`assistant/engine/verifier/`), and the
figures are written beside it (`verifier.json`).

What each step bought (held out: the answer sentence its paragraph's best / near misses declined at 2 % and 5 %
false abstention, taking the paragraph's best sentence): one-cycle 4e-5, no weighting: 0.33 / - / -; constant 3e-5
after warm-up, positives weighted by the class ratio, 2 epochs: 0.78 / 0.01 / 0.03 (interleaved folds); plus
question perturbations, 3 epochs, folds by file: 0.80 / 0.05 / 0.16; plus the near misses twice and their
paragraph's closest sentence: 0.82 / 0.13 / 0.19.
"""

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.verifier_pairs import Pair, article_pairs, candidate_text, holding, sentences_of

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FILES = ("squad2-dev-corpus.json", "squad2-dev-unseen.json")
TARGET = Path(__file__).resolve().parents[1] / "assistant" / "engine" / "verifier"
EPOCHS = 3
MAX_TOKENS = 80  # a question and a sentence (with the one before, when it refers back) fit; longer costs time
LEARNING_RATE = 3e-5


def articles() -> list[dict[str, Any]]:
    return [a for name in FILES for a in json.loads((EVAL / name).read_text(encoding="utf-8"))["data"]]


def train(pairs: list[Pair], epochs: int, seed: int) -> Any:
    """A cross-encoder from the packaged MiniLM weights, fine-tuned on `pairs` (binary cross-entropy)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from assistant.engine import model_path

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_path()), num_labels=1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    batches = (len(pairs) + 15) // 16
    # A linear warm-up over a tenth of the steps, then constant: one-cycle's decay did not learn here.
    warm = max(1, epochs * batches // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: min(1.0, (step + 1) / warm))
    # About four negatives a positive: weighted so that a model saying "no" to everything is not the easy optimum.
    positives = max(1.0, sum(p.label for p in pairs))
    loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(pairs) - positives) / positives))
    rng = random.Random(seed)
    model.train()
    for epoch in range(epochs):
        order = bucketed(pairs, rng)
        started, total = time.perf_counter(), 0.0
        for start in range(0, len(order), 16):
            batch = order[start : start + 16]
            encoded = tokenizer(
                [p.question for p in batch],
                [p.sentence for p in batch],
                truncation="only_second",
                max_length=MAX_TOKENS,
                padding=True,
                return_tensors="pt",
            )
            logits = model(**encoded).logits.squeeze(-1)
            value = loss(logits, torch.tensor([p.label for p in batch]))
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            schedule.step()
            total += float(value)
        rate = len(order) / (time.perf_counter() - started)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / batches:.4f}, {rate:.1f} pairs/s", flush=True)
    model.eval()
    return model, tokenizer


def bucketed(pairs: list[Pair], rng: random.Random) -> list[Pair]:
    """The pairs shuffled, then sorted by length within runs of 50 batches, so that a batch pads little."""
    order = pairs[:]
    rng.shuffle(order)
    runs = [
        sorted(order[i : i + 800], key=lambda p: len(p.question) + len(p.sentence)) for i in range(0, len(order), 800)
    ]
    batches = [run[i : i + 16] for run in runs for i in range(0, len(run), 16)]
    rng.shuffle(batches)
    return [p for batch in batches for p in batch]


def scores(model: Any, tokenizer: Any, question: str, candidates: list[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        encoded = tokenizer(
            [question] * len(candidates),
            candidates,
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
        )
        return torch.sigmoid(model(**encoded).logits.squeeze(-1)).numpy().reshape(-1)


def held_out(model: Any, tokenizer: Any, held: list[dict[str, Any]]) -> dict[str, float]:
    """On articles the model never saw: how often the answer sentence is the paragraph's best, and how many
    unanswerable questions (their paragraph's best sentence below the threshold) are declined at 2 % and 5 %
    false abstention of answerable ones."""
    answerable, unanswerable, top1 = [], [], []
    for article in held:
        for paragraph in article["paragraphs"]:
            sentences = sentences_of(paragraph["context"])
            texts = [candidate_text(sentences, i) for i in range(len(sentences))]
            for qa in paragraph["qas"]:
                found = scores(model, tokenizer, qa["question"], texts)
                if qa.get("is_impossible"):
                    unanswerable.append(float(found.max()))
                    continue
                gold = holding(sentences, qa["answers"][0]["answer_start"])
                answerable.append(float(found[gold]))
                top1.append(int(np.argmax(found)) == gold)
    report = {
        "answer_sentence_top1": float(np.mean(top1)),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
    }
    for rate in (0.02, 0.05):
        threshold = float(np.quantile(answerable, rate))
        report[f"nearmiss_declined_at_{int(rate * 100)}pct_false_abstention"] = float(
            np.mean([s < threshold for s in unanswerable])
        )
        report[f"threshold_at_{int(rate * 100)}pct"] = threshold
    return report


def export(model: Any, target: Path) -> None:
    """The model as ONNX with its MatMul weights quantized to int8 (as the embedder's recipe)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = target.with_suffix(".fp32.tmp")
    torch.onnx.export(
        model,
        tuple(torch.ones(1, 8, dtype=torch.long) for _ in names),
        str(fp32),
        input_names=names,
        output_names=["logits"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    # The word embeddings (Gather) too: left in fp32 they are 47 MB of the file's 59.
    quantize_dynamic(
        str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Gather"]
    )
    fp32.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="also train on the indexed articles and measure the "
        "unseen ones (a second held-out figure; the model written is unchanged)",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    # The shipped model learns from the articles `eval squad` does not index, so that every figure `eval squad` and
    # `make calibrate` report for the indexed articles is of a verifier that never saw them.
    learn, held = (json.loads((EVAL / name).read_text(encoding="utf-8"))["data"] for name in reversed(FILES))
    figures: dict[str, Any] = {
        "command": "make train-verifier",
        "epochs": args.epochs,
        "max_tokens": MAX_TOKENS,
        "trained_on": FILES[1],
        "folds": [],
    }
    rounds = [(learn, held), (held, learn)] if args.reverse else [(learn, held)]
    for number, (train_on, test_on) in enumerate(rounds):
        rng = random.Random(args.seed)
        pairs = [p for a in train_on for p in article_pairs(a, rng)]
        print(f"round {number + 1}: {len(pairs)} pairs from {len(train_on)} articles", flush=True)
        model, tokenizer = train(pairs, args.epochs, args.seed)
        fold = {
            "held_out_articles": [a["title"] for a in test_on],
            "pairs": len(pairs),
            **held_out(model, tokenizer, test_on),
        }
        print(json.dumps(fold), flush=True)
        figures["folds"].append(fold)
        if number == 0:
            export(model, args.out / "verifier-int8.onnx")
    (args.out / "verifier.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'verifier-int8.onnx'} and its figures", flush=True)


if __name__ == "__main__":
    main()
