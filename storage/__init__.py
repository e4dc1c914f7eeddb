"""Persistence: the only package that speaks SQL. It never imports telegram."""

from storage.db import Database, StorageError, retry_transient
from storage.engine import Conn, ConstraintViolated, DatabaseError, Engine, TransientError

__all__ = [
    "Conn",
    "ConstraintViolated",
    "Database",
    "DatabaseError",
    "Engine",
    "StorageError",
    "TransientError",
    "retry_transient",
]
