"""Claims on queued messages (broadcast recipients, outbox messages).

A sender claims a few rows before sending them (``claimed_by``, until
``claim_expires_at``): a claimed row is nobody else's until its outcome is recorded, the
claim is released, or it runs out (its sender died). A sender's name is
``<replica id>:<token>``, the token new at each start: a claim under another token of the
same replica id is from that replica's previous life (it was restarted, so the process
that claimed is gone), and is free at once.
"""

from __future__ import annotations

from typing import Any

# A row's claim leaves it free to ``:me`` (see claim_params for the other parameters).
FREE = (
    "(claim_expires_at IS NULL OR claim_expires_at <= :now"
    " OR (claimed_by <> :me AND substr(claimed_by, 1, :lives_length) = :lives))"
)


def claim_params(me: str) -> dict[str, Any]:
    """The parameters FREE takes for the sender ``me``."""
    lives = me[: me.rindex(":") + 1]
    return {"me": me, "lives": lives, "lives_length": len(lives)}
