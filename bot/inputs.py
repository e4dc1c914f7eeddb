"""Numbers and words people type or buttons carry, parsed strictly in one place.

``str.isdigit`` accepts '①' and '²', which ``int`` then refuses; and a 30-digit id
overflows SQLite's 64-bit INTEGER. Only ASCII digits within a range pass here. Typed words
are compared :func:`folded`, so neither case nor accents decide.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ID = 2**63 - 1  # SQLite's INTEGER
_DIGITS = re.compile(r"#?([0-9]{1,19})")


def parse_int(text: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` ("#12" too), else None."""
    found = _DIGITS.fullmatch(text.strip())
    if found is None:
        return None
    value = int(found.group(1))
    return value if low <= value <= high else None


def folded(text: str) -> str:
    """Text as typed words are compared: case and accents ignored, spaces collapsed
    ("  Mié " and "mie" read alike; "Salı" stays "salı", its dotless ı is a letter)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def alternatives(*lists: str) -> frozenset[str]:
    """The words of comma-separated lists ("yes, y" and "sí, si"), folded, empty ones out."""
    return frozenset(
        word for listed in lists for word in (folded(part) for part in listed.split(",")) if word
    )
