"""The routing rules editor under /admin/routing/ and its "try it" box."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import delete, select

from app.extensions import db
from app.models import AuditEntry, Branch, Department, QuestionnaireVersion, Response, RoutingRule, Ticket
from app.services import routing as routing_rules
from app.services.routing import stored
from app.services.tickets import opening
from app.services.survey.plans import plan_for
from tests.conftest import csrf_token, login

LOW_SERVICE = [("product", 5), ("service", 1), ("service_problem", ["attitude"]), ("environment", 5), ("nps", 8)]


def admin(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    return client


def department_id(code: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.code == code))


def rule(name: str) -> RoutingRule:
    return db.session.scalar(select(RoutingRule).where(RoutingRule.name == name))


def order() -> list[str]:
    return [r.name for r in stored.stored_rules()]


def audit_actions(action: str | None = None) -> list[tuple[str, str]]:
    query = select(AuditEntry.action, AuditEntry.label).where(AuditEntry.entity_type == "routing_rule")
    if action:
        query = query.where(AuditEntry.action == action)
    return [tuple(row) for row in db.session.execute(query.order_by(AuditEntry.id))]


def rule_form(client, url: str, **fields) -> dict:
    """The editor's fields as a browser would send them, over ``fields``."""
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "name": "", "department": "", "priority": "normal", "set_category": "",
            "keywords": "", "place": "top", "action": "save"}
    for index in range(3):
        data.update({f"conditions-{index}-question": "", f"conditions-{index}-operator": "", f"conditions-{index}-value": ""})
    data.update(fields)
    return data


def washroom_rule(app, **extra) -> dict:
    with app.app_context():
        operations = department_id("operations")
    return {"name": "Washrooms at People's Square", "department": str(operations), "priority": "urgent",
            "keywords": "洗手间, toilet\nwashroom", "branch_codes": ["SH-PEOPLE"], **extra}


def complain(walker, answers, comment: str = ""):
    walker.open()
    for key, value in answers:
        walker.answer(**{key: value})
    walker.answer(comment=comment)
    assert "Thank you for your feedback" in walker.page


def newest_response() -> Response:
    return db.session.scalar(select(Response).order_by(Response.id.desc()))


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_the_stored_rules_in_order_with_their_conditions(client, demo):
    page = admin(client, demo).get("/admin/routing/").get_data(as_text=True)
    names = re.findall(r'<a href="/admin/routing/\d+">([^<]+)</a>', page)
    assert names == ["Product problems", "Service problems", "Communication problems", "Environment problems"]
    assert "When: category is Service" in page


def test_with_no_rule_stored_the_defaults_show_and_are_stored_before_the_first_new_rule(app, client, demo):
    with app.app_context():
        db.session.execute(delete(RoutingRule))
        db.session.commit()
    admin(client, demo)
    page = client.get("/admin/routing/").get_data(as_text=True)
    assert "The default rules apply" in page and "Service problems" in page
    response = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **washroom_rule(app)))
    assert response.status_code == 303
    with app.app_context():
        assert order() == [
            "Washrooms at People's Square", "Product problems", "Service problems", "Communication problems",
            "Environment problems",
        ]
        assert [r.position for r in stored.stored_rules()] == [1, 2, 3, 4, 5]
        assert [action for action, _ in audit_actions()] == ["create"] * 5


def test_edit_these_rules_stores_the_defaults(app, client, demo):
    with app.app_context():
        db.session.execute(delete(RoutingRule))
        db.session.commit()
    admin(client, demo)
    page = client.get("/admin/routing/").get_data(as_text=True)
    client.post("/admin/routing/store-defaults", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert order() == ["Product problems", "Service problems", "Communication problems", "Environment problems"]


# --- The editor ----------------------------------------------------------------------------------


def test_a_rule_with_no_target_is_refused_at_the_department_field(app, client, demo):
    admin(client, demo)
    data = rule_form(client, "/admin/routing/new", **{**washroom_rule(app), "department": ""})
    response = client.post("/admin/routing/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'<select[^>]*name="department".*?</select>.*?<p class="error" role="alert">A routing rule needs a target: '
        r"choose the department its tickets go to.</p>", page, re.S,
    )
    assert "Washrooms at People&#39;s Square" in page  # what was typed is kept
    with app.app_context():
        assert rule("Washrooms at People's Square") is None


def test_a_new_rule_routes_the_next_complaint_and_is_audited(app, client, demo, walker):
    admin(client, demo)
    response = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **washroom_rule(app)))
    assert response.status_code == 303
    with app.app_context():
        saved = rule("Washrooms at People's Square")
        assert (saved.position, saved.priority, saved.keywords) == (1, "urgent", ["洗手间", "toilet", "washroom"])
        assert saved.branch_codes == ["SH-PEOPLE"]
        assert audit_actions("create") == [("create", "Washrooms at People's Square")]
    complain(walker, LOW_SERVICE, comment="洗手间不干净")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == newest_response().id))
        assert (ticket.department.code, ticket.priority, ticket.routing["rule"]) == (
            "operations", "urgent", "Washrooms at People's Square",
        )


