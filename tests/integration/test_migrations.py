"""The Alembic migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""
from urllib.parse import urlsplit

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models.dialect_only import include_object
from tests.conftest import PG_URL, checkout_tag


@pytest.fixture
def empty_database_url(tmp_path, worker_id):
    if not PG_URL:
        return f"sqlite:///{tmp_path}/migrated.db"
    import psycopg

    parts = urlsplit(PG_URL)
    name = f"loopdesk_migrations_{checkout_tag()}_{worker_id}"
    with psycopg.connect(parts._replace(scheme="postgresql", path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()


def test_migrations_match_the_models_and_downgrade_cleanly(empty_database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object(connection.dialect.name)}
            )
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(db.inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_search_text_migration_fills_existing_tickets_as_the_service_does(empty_database_url):
    from sqlalchemy import select, text

    from app.demo import seed_demo
    from app.models import Ticket

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        seed_demo(responses=30, worked_tickets=True)
        by_service = dict(db.session.execute(select(Ticket.id, Ticket.search_text)).all())
        assert by_service and all(by_service.values())
        assert any("\n" in value and len(value.split("\n")) > 3 for value in by_service.values())  # replies, notes
        db.session.remove()
        downgrade(revision="a3c51f0e9d27")
        upgrade()
        assert dict(db.session.execute(text("SELECT id, search_text FROM tickets")).all()) == by_service
        db.session.remove()
        db.engine.dispose()


def test_the_channel_migration_fills_existing_responses_from_their_qr_codes(empty_database_url):
    from sqlalchemy import text

    from app.demo import seed_demo

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        seed_demo(responses=30, worked_tickets=False)
        db.session.remove()
        downgrade(revision="7b3e9d2c4a61")
        kiosk = db.session.execute(text("SELECT id, branch_id FROM qr_codes WHERE is_kiosk")).first()
        ids = list(db.session.scalars(text("SELECT id FROM responses ORDER BY id")))
        db.session.execute(text("UPDATE responses SET qr_code_id = :kiosk, branch_id = :branch WHERE id IN (:a, :b)"),
                           {"kiosk": kiosk.id, "branch": kiosk.branch_id, "a": ids[0], "b": ids[1]})
        db.session.execute(text("UPDATE responses SET qr_code_id = NULL WHERE id = :c"), {"c": ids[2]})
        db.session.execute(text("DELETE FROM rollup_dirty"))
        db.session.commit()
        upgrade()
        channels = dict(db.session.execute(text("SELECT id, channel FROM responses")).all())
        assert [channels[i] for i in ids[:4]] == ["kiosk", "kiosk", "link", "qr"]
        assert {channels[i] for i in ids[3:]} == {"qr"}  # the demo's past responses came through the entrance
        marked = set(db.session.scalars(text("SELECT DISTINCT branch_id FROM rollup_dirty")))
        assert kiosk.branch_id in marked  # its days are rolled up again, now split by channel
        db.session.remove()
        db.engine.dispose()
