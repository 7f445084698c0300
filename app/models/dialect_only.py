"""Schema objects one database has and the other has not (a pg_trgm index is PostgreSQL's alone).

``postgresql_only`` marks the object for ``create_all`` (``ddl_if``) and in its ``info``, which
``include_object`` reads, so comparing the models with a migrated database (autogenerate, the
migration test) leaves it out on SQLite; Alembic does not read ``ddl_if`` itself.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Index

_DIALECT = "only_on_dialect"


def postgresql_only(index: Index) -> Index:
    index.info[_DIALECT] = "postgresql"
    return index.ddl_if(dialect="postgresql")


def include_object(dialect_name: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a database of ``dialect_name``: skip the other database's objects."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        return obj.info.get(_DIALECT, dialect_name) == dialect_name

    return include
