"""The message catalogs: complete in every shipped language, true to the English
placeholders and HTML, accepted by GNU gettext, compiled and extracted afresh."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import i18n
from handlers.texts import EN, PLURALS

ROOT = Path(__file__).resolve().parent.parent
POT = i18n.LOCALES_DIR / "messages.pot"
TRANSLATED = [language for language in i18n.SHIPPED if language != i18n.ENGLISH]
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
TAG = re.compile(r"</?([a-z]+)(?:\s[^<>]*)?>")


def po_path(language: str) -> Path:
    return i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.id, (list, tuple)) else [message.string]


def english(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def tags(text: str) -> Counter[str]:
    return Counter(match.group(0).split()[0].rstrip(">") for match in TAG.finditer(text))


def problems(language: str) -> list[str]:
    """What is wrong with one language's catalog, one line per problem."""
    template = {message.context: message for message in read(POT) if message.id}
    catalog = read(po_path(language))
    found: list[str] = []
    translated = {message.context: message for message in catalog if message.id}
    for key in sorted(template.keys() - translated.keys()):
        found.append(f"{language} {key}: missing (run pybabel update)")
    for key in sorted(translated.keys() - template.keys()):
        found.append(f"{language} {key}: obsolete")
    for key, message in sorted(translated.items()):
        if key not in template:
            continue
        if message.fuzzy:
            found.append(f"{language} {key}: fuzzy (the English changed: check, then unmark)")
        if message.id != template[key].id:
            found.append(f"{language} {key}: translates an older English text")
        texts = forms(message)
        if not all(text.strip() for text in texts):
            found.append(f"{language} {key}: empty")
            continue
        if isinstance(message.id, (list, tuple)) and len(texts) != catalog.num_plurals:
            needed = catalog.num_plurals
            found.append(f"{language} {key}: {len(texts)} plural forms, needs {needed}")
        # Every form carries the English text's placeholders (the plural's, for a count)
        # and its HTML tags, each as often.
        source = english(message)[-1]
        for text in texts:
            if placeholders(text) != placeholders(source):
                found.append(
                    f"{language} {key}: placeholders {sorted(placeholders(text).elements())}"
                    f" differ from the English {sorted(placeholders(source).elements())}"
                )
            if tags(text) != tags(source):
                found.append(f"{language} {key}: HTML tags {dict(tags(text))} differ from English")
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_is_complete_and_true_to_the_english(language: str) -> None:
    assert problems(language) == []


def test_the_template_holds_every_text_the_code_declares() -> None:
    """``pybabel extract`` (run here with the project's keywords) finds every text of
    handlers/texts.py, and messages.pot is what it would write: nothing added by hand,
    nothing missing."""
    extracted = {
        (context, message if isinstance(message, str) else tuple(message))
        for _, message, _, context in extract_from_file(
            "python",
            str(ROOT / "handlers" / "texts.py"),
            keywords={"msg": ((1, "c"), 2), "plural": ((1, "c"), 3, 4)},
            comment_tags=("TRANSLATORS:",),
        )
    }
    declared = {(key, PLURALS[key][1:] if key in PLURALS else text) for key, text in EN.items()}
    assert extracted == declared, "a text is declared outside msg()/plural() or twice"
    in_template = {
        (message.context, message.id if isinstance(message.id, str) else tuple(message.id))
        for message in read(POT)
        if message.id
    }
    assert in_template == declared, "messages.pot is stale: run pybabel extract"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogs_are_those_of_the_sources(language: str) -> None:
    """The .mo files shipped (a fresh checkout needs no compile step) are what
    ``pybabel compile`` makes of the .po files now."""
    buffer = io.BytesIO()
    write_mo(buffer, read(po_path(language)))
    compiled = po_path(language).with_suffix(".mo")
    assert compiled.exists(), f"{compiled} missing: run pybabel compile"
    assert compiled.read_bytes() == buffer.getvalue(), "stale .mo: run pybabel compile"


def test_gnu_msgfmt_accepts_every_catalog() -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("CI") == "true":
            pytest.fail("msgfmt is missing: .ci/run installs Debian's gettext package")
        pytest.skip("GNU gettext's msgfmt is not installed (apt-get install gettext)")
    for language in TRANSLATED:
        result = subprocess.run(
            [msgfmt, "--check", "--output-file=/dev/null", str(po_path(language))],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (language, result.stderr)


def test_the_checks_catch_a_broken_translation(tmp_path: Path) -> None:
    """The checks above can fail: a lost placeholder and a lost tag are caught."""
    assert placeholders("{points} баллов") != placeholders("{points} points for {name}")
    assert tags("<b>1</b>") != tags("1")
    assert tags('<a href="x">a</a>') == tags('<a href="y">b</a>')
