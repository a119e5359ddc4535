"""The README documents every setting and opens with the two set-up commands."""

from pathlib import Path

from assistant.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_a_row_of_the_readmes_configuration_table() -> None:
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name, field in Settings.model_fields.items():
        assert f"| `CLUSTER_ASSISTANT_{name.upper()}` |" in table, name
        assert field.description, f"{name} has no help text"


def test_readme_opens_with_make_run_and_make_test() -> None:
    commands = [line.strip() for line in README.splitlines() if line.strip().startswith("make ")]
    assert commands[:2] == ["make run", "make test"]
