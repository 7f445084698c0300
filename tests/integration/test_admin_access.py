"""Every route under /admin/ refuses everybody but admins: walked from the URL map, per area blueprint."""
import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_token, login

ADMIN_AREAS = ("questionnaires", "branches", "people", "routing", "sla", "audit")


def admin_routes(app):
    """(method, url) for every admin route, with 1 for every number and 'x' for every other part."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        values = {name: 1 if isinstance(conv, IntegerConverter) else "x" for name, conv in rule._converters.items()}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url, rule.endpoint))
    return routes


def test_every_admin_area_has_routes(app):
    endpoints = {endpoint for _m, _u, endpoint in admin_routes(app)}
    for area in ADMIN_AREAS:
        assert any(e.startswith(f"admin.{area}.") for e in endpoints), f"no routes in admin.{area}"


def _try_all(client, app, token):
    results = []
    for method, url, endpoint in admin_routes(app):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={"csrf_token": token})
        results.append((endpoint, method, url, response))
    return results


@pytest.mark.parametrize("username", ["staff", "supervisor", "staff.london"])
def test_staff_and_supervisors_get_403_on_every_admin_route(app, client, demo, username):
    login(client, username, demo["passwords"][username])
    token = csrf_token(client.get("/me/notifications").get_data(as_text=True))
    refused = [(e, m, r.status_code) for e, m, _u, r in _try_all(client, app, token) if r.status_code != 403]
    assert refused == []


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_route(app, client, demo):
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    for endpoint, method, url, response in _try_all(client, app, token):
        assert response.status_code == 302, (endpoint, method)
        assert "/login" in response.headers["Location"]


def test_htmx_request_without_sign_in_gets_a_redirect_htmx_follows(client, demo):
    response = client.get("/admin/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "/login" in response.headers["HX-Redirect"]


def test_admin_sees_the_admin_home_with_every_area(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/admin/").get_data(as_text=True)
    for title in ("Questionnaires", "Branches and QR codes", "Departments and users", "Routing rules", "SLA and escalations", "Audit log"):
        assert title in page
    assert 'href="/admin/"' in client.get("/staff/queue").get_data(as_text=True)


def test_staff_see_no_admin_link(client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    assert 'href="/admin/"' not in client.get("/staff/queue").get_data(as_text=True)
