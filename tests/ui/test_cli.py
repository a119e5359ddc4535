"""The `cluster-assistant` command as a user runs it: a subprocess with the index found through the env var."""

import json
import os
import subprocess
import sys

import pytest

from assistant.config import Settings
from tests.helpers import run_cli as run


def test_ask_json_has_exactly_the_public_shape(corpus_settings: Settings) -> None:
    result = run(corpus_settings, "ask", "Who can get access to PIONEER data?", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    shape = {"answer", "kind", "abstained", "handoff", "corrections", "confidence", "citations", "parts", "timings_ms"}
    assert set(payload) == shape
    assert payload["kind"] == "answer" and payload["handoff"] is False and payload["corrections"] == []
    [part] = payload["parts"]  # one question, one part: the whole answer
    assert part["question"] == "Who can get access to PIONEER data?" and part["answer"] == payload["answer"]
    assert part["citations"] == payload["citations"] and part["abstained"] is False
    assert payload["abstained"] is False and isinstance(payload["confidence"], float)
    assert set(payload["timings_ms"]) == {"retrieve", "compose", "total"}
    citation = payload["citations"][0]
    assert set(citation) == {"n", "title", "section", "source", "url", "snippet", "date", "page"}
    assert citation["n"] == 1 and citation["title"] == "Health Tech in the West Midlands"
    assert citation["source"] is None and citation["url"] is None  # no public address: no server path either


def test_off_topic_is_abstained(corpus_settings: Settings) -> None:
    result = run(corpus_settings, "ask", "What's the capital of Australia?", "--json")
    assert json.loads(result.stdout)["abstained"] is True


@pytest.mark.parametrize("question", ["", "x" * 2001])
def test_bad_question_exits_2_with_a_message(corpus_settings: Settings, question: str) -> None:
    result = run(corpus_settings, "ask", question)
    assert result.returncode == 2 and result.stderr.startswith("error: The question")


def test_missing_index_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run(Settings(data_dir=tmp_path / "nothing"), "ask", "What is PIONEER?")
    assert result.returncode == 1 and "cluster-assistant ingest" in result.stderr


def test_second_ingest_embeds_nothing_and_says_so(corpus_settings: Settings) -> None:
    result = run(corpus_settings, "ingest", str(corpus_settings.corpus_dir), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "unchanged 1" in result.stdout and "no embedding work was needed" in result.stdout


def test_ingest_exit_code_is_nonzero_only_on_failure(corpus_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF garbage")
    result = run(corpus_settings, "ingest", str(bad), "--quiet")
    assert result.returncode == 1 and "FAILED" in result.stdout and "not a readable PDF" in result.stdout


def test_explain_shows_passages_and_scores(corpus_settings: Settings) -> None:
    result = run(corpus_settings, "ask", "What is PIONEER?", "--explain")
    assert "--- explain ---" in result.stdout and "fused=" in result.stdout and "signals:" in result.stdout


def test_chat_resolves_follow_ups(corpus_settings: Settings) -> None:
    env = {**os.environ, "CLUSTER_ASSISTANT_DATA_DIR": str(corpus_settings.data_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", "chat", "--explain"],
        input="What is PIONEER?\nWho can use its data?\n\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and "resolved question: Who can use PIONEER's data?" in result.stdout
