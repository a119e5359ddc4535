"""The README documents every setting and opens with the two set-up commands."""

import re
from pathlib import Path

from assistant.config import Settings
from assistant.engine import Assistant

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_a_row_of_the_readmes_configuration_table() -> None:
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name, field in Settings.model_fields.items():
        assert f"| `CLUSTER_ASSISTANT_{name.upper()}` |" in table, name
        assert field.description, f"{name} has no help text"


def test_readme_opens_with_make_run_and_make_test() -> None:
    commands = [line.strip() for line in README.splitlines() if line.strip().startswith("make ")]
    assert commands[:2] == ["make run", "make test"]


def readme_ask_examples() -> list[tuple[str, list[str], bool]]:
    """Each `cluster-assistant ask` example of the README: the question, the answer lines shown, and whether it
    is shown abstaining."""
    examples: list[tuple[str, list[str], bool]] = []
    lines = README.splitlines()
    for i, line in enumerate(lines):
        found = re.match(r'^\$ \.venv/bin/cluster-assistant ask "([^"]+)"(.*)$', line)
        if not found:
            continue
        shown = []
        for after in lines[i + 1 :]:
            if not after.strip() or after.startswith(("$", "```")):
                break
            if not after.startswith("  ["):  # citation lines name files; the answer's own lines are checked
                shown.append(after.rstrip("… ").rstrip())
        examples.append((found.group(1), shown, '"abstained": true' in found.group(2)))
    return examples


def test_the_readmes_ask_examples_are_what_ask_answers(assistant: Assistant) -> None:
    examples = readme_ask_examples()
    assert len(examples) >= 3
    for question, shown, abstains in examples:
        answer = assistant.ask(question)
        assert answer.abstained == abstains, question
        for line in shown:
            assert line in answer.text, (question, line, answer.text)


def test_the_readmes_conversation_table_is_what_the_assistant_does(assistant: Assistant) -> None:
    table = README.split("**A conversation, not a search box.**", 1)[1].split("\n\n", 2)[1]
    rows = dict(re.findall(r"^\| `([^`]+)`[^|]* \| (.+) \|$", table, re.M))
    assert assistant.ask("hi").kind == "smalltalk" and "kind: smalltalk" in rows["hi"]
    assert assistant.ask("how do I contact you").handoff and "handoff: true" in rows["how do I contact you"]
    shown = re.match(r'"([^"]+)"', rows["wat is pioner"])
    assert shown and assistant.ask("wat is pioner").text.startswith(shown.group(1))
    assert assistant.ask("What is the PIONEER Data Council?").abstained
    quoted = rows["Is Babylon still operating?"].strip('"')
    assert assistant.ask("Is Babylon still operating?").text == quoted