def test_editing_a_rule_changes_its_target_and_the_audit_log_shows_before_and_after(app, client, demo):
    admin(client, demo)
    with app.app_context():
        service = rule("Service problems")
        url, product = f"/admin/routing/{service.id}", department_id("product")
    form_page = client.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="\d+">客服部', form_page) or re.search(r'value="\d+" selected>客服部', form_page)
    data = rule_form(client, url, name="Service problems", department=str(product), priority="high",
                     categories=["service"])
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        changed = rule("Service problems")
        assert (changed.department.code, changed.priority, changed.categories) == ("product", "high", ["service"])
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
        assert entry.before == {"department": department_id("service"), "priority": "normal"}
        assert entry.after == {"department": product, "priority": "high"}


def test_moving_a_rule_up_reorders_and_audits_both_rules_that_moved(app, client, demo):
    admin(client, demo)
    with app.app_context():
        communication = rule("Communication problems").id
    page = client.get("/admin/routing/").get_data(as_text=True)
    response = client.post(f"/admin/routing/{communication}/move", data={"direction": "up", "csrf_token": csrf_token(page)})
    assert response.status_code == 303
    client.post(f"/admin/routing/{communication}/move", data={"direction": "up", "csrf_token": csrf_token(page)})
    with app.app_context():
        assert order() == ["Communication problems", "Product problems", "Service problems", "Environment problems"]
        assert [r.position for r in stored.stored_rules()] == [1, 2, 3, 4]
        assert audit_actions("reorder") == [
            ("reorder", "Communication problems"), ("reorder", "Service problems"),
            ("reorder", "Communication problems"), ("reorder", "Product problems"),
        ]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reorder"))
        assert (entry.before, entry.after) == ({"position": 3}, {"position": 2})
    client.post(f"/admin/routing/{communication}/move", data={"direction": "up", "csrf_token": csrf_token(page)})
    with app.app_context():
        assert len(audit_actions("reorder")) == 4  # already first: nothing moved


def test_turning_a_rule_off_skips_it_and_on_brings_it_back(app, client, demo):
    admin(client, demo)
    with app.app_context():
        service = rule("Service problems").id
    page = client.get("/admin/routing/").get_data(as_text=True)
    client.post(f"/admin/routing/{service}/deactivate", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert "Service problems" not in [r.name for r in stored.active_rules()]
        assert audit_actions("deactivate") == [("deactivate", "Service problems")]
    assert "off" in client.get("/admin/routing/").get_data(as_text=True)
    client.post(f"/admin/routing/{service}/activate", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert "Service problems" in [r.name for r in stored.active_rules()]


def test_an_unknown_question_key_warns_and_saves_only_when_confirmed(app, client, demo):
    admin(client, demo)
    fields = washroom_rule(app, **{"conditions-0-question": "servcie", "conditions-0-operator": "lte",
                                   "conditions-0-value": "2"})
    warned = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **fields))
    assert warned.status_code == 422
    assert "No questionnaire has a question servcie" in warned.get_data(as_text=True)
    with app.app_context():
        assert rule("Washrooms at People's Square") is None
    confirmed = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **fields, confirm="y"))
    assert confirmed.status_code == 303
    assert "unknown question servcie" in client.get("/admin/routing/").get_data(as_text=True)


def test_a_rule_without_any_condition_warns_and_marks_the_rules_below_as_never_reached(app, client, demo):
    admin(client, demo)
    with app.app_context():
        service = department_id("service")
    fields = {"name": "Everything to customer service", "department": str(service)}
    warned = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **fields))
    assert warned.status_code == 422
    assert "This rule has no condition" in warned.get_data(as_text=True)
    client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **fields, confirm="y"))
    listing = client.get("/admin/routing/").get_data(as_text=True)
    assert listing.count("never reached") == 4


