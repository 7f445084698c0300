"""API fixtures: the demo, and keys made through the service as an admin would make them."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Branch, User


@pytest.fixture
def make_key(app, demo):
    """make_key(scopes=..., branches=("SH-PEOPLE",) or None for every branch) -> (key id, token)."""

    def make(scopes=("responses:read",), branches=None, name="CRM"):
        from app.services.integrations import keys

        with app.app_context():
            admin = db.session.scalar(db.select(User).where(User.username == "admin"))
            branch_ids = [b.id for b in db.session.scalars(db.select(Branch).where(Branch.code.in_(branches or ())))]
            key, token = keys.create(admin, name, list(scopes), branches is None, branch_ids)
            db.session.commit()
            return key.id, token

    return make
