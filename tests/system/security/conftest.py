"""A real server on loopback per test module, with the settings a finding needs (its own limits among them)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from tests.helpers import PARTNERS, Server, serve_app
from ui.app import create_app


@pytest.fixture
def app_server(assistant: Assistant, tmp_path: Path) -> Server:
    """`with app_server(**settings) as url:` the app on the corpus index, its own database and partner file."""

    @contextmanager
    def start(**overrides: object) -> Iterator[str]:
        partners = tmp_path / "partners.yaml"
        partners.write_text(PARTNERS, encoding="utf-8")
        settings = assistant.settings.model_copy(
            update={"data_dir": tmp_path / "data", "partners_file": partners, **overrides}
        )
        (tmp_path / "data").mkdir(exist_ok=True)
        with serve_app(create_app(settings, Desk.open(settings, assistant, open_database(settings)))) as url:
            yield url

    return start
