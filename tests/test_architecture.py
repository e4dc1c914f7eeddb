"""The rooms of the code base and what each may import (README: "How it is built")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_RULES = (
    "accounting",
    "earning",
    "inputs",
    "lifecycle",
    "money",
    "offers",
    "periods",
    "tiers",
    "tokens",
    "domain",
)
HANDLER_MODULE_LINES = 500


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def top_level_imports_of(path: Path) -> set[str]:
    """The modules a file imports when it is loaded (module level, not inside functions
    or ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in paths
        for module in sorted(imports_of(path))
        if module.split(".")[0] in forbidden or module in forbidden
    ]


def test_handlers_never_touch_storage_or_a_driver() -> None:
    assert offending(files("handlers"), ("storage", "aiosqlite", "sqlite3")) == []


def test_storage_knows_no_telegram_and_no_handlers() -> None:
    problems = offending(files("storage"), ("telegram", "handlers", "sandbox"))
    # Storage builds the domain records; nothing else of bot/ is its business.
    problems += [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files("storage")
        for module in imports_of(path)
        if module.startswith("bot") and module != "bot.domain"
    ]
    assert problems == []


def test_services_know_no_telegram() -> None:
    assert offending(files("bot/services"), ("telegram", "handlers", "sandbox")) == []


@pytest.mark.parametrize("rule", PURE_RULES)
def test_pure_rules_import_neither_storage_nor_telegram(rule: str) -> None:
    path = ROOT / "bot" / f"{rule}.py"
    forbidden = ("storage", "telegram", "handlers", "aiosqlite", "sandbox")
    assert offending([path], forbidden) == []
    assert not any(m.startswith("bot.services") for m in imports_of(path)), rule


def test_only_the_demo_command_loads_the_sandbox() -> None:
    """``loyalty-bot run`` must not load the fake Bot API: no production module imports
    ``sandbox`` when it is loaded."""
    production = files("bot") + files("handlers") + files("storage")
    assert [
        str(path.relative_to(ROOT))
        for path in production
        if any(m.split(".")[0] == "sandbox" for m in top_level_imports_of(path))
    ] == []


def test_handler_modules_stay_small_and_say_what_they_hold() -> None:
    for path in files("handlers"):
        if path.name in ("texts.py", "__init__.py"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= HANDLER_MODULE_LINES, f"{path.name} has {len(lines)} lines"
        assert lines[0].startswith('"""') and len(lines[0]) > 10, path.name


def test_every_feature_module_is_registered() -> None:
    """A handler module with a ``handlers()`` function is in bot/app.py's FEATURES, so no
    feature's commands are silently missing."""
    from bot.app import FEATURES

    registered = {module.__name__.split(".")[-1] for module in FEATURES}
    with_handlers = {
        path.stem
        for path in files("handlers")
        if "\ndef handlers() ->" in path.read_text(encoding="utf-8")
    }
    assert with_handlers == registered
