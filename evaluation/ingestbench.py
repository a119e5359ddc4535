"""Ingest speed (`make bench`): the ../shared/eval SQuAD articles (corpus, unseen and distractors: 28 articles, 908
paragraphs) written as one Markdown file per article, ingested by `cluster-assistant ingest` into a fresh index,
and the time for 1,000 pages extrapolated from it. `--repo PATH` runs another checkout's code (a git worktree of an
older commit) on the same files, for a before/after from one session. Writes evaluation/results/ingest.json.

python -m evaluation.ingestbench [--repo ../old-worktree] [--label fd3884c]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FILES = ("squad2-dev-corpus.json", "squad2-dev-unseen.json", "squad2-distractors.json")
REPO = Path(__file__).resolve().parents[1]


def write_articles(folder: Path) -> tuple[int, int, int]:
    """One Markdown file per article; returns (files, paragraphs, words)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = paragraphs = words = 0
    for name in FILES:
        for article in json.loads((EVAL / name).read_text(encoding="utf-8"))["data"]:
            title = article["title"].replace("_", " ")
            texts = [p["context"].strip() for p in article["paragraphs"]]
            body = f"---\ntitle: {title}\n---\n# {title}\n\n" + "\n\n".join(texts) + "\n"
            (folder / f"{re.sub(r'[^A-Za-z0-9]+', '-', title).strip('-').lower()}.md").write_text(body, "utf-8")
            files, paragraphs, words = files + 1, paragraphs + len(texts), words + len(body.split())
    return files, paragraphs, words


def run(repo: Path, articles: Path, data_dir: Path) -> dict[str, float | int]:
    """`cluster-assistant ingest` of `articles` into `data_dir` with `repo`'s code; wall time and its own report."""
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to((REPO / "data" / "models").resolve())  # the exported model, not re-exported
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CLUSTER_ASSISTANT_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ingest", str(articles)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    found = re.search(r"added (\d+).*?\((\d+) chunks embedded in ([\d.]+) s\)", done.stdout + done.stderr, re.S)
    if not found:
        raise RuntimeError(f"no ingest report in: {done.stdout[-500:]} {done.stderr[-500:]}")
    added, chunks, seconds = int(found[1]), int(found[2]), float(found[3])
    return {
        "documents": added,
        "chunks": chunks,
        "ingest_s": seconds,
        "wall_s": round(wall, 2),
        "chunks_per_s": round(chunks / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose code runs (default: this one)")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--out", type=Path, default=Path("evaluation/results/ingest.json"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ingestbench-"))
    files, paragraphs, words = write_articles(root / "articles")
    result = run(args.repo.resolve(), root / "articles", root / "data")
    per_page = float(result["ingest_s"]) / files
    # A SQuAD article is ~3,900 words; a typical web page is nearer 500: both extrapolations are given.
    per_word = float(result["ingest_s"]) / words
    figures = {
        "label": args.label,
        "files": files,
        "paragraphs": paragraphs,
        "words": words,
        **result,
        "seconds_per_1000_pages": round(per_page * 1000, 1),
        "seconds_per_1000_pages_of_500_words": round(per_word * 500 * 1000, 1),
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(json.dumps(figures, indent=2))
    if args.out:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        previous[args.label] = figures
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(previous, indent=2) + "\n")


if __name__ == "__main__":
    main()
