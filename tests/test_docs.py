"""The README documents every setting and opens with the two set-up commands."""

from pathlib import Path

from assistant.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"CLUSTER_ASSISTANT_{name.upper()}" in README, name


def test_readme_opens_with_make_run_and_make_test() -> None:
    commands = [line.strip() for line in README.splitlines() if line.strip().startswith("make ")]
    assert commands[:2] == ["make run", "make test"]
