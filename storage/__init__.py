"""Persistence: the only package that speaks SQL. It never imports telegram."""

from storage.db import Database, StorageError

__all__ = ["Database", "StorageError"]
