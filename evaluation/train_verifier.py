"""Train the answer verifier: a cross-encoder fine-tuned from the packaged MiniLM weights that reads a question and
a candidate sentence together and gives the probability that the sentence answers the question.

`make train-verifier` runs `python -m evaluation.train_verifier`: offline, on the CPU, from the repository and
`../shared/eval` alone. Training pairs come from the SQuAD v2.0 files there (8 articles):
- a positive: the sentence that holds an answerable question's answer;
- negatives: other sentences of its paragraph; the sentence of another paragraph of the article that shares most
  words with the question; the answer sentence with its answer swapped for another span of the same kind from the
  article (a year for a year, a number for a number, a name for a name); and for an unanswerable question, the
  sentence holding its `plausible_answers` (the nearest miss there is).
Held-out figures come from folds of whole articles: a model never sees the articles it is measured on. The model
written (`--out`, `verifier-int8.onnx` and `verifier.json` with the figures) is then trained on all eight and
quantized to int8.

Status (issue 27): not shipped yet. The first run (2 folds, 2 epochs, one-cycle 4e-5, unweighted) did not learn: on
held-out articles the answer sentence was its paragraph's best for 0.33 of questions. A constant 3e-5 after warm-up
with positives weighted by the class ratio learns to rank: two folds of 2 epochs put the answer sentence first for
0.78 and 0.83 of held-out questions, but declined only 0.029 and 0.063 of near misses at 5 % false abstention, so it
is not shipped yet: it needs far more negatives of the near-miss kind.
"""

import argparse
import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FILES = ("squad2-dev-corpus.json", "squad2-dev-unseen.json")
TARGET = Path(__file__).resolve().parents[1] / "assistant" / "engine" / "verifier"
MAX_TOKENS = 96  # a question and a sentence (with the one before, when it refers back) fit; longer costs time
LEARNING_RATE = 3e-5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(0-9])")
_REFERS_BACK = re.compile(r"^(?:it|this|these|that|they|he|she|its|their|such)\b", re.I)
_SPANS = {
    "year": re.compile(r"\b1[0-9]\d\d\b|\b20\d\d\b"),
    "number": re.compile(r"\b\d[\d,.]*\b"),
    "name": re.compile(r"(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+)*"),
}


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float
    article: str


def sentences_of(context: str) -> list[tuple[int, str]]:
    """(start offset, sentence) for each sentence of a paragraph."""
    out, start = [], 0
    for piece in _SENTENCE_END.split(context):
        at = context.index(piece, start)
        out.append((at, piece))
        start = at + len(piece)
    return out


def candidate_text(sentences: list[tuple[int, str]], i: int) -> str:
    """The sentence as the verifier reads it: with the one before when it refers back ("It…", "This…")."""
    text = sentences[i][1]
    return f"{sentences[i - 1][1]} {text}" if i > 0 and _REFERS_BACK.match(text) else text


def _holding(sentences: list[tuple[int, str]], offset: int) -> int:
    return max(i for i, (start, _) in enumerate(sentences) if start <= offset)