def test_a_comparison_needs_a_number_and_a_value(app, client, demo):
    admin(client, demo)
    fields = washroom_rule(app, **{
        "conditions-0-question": "service", "conditions-0-operator": "lte", "conditions-0-value": "bad",
        "conditions-1-question": "service_problem", "conditions-1-operator": "includes", "conditions-1-value": "",
    })
    response = client.post("/admin/routing/new", data=rule_form(client, "/admin/routing/new", **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "this comparison needs a number" in page and "give the value to compare with" in page


def test_try_before_saving_routes_with_the_unsaved_rule_and_saves_nothing(app, client, demo, walker):
    complain(walker, LOW_SERVICE, comment="洗手间不干净")
    admin(client, demo)
    with app.app_context():
        response_id = newest_response().id
    data = rule_form(client, "/admin/routing/new", **washroom_rule(app), try_response_id=str(response_id), action="try")
    page = client.post("/admin/routing/new", data=data).get_data(as_text=True)
    assert "This rule matches the response." in page
    assert "Washrooms at People&#39;s Square" in page and "门店运营部 Store operations" in page
    with app.app_context():
        assert rule("Washrooms at People's Square") is None


# --- Try it --------------------------------------------------------------------------------------


def test_try_it_with_a_picked_response_agrees_with_the_ticket_it_opened(app, client, demo, walker):
    complain(walker, LOW_SERVICE, comment="The waiter was rude")
    with app.app_context():
        response = newest_response()
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == response.id))
        route = routing_rules.decide(opening.routed_response(response, plan_for(response.version_id)))
        assert (route.department.id, route.decision.priority, route.decision.rule.name) == (
            ticket.department_id, ticket.priority, ticket.routing["rule"],
        )
        reference, response_id = ticket.reference_code, response.id
    page = admin(client, demo).get(f"/admin/routing/try?response_id={response_id}").get_data(as_text=True)
    result = page[page.index('id="result"'):page.index("Pick a response")]
    assert "2 · Service problems" in result
    assert "客服部 Customer service" in result and "High" in result
    assert "service: CSAT 1 ≤ 2" in result and "complaint word “rude” in comment" in result
    assert reference in result and "The rules changed since" not in result


def test_try_it_with_typed_answers_shows_the_rule_department_and_reasons(app, client, demo):
    admin(client, demo)
    with app.app_context():
        version = db.session.scalar(select(QuestionnaireVersion.id))
        branch = db.session.scalar(select(Branch.id).where(Branch.code == "LDN-SOHO"))
    query = {"version_id": version, "branch_id": branch, "answers": "product=4\nenvironment=2\nnps=7",
             "comment": "The toilet was filthy"}
    page = client.get("/admin/routing/try?" + urlencode(query)).get_data(as_text=True)
    result = page[page.index('id="result"'):page.index("Pick a response")]
    assert "4 · Environment problems" in result and "门店运营部 Store operations" in result
    assert "environment: CSAT 2 ≤ 2" in result and "category is Environment" in result

    happy = client.get("/admin/routing/try?" + urlencode({**query, "answers": "service=5\nnps=10", "comment": ""}))
    assert "No ticket." in happy.get_data(as_text=True)

    bad = client.get("/admin/routing/try?" + urlencode({**query, "answers": "servcie=1\nnps=11"}))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Line 1: this questionnaire has no question servcie" in text
    assert "Line 2: nps takes a whole number from 0 to 10." in text


def test_try_it_sends_a_rule_of_a_deactivated_department_elsewhere_like_the_ticket_opener(app, client, demo):
    with app.app_context():
        db.session.get(Department, department_id("operations")).active = False
        db.session.commit()
        version = db.session.scalar(select(QuestionnaireVersion.id))
        branch = db.session.scalar(select(Branch.id))
    query = {"version_id": version, "branch_id": branch, "answers": "environment=1", "comment": "dirty toilet"}
    page = admin(client, demo).get("/admin/routing/try?" + urlencode(query)).get_data(as_text=True)
    result = page[page.index('id="result"'):page.index("Pick a response")]
    assert "none matched: triage" in result and "分诊 Triage" in result
