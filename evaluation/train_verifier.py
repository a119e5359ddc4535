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
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FILES = ("squad2-dev-corpus.json", "squad2-dev-unseen.json")
TARGET = Path(__file__).resolve().parents[1] / "assistant" / "engine" / "verifier"
EPOCHS = 3
MAX_TOKENS = 80  # a question and a sentence (with the one before, when it refers back) fit; longer costs time
LEARNING_RATE = 3e-5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(0-9])")
_REFERS_BACK = re.compile(r"^(?:it|this|these|that|they|he|she|its|their|such)\b", re.I)
_SPANS = {
    "year": re.compile(r"\b1[0-9]\d\d\b|\b20\d\d\b"),
    "number": re.compile(r"\b\d[\d,.]*\b"),
    "name": re.compile(r"(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+)*"),
}

# General opposites, the kind SQuAD v2.0's writers used to make a question its paragraph no longer answers.
_PAIRS = ("first last", "largest smallest", "most least", "before after", "increase decrease", "higher lower",
          "earliest latest", "north south", "east west", "maximum minimum", "best worst", "early late", "more less",
          "major minor", "rise fall", "win lose", "won lost", "start end", "begin end", "inside outside", "old new",
          "oldest newest", "large small", "long short", "longest shortest", "high low", "highest lowest",
          "positive negative", "legal illegal", "public private", "upper lower", "northern southern",
          "eastern western", "always never", "allowed forbidden", "accepted rejected", "strong weak")  # fmt: skip
_OPPOSITES = {a: b for pair in _PAIRS for a, b in (pair.split(), pair.split()[::-1])}


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
                # The nearest misses there are, and what the measure asks of them: every sentence of the paragraph
                # low. Twice, as they are the kind the other negatives only approximate.
                near = [_holding(sentences, p["answer_start"]) for p in qa.get("plausible_answers", [])[:1]]
                closest = max(
                    range(len(sentences)),
                    key=lambda i: len(words & set(re.findall(r"\w{4,}", sentences[i][1].lower()))),
                )
                for i in [*near, *near, *([closest] if closest not in near else [])]:
                    pairs.append(Pair(question, candidate_text(sentences, i), 0.0, title))
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
            pairs.extend(Pair(q, candidate_text(sentences, gold), 0.0, title)
                         for q in perturbed(question, sentences[gold][1], pool, rng))  # fmt: skip
    return pairs


def perturbed(question: str, sentence: str, pool: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The question changed so that its answer sentence no longer answers it, as SQuAD v2.0's writers made their
    unanswerable questions: a name, year or number that the sentence states swapped for another of the article's,
    and a word the sentence uses swapped for its opposite ("first" for "last")."""
    out = []
    for kind, pattern in _SPANS.items():
        shared = [m for m in pattern.findall(question) if m in sentence]
        others = [s for s in pool[kind] if s not in sentence and s not in question]
        if shared and others:
            out.append(question.replace(rng.choice(shared), rng.choice(others), 1))
            break
    words = question.split()
    for i, word in enumerate(words):
        opposite = _OPPOSITES.get(word.lower())
        if opposite and re.search(rf"\b{re.escape(word)}\b", sentence, re.I):
            out.append(" ".join([*words[:i], opposite, *words[i + 1 :]]))
            break
    return out


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
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--reverse", action="store_true", help="also train on the indexed articles and measure the "
                        "unseen ones (a second held-out figure; the model written is unchanged)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    # The shipped model learns from the articles `eval squad` does not index, so that every figure `eval squad` and
    # `make calibrate` report for the indexed articles is of a verifier that never saw them.
    learn, held = (json.loads((EVAL / name).read_text(encoding="utf-8"))["data"] for name in reversed(FILES))
    figures: dict[str, Any] = {"command": "make train-verifier", "epochs": args.epochs, "max_tokens": MAX_TOKENS,
                               "trained_on": FILES[1], "folds": []}  # fmt: skip
    rounds = [(learn, held), (held, learn)] if args.reverse else [(learn, held)]
    for number, (train_on, test_on) in enumerate(rounds):
        rng = random.Random(args.seed)
        pairs = [p for a in train_on for p in article_pairs(a, rng)]
        print(f"round {number + 1}: {len(pairs)} pairs from {len(train_on)} articles", flush=True)
        model, tokenizer = train(pairs, args.epochs, args.seed)
        fold = {"held_out_articles": [a["title"] for a in test_on], "pairs": len(pairs),
                **held_out(model, tokenizer, test_on)}  # fmt: skip
        print(json.dumps(fold), flush=True)
        figures["folds"].append(fold)
        if number == 0:
            export(model, args.out / "verifier-int8.onnx")
    (args.out / "verifier.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'verifier-int8.onnx'} and its figures", flush=True)


if __name__ == "__main__":
    main()
