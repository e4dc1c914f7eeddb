"""No text a person reads is written outside the catalogs, and none is glued together in
code: the extraction check behind ``pybabel extract`` finding every text."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where texts for people are sent from: the handlers, the services and the chart.
SOURCES = [
    *sorted((ROOT / "handlers").glob("*.py")),
    # (but the health line for the operator: English, like the start-up errors)
    *sorted(p for p in (ROOT / "bot" / "services").glob("*.py") if p.name != "health.py"),
    ROOT / "bot" / "charts.py",
]
CATALOG = ROOT / "handlers" / "texts.py"
# Calls whose text arguments a person reads.
SHOWN = {
    "reply", "send_message", "reply_text", "edit_text", "edit_message_text", "send_photo",
    "send_document", "edit_caption", "edit_message_caption", "answer", "notify",
    "notify_owners", "InlineKeyboardButton", "KeyboardButton", "BotCommand", "set_title",
    "suptitle", "set_xlabel", "set_ylabel", "bar", "text",
}  # fmt: skip
TRANSLATE = {"say", "t", "say_"}
WORDS = re.compile(r"[A-Za-z]{2,}[,.!?]? [A-Za-z]{2,}")
# A separator that makes a list read as a sentence (", ", " or "): Babel's format_list
# writes it as each language does (i18n.listing).
LIST_SEPARATOR = re.compile(r",|\b(?:and|or)\b")


def name_of(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def translated(node: ast.AST) -> bool:
    """Whether a node is, or holds, a text from the catalogs."""
    return any(
        isinstance(inner, ast.Call) and name_of(inner) in TRANSLATE for inner in ast.walk(node)
    )


def loose_texts(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and name_of(node) in SHOWN:
            arguments = [
                *node.args,
                *(k.value for k in node.keywords if k.arg in {None, "text", "caption", "label"}),
            ]
            for argument in arguments:
                for inner in ast.walk(argument):
                    if (
                        isinstance(inner, ast.Constant)
                        and isinstance(inner.value, str)
                        and WORDS.search(inner.value)
                    ):
                        yield f"{where}:{inner.lineno}: not from the catalogs: {inner.value!r}"
        if (
            isinstance(node, ast.Call)
            and name_of(node) == "join"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Constant)
            and LIST_SEPARATOR.search(str(node.func.value.value))
        ):
            yield f"{where}:{node.lineno}: a list joined in code (use i18n.listing)"
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and (translated(node.left) or translated(node.right))
        ):
            yield f"{where}:{node.lineno}: a text glued together with +"
        if (
            isinstance(node, ast.AugAssign)
            and isinstance(node.op, ast.Add)
            and translated(node.value)
        ):
            yield f"{where}:{node.lineno}: a text glued together with +="
        if isinstance(node, ast.JoinedStr) and translated(node):
            yield f"{where}:{node.lineno}: a translated text inside an f-string"


def test_every_text_a_person_reads_comes_from_the_catalogs_whole() -> None:
    found = [problem for path in SOURCES if path != CATALOG for problem in loose_texts(path)]
    assert found == []


def test_the_check_finds_loose_and_glued_texts(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(update, context):\n"
        "    await reply(update, 'Hello there, friend')\n"
        "    text = say(context, 'a') + say(context, 'b')\n"
        "    line = f\"{say(context, 'a')} more\"\n"
        "    text += say(context, 'c')\n"
        "    await reply(update, say(context, 'ok'))\n"
        "    names = ', '.join(['a', 'b'])\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = list(loose_texts(sample))
    finally:
        ROOT = saved
    assert len(found) == 5, found
