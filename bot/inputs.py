"""Numbers people type or buttons carry, parsed strictly in one place.

``str.isdigit`` accepts '①' and '²', which ``int`` then refuses; and a 30-digit id
overflows SQLite's 64-bit INTEGER. Only ASCII digits within a range pass here.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # SQLite's INTEGER
_DIGITS = re.compile(r"#?([0-9]{1,19})")


def parse_int(text: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` ("#12" too), else None."""
    found = _DIGITS.fullmatch(text.strip())
    if found is None:
        return None
    value = int(found.group(1))
    return value if low <= value <= high else None
