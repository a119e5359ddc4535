"""The layout keeps its promises: the engine stands alone, the desk uses it through its public face, and the UI
only draws screens and routes (no SQLAlchemy, no ORM tables). Read from the source's imports, not run."""

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO


def imports(package: str) -> dict[str, set[str]]:
    """Each module of a package (by path) and the absolute modules it imports, lazily imported ones included."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(REPO))] = names
    return found


def offenders(package: str, banned: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {
        module: sorted(n for n in names if n == banned or n.startswith(banned))
        for module, names in imports(package).items()
    }
    return {module: names for module, names in bad.items() if names}


def test_ui_touches_no_sqlalchemy_and_no_table() -> None:
    assert offenders("ui", ("sqlalchemy", "alembic", "assistant.desk.tables", "assistant.desk.db")) == {}


def test_the_engine_imports_nothing_of_the_desk_the_ui_ingest_or_evaluation() -> None:
    assert offenders("assistant/engine", ("assistant.desk", "ui", "ingest", "evaluation")) == {}


@pytest.mark.parametrize("package", ["assistant/desk", "ui", "ingest", "evaluation"])
def test_the_engine_is_used_through_its_public_face(package: str) -> None:
    """`from assistant.engine import X`, never `from assistant.engine.compose import X` or the like."""
    deep: dict[str, list[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
            for module in modules:
                if module.startswith("assistant.engine."):
                    deep.setdefault(str(path.relative_to(REPO)), []).append(module)
    assert deep == {}


def test_nothing_imports_the_ui() -> None:
    for package in ("assistant", "ingest", "evaluation"):
        assert offenders(package, ("ui",)) == {}, package


def test_modules_and_functions_stay_readable() -> None:
    """Soft caps from STYLE.md, with room: a module past 320 lines or a function past 80 wants splitting."""
    for package in ("assistant", "ingest", "ui", "evaluation"):
        for path in (REPO / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert len(source.splitlines()) <= 320, path
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and path.name != "console.py":
                    assert node.end_lineno - node.lineno < 80, f"{path}:{node.lineno} {node.name}"  # type: ignore[operator]


def test_layout_is_what_the_readme_shows() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for folder in ("assistant/engine/", "assistant/desk/", "ui/", "ingest/", "evaluation/", "tests/system/"):
        assert folder in readme and Path(REPO / folder).is_dir(), folder
