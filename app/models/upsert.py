"""INSERT … ON CONFLICT in the database at hand: PostgreSQL in production, SQLite embedded."""
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def insert_on_conflict(model):
    """An insert construct with on_conflict_do_nothing / on_conflict_do_update for this session's dialect."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
