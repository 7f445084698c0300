"""These tests start from the demo without its customers and attributes (they make their own), but the
test of the demo's customers."""
import pytest

from app.extensions import db
from app.models import Customer, CustomerAttribute, customer_branches


@pytest.fixture(autouse=True)
def _without_demo_customers(request):
    if "demo" not in request.fixturenames or request.node.get_closest_marker("demo_customers"):
        return
    app = request.getfixturevalue("app")
    request.getfixturevalue("demo")
    with app.app_context():
        db.session.execute(customer_branches.delete())
        for customer in db.session.scalars(db.select(Customer)):
            db.session.delete(customer)
        db.session.execute(db.delete(CustomerAttribute))
        db.session.commit()
