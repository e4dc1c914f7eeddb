"""Secrets never reach a log line, a traceback or a start-up error.

One :class:`Redactor` holds the secrets of a running bot (the bot token, its secret part,
the card secret). Every log record is written by one handler whose formatter passes the
finished text, traceback included, through it; uncaught exceptions in any thread and
Python warnings are routed into logging too; and the CLI prints its one-line start-up
errors through the same redactor. Libraries (httpx, PTB) log request URLs that contain the
token: they are caught here, not one by one.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

MASK = "[redacted]"
# Shorter values are not secrets worth masking, and masking them would garble logs.
MIN_SECRET_LENGTH = 8
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Redactor:
    """Replaces every known secret in a text with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if not secret:
                continue
            secret = secret.strip()
            password = database_password(secret)
            if password is not None:
                # A database URL: the password is the secret, wherever it shows (a short
                # one is still masked inside the URL, which is masked whole).
                self.add(password)
            # A bot token's part after the colon is the secret; it also shows URL-quoted.
            forms = {secret, secret.partition(":")[2], quote(secret, safe=""), quote(secret)}
            self._secrets.extend(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
        # Longest first, so a token is masked whole rather than around its secret part.
        self._secrets = sorted(set(self._secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def database_password(url: str) -> str | None:
    """The password in a ``postgresql://user:password@host/db`` URL, if it has one."""
    if "://" not in url or "@" not in url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks secrets in the whole text, traceback included."""

    def __init__(self, redactor: Redactor, fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


# Fields an update's log line carries (bot.observability), kept as JSON keys.
UPDATE_FIELDS = ("update_id", "kind", "handler", "duration_ms", "outcome")


class JsonFormatter(RedactingFormatter):
    """One JSON object per line, for log collectors (LOG_FORMAT=json); still redacted."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in UPDATE_FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return self.redactor(json.dumps(data, ensure_ascii=False, default=str))


def install_logging(level: int | str, redactor: Redactor, *, json_lines: bool = False) -> None:
    """Send every log record, uncaught exception and warning through one redacting handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if json_lines else RedactingFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    # httpx logs every request URL at INFO; they hold the token, and there is one per poll.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)

    def log_uncaught(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        logging.getLogger("uncaught").critical("Uncaught exception", exc_info=(kind, error, trace))

    def log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = log_uncaught
    threading.excepthook = log_uncaught_in_thread
