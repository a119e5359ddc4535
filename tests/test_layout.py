"""The layout keeps its promises: the engine stands alone, the desk uses it through its public face, and the UI
only draws screens and routes (no SQLAlchemy, no ORM tables). Read from the source's imports, not run."""

import ast
import re
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


ENGINE_INTERNALS = {"index", "store", "reload", "ensure_fresh", "overview", "intents", "calibration", "verifier"}


@pytest.mark.parametrize("package", ["assistant/desk", "ui"])
def test_the_desk_and_the_ui_reach_no_engine_internals(package: str) -> None:
    """What the index holds is read through `assistant.catalogue` (documents, chunks, remove, count, indexer),
    never through the engine's own attributes (`assistant.index.chunks`, `assistant.store`, `reload()`)."""
    reached: dict[str, list[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ENGINE_INTERNALS:
                owner = ast.unparse(node.value)
                if owner.endswith(("assistant", "engine")):
                    reached.setdefault(str(path.relative_to(REPO)), []).append(f"{owner}.{node.attr}")
    assert reached == {}


def test_the_audit_trail_has_one_writer() -> None:
    """Every audit event is written by `audit.audit` (with an `AuditAction`), in the transaction of its change."""
    writers = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "assistant").rglob("*.py"))
        if path.name != "audit.py" and re.search(r"(?<!class )AuditEvent\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == []


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


def readme_layout() -> set[str]:
    """The paths the README's layout block names, each line's folder given by its indentation."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("- Layout (", 1)[1].split("```", 2)[1]
    folders: list[str] = []
    named = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        depth, name = (len(line) - len(line.lstrip()) - 2) // 2, line.split()[0]
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name)
        named.add("".join(folders[: depth + 1] if name.endswith("/") else [*folders, name]))
    return named


def test_every_module_has_its_line_in_the_readmes_layout() -> None:
    modules = {
        str(path.relative_to(REPO))
        for package in ("assistant", "ingest", "ui", "evaluation")
        for path in (REPO / package).rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    }
    named = readme_layout()
    assert sorted(modules - named) == [] and sorted(m for m in named - modules if m.endswith(".py")) == []


def test_layout_is_what_the_readme_shows() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for folder in ("assistant/engine/", "assistant/desk/", "ui/", "ingest/", "evaluation/", "tests/system/"):
        assert folder in readme and Path(REPO / folder).is_dir(), folder


def test_every_package_ships_in_the_wheel() -> None:
    """pyproject.toml lists packages by name: a new sub-package left out would be missing from an installed copy."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("assistant", "ingest", "ui", "evaluation")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert found - listed == set()
