"""User-facing texts: escaping, translations fallback, and splitting long messages."""

from __future__ import annotations

from handlers.common import split_text
from handlers.texts import EN, MESSAGES, Html, button_texts, t


def test_values_are_escaped_but_marked_html_is_not() -> None:
    text = t("en", "welcome_back", name="<Bob & Co>", points=Html("<b>5</b>"))
    assert text == "Welcome back, <b>&lt;Bob &amp; Co&gt;</b>! You have <b><b>5</b></b> points."


def test_unknown_language_falls_back_to_english() -> None:
    assert t("xx", "btn_card") == EN["btn_card"]
    assert button_texts("btn_card") == [EN["btn_card"]]


def test_every_text_formats_with_its_placeholders() -> None:
    for table in MESSAGES.values():
        for key, template in table.items():
            names = {part.split("}")[0] for part in template.split("{")[1:] if "}" in part}
            t("en", key, **dict.fromkeys(names, "x"))  # no KeyError, no stray braces


def test_split_text_keeps_lines_whole_and_respects_the_limit() -> None:
    text = "\n".join(f"line {n:03d} " + "x" * 30 for n in range(100))
    parts = split_text(text, limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert "\n".join(parts) == text
    assert split_text("short") == ["short"]
    long_line = "y" * 1200
    assert split_text(long_line, limit=500) == ["y" * 500, "y" * 500, "y" * 200]