def _swap(sentence: str, answer: str, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """The sentence with its answer replaced by another span of the same kind from the article, or None."""
    for kind, pattern in _SPANS.items():
        if pattern.fullmatch(answer.strip()):
            others = [s for s in pool[kind] if s != answer.strip()]
            if others and answer in sentence:
                return sentence.replace(answer, rng.choice(others), 1)
    return None


def article_pairs(article: dict[str, Any], rng: random.Random) -> list[Pair]:
    """The training pairs of one SQuAD article (see the module's docstring)."""
    title = article["title"]
    paragraphs = [sentences_of(p["context"]) for p in article["paragraphs"]]
    everything = [s for p in paragraphs for s in p]
    pool = {kind: sorted({m for _, s in everything for m in pattern.findall(s)}) for kind, pattern in _SPANS.items()}
    pairs: list[Pair] = []
    for paragraph, sentences in zip(article["paragraphs"], paragraphs, strict=True):
        for qa in paragraph["qas"]:
            question = qa["question"].strip()
            words = set(re.findall(r"\w{4,}", question.lower()))
            if qa.get("is_impossible"):
                for near in qa.get("plausible_answers", [])[:1]:
                    pairs.append(Pair(question, candidate_text(sentences, _holding(sentences, near["answer_start"])),
                                      0.0, title))  # fmt: skip
                continue
            answer = qa["answers"][0]
            gold = _holding(sentences, answer["answer_start"])
            pairs.append(Pair(question, candidate_text(sentences, gold), 1.0, title))
            others = [i for i in range(len(sentences)) if i != gold]
            for i in rng.sample(others, min(2, len(others))):
                pairs.append(Pair(question, candidate_text(sentences, i), 0.0, title))
            elsewhere = [s for p in paragraphs if p is not sentences for _, s in p]
            if elsewhere:
                best = max(elsewhere, key=lambda s: len(words & set(re.findall(r"\w{4,}", s.lower()))))
                pairs.append(Pair(question, best, 0.0, title))
            swapped = _swap(sentences[gold][1], answer["text"], pool, rng)
            if swapped:
                pairs.append(Pair(question, swapped, 0.0, title))
    return pairs


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
        order = pairs[:]
        rng.shuffle(order)
        started, total = time.perf_counter(), 0.0
        for start in range(0, len(order), 16):
            batch = order[start : start + 16]
            encoded = tokenizer([p.question for p in batch], [p.sentence for p in batch], truncation="only_second",
                                max_length=MAX_TOKENS, padding=True, return_tensors="pt")  # fmt: skip
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


def scores(model: Any, tokenizer: Any, question: str, candidates: list[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        encoded = tokenizer([question] * len(candidates), candidates, truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, return_tensors="pt")  # fmt: skip
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
                gold = _holding(sentences, qa["answers"][0]["answer_start"])
                answerable.append(float(found[gold]))
                top1.append(int(np.argmax(found)) == gold)
    report = {"answer_sentence_top1": float(np.mean(top1)), "answerable": len(answerable),
              "unanswerable": len(unanswerable)}  # fmt: skip
    for rate in (0.02, 0.05):
        threshold = float(np.quantile(answerable, rate))
        report[f"nearmiss_declined_at_{int(rate * 100)}pct_false_abstention"] = float(
            np.mean([s < threshold for s in unanswerable])
        )
        report[f"threshold_at_{int(rate * 100)}pct"] = threshold
    return report


def folds(data: list[dict[str, Any]], k: int) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    for i in range(k):
        yield [a for j, a in enumerate(data) if j % k != i], [a for j, a in enumerate(data) if j % k == i]


def export(model: Any, target: Path) -> None:
    """The model as ONNX with its MatMul weights quantized to int8 (as the embedder's recipe)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = target.with_suffix(".fp32.tmp")
    torch.onnx.export(model, tuple(torch.ones(1, 8, dtype=torch.long) for _ in names), str(fp32), input_names=names,
                      output_names=["logits"], dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {
                          "logits": {0: "batch"}}, opset_version=17, dynamo=False)  # fmt: skip
    # The word embeddings (Gather) too: left in fp32 they are 47 MB of the file's 59.
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gather"])  # fmt: skip
    fp32.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=2, help="held-out folds of whole articles (0: none)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    data = articles()
    rng = random.Random(args.seed)
    figures: dict[str, Any] = {"epochs": args.epochs, "max_tokens": MAX_TOKENS, "folds": []}
    for number, (train_on, test_on) in enumerate(folds(data, args.folds) if args.folds else []):
        pairs = [p for a in train_on for p in article_pairs(a, rng)]
        print(f"fold {number + 1}: {len(pairs)} pairs from {len(train_on)} articles", flush=True)
        model, tokenizer = train(pairs, args.epochs, args.seed)
        fold = {"held_out_articles": [a["title"] for a in test_on], "pairs": len(pairs),
                **held_out(model, tokenizer, test_on)}  # fmt: skip
        print(json.dumps(fold), flush=True)
        figures["folds"].append(fold)
    pairs = [p for a in data for p in article_pairs(a, rng)]
    print(f"final: {len(pairs)} pairs from {len(data)} articles", flush=True)
    model, _tokenizer = train(pairs, args.epochs, args.seed)
    export(model, args.out / "verifier-int8.onnx")
    figures["pairs"] = len(pairs)
    (args.out / "verifier.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'verifier-int8.onnx'} and its figures", flush=True)


if __name__ == "__main__":
    main()
