"""Dashboard figures through the API are the /insight/ page's: the same service, the same numbers."""
from __future__ import annotations

from app.extensions import db
from app.models import User


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _page_figures(app, username: str, **wanted):
    """What the page's service returns for a person, dumped with the API's schema."""
    from app.blueprints.api.dashboard import DashboardSchema
    from app.services import dashboard
    from app.services.dashboard import selection
    from app.services.insight.filters import InsightFilter

    with app.test_request_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        chosen = selection.resolve(user, InsightFilter(**wanted), dashboard.home_today())
        dashboard.refresh_if_few(chosen)
        db.session.commit()
        return DashboardSchema().dump(dashboard.build(chosen, dashboard.home_today()))


def test_an_every_branch_key_gets_the_admins_dashboard(app, client, make_key):
    _key_id, token = make_key(branches=None)
    answer = client.get("/api/v1/dashboard", headers=bearer(token))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    figures = answer.get_json()
    assert figures == _page_figures(app, "admin")
    assert figures["headline"]["responses"] > 0 and figures["branches"] and figures["dimensions"]


def test_a_one_branch_key_gets_that_branchs_figures_as_its_staff_read_them(app, client, make_key):
    from datetime import date

    _key_id, token = make_key(branches=("SH-PEOPLE",))
    figures = client.get("/api/v1/dashboard?date_from=2020-01-01&grain=month", headers=bearer(token)).get_json()
    page = _page_figures(app, "staff", date_from=date(2020, 1, 1))
    assert [b["branch_code"] for b in figures["branches"]] == ["SH-PEOPLE"]
    for part in ("headline", "dimensions", "branches", "key_issues"):
        assert figures[part] == page[part], part
    assert figures["grain"] == "month"


def test_a_dashboard_filter_on_another_branch_shows_nothing_of_it(app, client, make_key):
    from app.models import Branch

    _key_id, token = make_key(branches=("SH-PEOPLE",))
    with app.app_context():
        london = db.session.scalar(db.select(Branch.id).where(Branch.code == "LDN-SOHO"))
    figures = client.get(f"/api/v1/dashboard?branch_ids={london}", headers=bearer(token)).get_json()
    assert figures["branch_ids"] == [] and figures["headline"]["responses"] == 0
    assert client.get("/api/v1/dashboard?grain=year", headers=bearer(token)).status_code == 422
