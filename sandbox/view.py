"""What a phone shows: messages turned into plain data the demo page renders.

The page never sets ``innerHTML``: texts arrive as a tree of nodes (strings and a few
known tags), built here from Telegram's HTML subset, so whatever the bot sends is shown
as Telegram would show it and nothing in it can run as script. As Telegram does, plain
URLs and ``/commands`` in a text become links.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from sandbox.botapi import SentMessage, plain_text

Node = str | dict[str, Any]

# Telegram's tags, and the one name the page knows each by.
_TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u",
    "s": "s", "strike": "s", "del": "s", "a": "a", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-spoiler": "spoiler",
}  # fmt: skip
# Inside these, Telegram links nothing more.
_VERBATIM = {"a", "code", "pre"}
# A command starts a word: at the start, or after a space or an opening bracket.
_AUTOLINK = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]])"
    r"|(?<![^\s(])(?P<command>/[A-Za-z]\w{0,31}(?:@\w+)?)"
)


def autolink(text: str) -> list[Node]:
    """Split plain text into strings, URL links and tappable ``/commands``."""
    nodes: list[Node] = []
    position = 0
    for found in _AUTOLINK.finditer(text):
        if found.start() > position:
            nodes.append(text[position : found.start()])
        if found.group("url"):
            nodes.append({"tag": "a", "href": found.group("url"), "children": [found.group()]})
        else:
            nodes.append({"tag": "command", "children": [found.group()]})
        position = found.end()
    if position < len(text):
        nodes.append(text[position:])
    return nodes


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Node] = []
        self.stack: list[dict[str, Any]] = []

    def _children(self) -> list[Node]:
        return self.stack[-1]["children"] if self.stack else self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        name = _TAGS.get(tag)
        if tag == "span" and values.get("class") == "tg-spoiler":
            name = "spoiler"
        node: dict[str, Any] = {"tag": name or "span", "children": []}
        if name == "a":
            node["href"] = values.get("href") or ""
        self._children().append(node)
        self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        verbatim = any(node["tag"] in _VERBATIM for node in self.stack)
        self._children().extend([data] if verbatim else autolink(data))


def text_nodes(text: str, parse_mode: str | None) -> list[Node]:
    """The node tree of a text as Telegram shows it (``ApiError`` for HTML it rejects)."""
    if parse_mode is None or parse_mode.upper() != "HTML":
        return autolink(text)
    plain_text(text, parse_mode)  # rejects what Telegram would
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _inline_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, str]]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [
        [
            {key: str(button[key]) for key in ("text", "callback_data", "url") if key in button}
            for button in row
        ]
        for row in rows
    ]


def _reply_keyboard(markup: dict[str, Any] | None) -> list[list[str]] | None:
    rows = (markup or {}).get("keyboard")
    if rows is None:
        return None
    return [[b["text"] if isinstance(b, dict) else str(b) for b in row] for row in rows]


def file_url(file_id: str, name: str | None = None) -> str:
    """Where the page fetches a file; with ``name``, it downloads under that name."""
    return f"/files/{file_id}" + (f"?name={quote(name)}" if name else "")


def bot_message(message: SentMessage, *, scannable: bool = False) -> dict[str, Any]:
    """A message the bot sent, for the page. ``scannable``: its photo is a QR code."""
    raw = message.text if message.text is not None else message.caption
    view: dict[str, Any] = {
        "id": message.message_id,
        "from": "bot",
        "nodes": text_nodes(raw, message.parse_mode) if raw else [],
        "buttons": _inline_buttons(message.reply_markup),
        "edited": message.edits > 0,
        "silent": message.silent,
    }
    if message.photo_file_id:
        view["photo"] = file_url(message.photo_file_id)
        view["scannable"] = scannable
    if message.document_file_id:
        name = message.document_name or "file"
        view["document"] = {"name": name, "url": file_url(message.document_file_id, name)}
    keyboard = _reply_keyboard(message.reply_markup)
    if keyboard is not None:
        view["keyboard"] = keyboard
    elif (message.reply_markup or {}).get("remove_keyboard"):
        view["keyboard"] = []
    return view


def typed_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message the person typed (or a photo they sent), for the page."""
    text = message.get("text") or message.get("caption") or ""
    if text.startswith("/start "):
        text = "/start"  # as Telegram shows a deep link's start: without its payload
    view: dict[str, Any] = {
        "id": message["message_id"],
        "from": "user",
        "nodes": autolink(text),
        "buttons": [],
        "edited": False,
        "silent": False,
    }
    if message.get("photo"):
        view["photo"] = file_url(message["photo"][-1]["file_id"])
        view["scannable"] = False
    return view
