"""User-facing texts: escaping, translations fallback, and splitting long messages."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.domain import EntryKind
from bot.money import AmountProblem
from bot.services.roles import Role
from handlers.common import split_text
from handlers.menus import commands_for
from handlers.texts import EN, Html, button_texts, t

ROOT = Path(__file__).resolve().parent.parent


def test_values_are_escaped_but_marked_html_is_not() -> None:
    text = t("en", "welcome_back", name="<Bob & Co>", points=Html("<b>5</b>"))
    assert text == "Welcome back, <b>&lt;Bob &amp; Co&gt;</b>! You have <b><b>5</b></b> points."


def test_unknown_language_falls_back_to_english() -> None:
    assert t("xx", "btn_card") == EN["btn_card"]
    # A keyboard button is recognised in every shipped language, English among them.
    assert EN["btn_card"] in button_texts("btn_card")


def test_every_text_formats_with_its_placeholders() -> None:
    for lang in ("en",):
        for key, template in EN.items():
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            shown = t(lang, key, **{name: f"<<{name}>>" for name in names})
            # Every placeholder is filled, and no brace is left for a person to see.
            for name in names:
                assert f"&lt;&lt;{name}&gt;&gt;" in shown, (key, name)
            leftover = shown
            for name in names:
                leftover = leftover.replace(f"&lt;&lt;{name}&gt;&gt;", "")
            assert "{" not in leftover and "}" not in leftover, (key, shown)


def used_text_keys() -> dict[str, set[str]]:
    """Every literal text key the code asks for, by file."""
    pattern = re.compile(r"""\b(?:(?:say|t)\(\s*[\w.]+|ask\([^()"]*),\s*"(\w+)\"""")
    found: dict[str, set[str]] = {}
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            keys = set(pattern.findall(path.read_text(encoding="utf-8")))
            if keys:
                found[str(path.relative_to(ROOT))] = keys
    return found


def test_every_text_key_used_in_the_code_exists() -> None:
    used = used_text_keys()
    assert sum(len(keys) for keys in used.values()) > 100  # the scan itself works
    missing = {path: sorted(keys - EN.keys()) for path, keys in used.items() if keys - EN.keys()}
    assert not missing


def test_text_keys_built_from_values_exist() -> None:
    for problem in AmountProblem:
        assert f"amount_{problem.value}" in EN
    for kind in ("multiplier", "bonus", "coupon"):
        assert f"offer_bad_{kind}" in EN and f"btn_kind_{kind}" in EN
    for kind in ("multiplier", "bonus"):
        assert f"offer_ask_{kind}" in EN and f"offer_effect_{kind}" in EN
    for entry_kind in EntryKind:
        assert f"reason_{entry_kind.value}" in EN
    for role in Role:
        for name in commands_for(role, "en"):
            assert f"cmd_{name.command}" in EN
    for limit_kind in ("purchase", "daily"):
        assert f"limit_{limit_kind}" in EN and f"owner_limit_alert_{limit_kind}" in EN


def test_split_text_keeps_lines_whole_and_respects_the_limit() -> None:
    text = "\n".join(f"line {n:03d} " + "x" * 30 for n in range(100))
    parts = split_text(text, limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert "\n".join(parts) == text
    assert split_text("short") == ["short"]
    long_line = "y" * 1200
    assert split_text(long_line, limit=500) == ["y" * 500, "y" * 500, "y" * 200]
