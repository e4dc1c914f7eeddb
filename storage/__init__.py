"""Persistence: the only package that speaks SQL. It never imports telegram."""

from storage.db import Database, StorageError
from storage.engine import ConstraintViolated, Conn, Engine, TransientError

__all__ = [
    "ConstraintViolated",
    "Conn",
    "Database",
    "Engine",
    "StorageError",
    "TransientError",
]
