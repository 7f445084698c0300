"""Improvement actions (整改措施, PDCA) as supervisors and admins use them: from a source to a checked effect."""
import re
import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.models import (
    ActionStatus,
    Answer,
    AuditEntry,
    Branch,
    Department,
    ImprovementAction,
    OutboxEmail,
    Question,
    Response,
    Ticket,
    TicketEvent,
    User,
)
from app.services.improvement_actions import queries as action_queries
from app.services import improvement_actions as actions
from app.services.tickets import opening
from tests.conftest import csrf_token, login

FUTURE = (date.today() + timedelta(days=20)).isoformat()


# --- Helpers ------------------------------------------------------------------------------------


def signed_in(app, demo, username):
    client = app.test_client()
    login(client, username, demo["passwords"][username])
    return client


def ids(app, model, column, *values):
    with app.app_context():
        found = dict(db.session.execute(select(column, model.id).where(column.in_(values))).all())
    return [found[v] for v in values]


def make_ticket(app, branch="SH-PEOPLE", department="service", language="en", email=None, phone="13800138000",
                subject="Queue far too long", category="service"):
    """A phone complaint taken by the admin, with the customer's consent to be contacted."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        ticket = opening.create_ticket(
            admin,
            branch_id=db.session.scalar(select(Branch.id).where(Branch.code == branch)),
            department_id=db.session.scalar(select(Department.id).where(Department.code == department)),
            category=category, priority="normal", subject=subject, source="phone",
            contact_consent=True, contact_phone=phone, contact_email=email, language=language,
        )
        db.session.commit()
        return ticket.id, ticket.reference_code, ticket.customer_secret


def new_action(client, query, **fields):
    """Open the new-action page for ``query`` and submit it with ``fields`` over the prefilled values."""
    page = client.get("/actions/new", query_string=query)
    assert page.status_code == 200, page.status_code
    data = form_data(page.get_data(as_text=True))
    data.update(fields)
    return client.post("/actions/new", query_string=query, data=data)


def _value(html, name):
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else ""


def newest_action(app):
    with app.app_context():
        action = db.session.scalar(select(ImprovementAction).order_by(ImprovementAction.id.desc()))
        if action is not None:
            action.branches, action.tickets  # noqa: B018 (loaded for use after the context)
        return action


def edit(client, action_id, **fields):
    data = form_data(client.get(f"/actions/{action_id}").get_data(as_text=True))
    data.update(fields)
    return client.post(f"/actions/{action_id}", data=data)


def form_data(page):
    """What a browser sends back of the action's form as the page shows it."""
    data = {"csrf_token": csrf_token(page)}
    for name in ("title", "category", "dimension_key", "root_cause", "fishbone", "owner_id", "deadline",
                 "resources", "expected_effect", "check_due_on", "check_notes",
                 "why_1", "why_2", "why_3", "why_4", "why_5"):
        if f'name="{name}"' in page:
            data[name] = _field(page, name)
    data["branch_ids"] = re.findall(r'checked[^>]*name="branch_ids"[^>]*value="(\d+)"', page)
    return data


def _field(page, name):
    """What a browser would send back for one field of the page."""
    select_match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    if select_match:
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_match.group(1))
        return next(g for g in chosen.groups() if g is not None) if chosen else ""
    area = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    if area:
        return area.group(1)
    return _value(page, name)


def move(client, action_id, status):
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    return client.post(f"/actions/{action_id}/status", data={"csrf_token": csrf_token(page), "status": status})


def set_done_days_ago(app, action_id, days):
    """Pretend the fix was done ``days`` ago (the check date follows, as completion would have set it)."""
    with app.app_context():
        action = db.session.get(ImprovementAction, action_id)
        action.completed_at = utcnow() - timedelta(days=days)
        action.check_due_on = actions.earliest_check(action)
        db.session.commit()


def ready_action(app, client, ticket_id=None, **fields):
    """An action from a ticket (or the service category) with an owner and a deadline, in plan."""
    owner_id, = ids(app, User, User.username, "supervisor")
    query = {"source_kind": "ticket", "source_ref": ticket_id} if ticket_id else {"source_kind": "category", "source_ref": "service"}
    response = new_action(client, query, owner_id=owner_id, deadline=FUTURE, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return newest_action(app).id


def audit_entries(app, action_id):
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "improvement_action", AuditEntry.entity_id == action_id)
            .order_by(AuditEntry.id)
        ))


# --- Creating from each source ------------------------------------------------------------------


def test_an_action_from_a_ticket_is_prefilled_linked_and_shown_on_the_ticket(app, demo):
    ticket_id, code, _secret = make_ticket(app, subject="Queue far too long at lunch")
    client = signed_in(app, demo, "supervisor")
    ticket_page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert f"/actions/new?source_kind=ticket&amp;source_ref={ticket_id}" in ticket_page
    form = client.get("/actions/new", query_string={"source_kind": "ticket", "source_ref": ticket_id}).get_data(as_text=True)
    assert 'value="Queue far too long at lunch"' in form and code in form
    response = new_action(client, {"source_kind": "ticket", "source_ref": ticket_id}, category="service",
                          branch_ids=ids(app, Branch, Branch.code, "SH-PEOPLE"))
    assert response.status_code == 303
    action = newest_action(app)
    assert (action.source_kind, action.source_ref, action.status) == ("ticket", str(ticket_id), ActionStatus.PLAN)
    assert [t.id for t in action.tickets] == [ticket_id]
    assert [b.code for b in action.branches] == ["SH-PEOPLE"]
    assert action.dimension_key == "service"
    ticket_page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert f"/actions/{action.id}" in ticket_page and "Queue far too long at lunch" in ticket_page


def test_actions_start_from_a_category_or_a_key_issue_and_unknown_sources_are_not_found(app, demo):
    client = signed_in(app, demo, "supervisor")
    category = client.get("/actions/new?source_kind=category&source_ref=environment").get_data(as_text=True)
    assert 'value="Environment problems"' in category
    response = new_action(client, {"source_kind": "category", "source_ref": "environment"})
    assert response.status_code == 303
    action = newest_action(app)
    assert (action.source_kind, action.category, action.dimension_key) == ("category", "environment", "environment")
    assert {b.code for b in action.branches} == {"SH-PEOPLE", "HZ-WESTLAKE"}  # the supervisor's branches

    response = new_action(client, {"source_kind": "key_issue", "source_ref": "service_problem:waiting"})
    assert response.status_code == 303
    action = newest_action(app)
    assert (action.source_kind, action.source_ref, action.dimension_key) == ("key_issue", "service_problem:waiting", "service")
    assert action.title

    for query in ("source_kind=key_issue&source_ref=service_problem:nonsense", "source_kind=key_issue&source_ref=:",
                  "source_kind=category&source_ref=weather", "source_kind=rumour&source_ref=1",
                  "source_kind=ticket&source_ref=999999", "source_kind=ticket&source_ref=abc",
                  "source_kind=ticket&source_ref=" + "9" * 500):
        assert client.get(f"/actions/new?{query}").status_code == 404, query
    assert client.get("/actions/new").status_code == 200  # the page that explains where actions start


def test_the_five_whys_root_cause_and_fishbone_are_saved(app, demo):
    client = signed_in(app, demo, "supervisor")
    response = new_action(
        client, {"source_kind": "category", "source_ref": "service"},
        why_1="Customers wait 20 minutes", why_2="Only one cashier at lunch", why_3="Rota ignores the lunch peak",
        root_cause="The rota is made without the footfall figures", fishbone="method",
        resources="One extra part-timer 11:30–14:00", expected_effect="Service mean from 3.1 to 3.8",
    )
    assert response.status_code == 303
    action = newest_action(app)
    assert action.whys == ["Customers wait 20 minutes", "Only one cashier at lunch", "Rota ignores the lunch peak"]
    assert action.fishbone == "method" and action.root_cause.startswith("The rota")
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "Only one cashier at lunch" in page and "Method (法)" in page


# --- Status, check date ---------------------------------------------------------------------------


def test_status_goes_plan_do_check_act_and_completion_sets_the_check_date_30_days_on(app, demo):
    client = signed_in(app, demo, "supervisor")
    assert new_action(client, {"source_kind": "category", "source_ref": "service"}).status_code == 303
    action_id = newest_action(app).id
    refused = move(client, action_id, "do")
    assert refused.status_code == 422
    assert "Choose an owner before the fix starts." in refused.get_data(as_text=True)
    assert move(client, action_id, "check").status_code == 422  # no skipping
    owner_id, = ids(app, User, User.username, "staff")
    assert edit(client, action_id, owner_id=owner_id, deadline=FUTURE).status_code == 303
    assert move(client, action_id, "do").status_code == 303
    assert move(client, action_id, "do").status_code == 422  # a second click does not move it again
    response = move(client, action_id, "check")
    assert response.status_code == 303
    action = newest_action(app)
    assert action.status == ActionStatus.CHECK and action.completed_at is not None
    with app.app_context():
        assert action.check_due_on == action_queries.home_today(action.completed_at) + timedelta(days=30)
    early = move(client, action_id, "act")
    assert early.status_code == 422 and "Check the effect first" in early.get_data(as_text=True)
    set_done_days_ago(app, action_id, 31)
    assert move(client, action_id, "act").status_code == 303
    assert newest_action(app).status == ActionStatus.ACT
    assert move(client, action_id, "plan").status_code == 422


def test_a_check_date_earlier_than_30_days_after_completion_is_refused_at_the_field(app, demo):
    client = signed_in(app, demo, "supervisor")
    action_id = ready_action(app, client)
    too_soon_before = edit(client, action_id, check_due_on=FUTURE)
    assert too_soon_before.status_code == 422
    assert "The check date is set when the fix is done." in too_soon_before.get_data(as_text=True)
    move(client, action_id, "do")
    move(client, action_id, "check")
    done_on = newest_action(app).check_due_on - timedelta(days=30)
    response = edit(client, action_id, check_due_on=(done_on + timedelta(days=29)).isoformat())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'class="field invalid"><span>Check the effect on</span>', page)
    assert f"on {(done_on + timedelta(days=30)).isoformat()} or later" in page
    assert newest_action(app).check_due_on == done_on + timedelta(days=30)
    later = done_on + timedelta(days=45)
    assert edit(client, action_id, check_due_on=later.isoformat(), check_notes="Queue halved").status_code == 303
    assert newest_action(app).check_due_on == later
    assert edit(client, action_id, check_due_on="").status_code == 422  # never removed


# --- Before and after ---------------------------------------------------------------------------


def _rating(branch_id, version_id, question_id, value, at, flags=(), review=None):
    response = Response(
        branch_id=branch_id, version_id=version_id, language="en", device_id=secrets.token_hex(8),
        idempotency_key=secrets.token_urlsafe(24), started_at=at - timedelta(minutes=2), submitted_at=at,
        quality_flags=list(flags), quality_review=review,
    )
    response.answers.append(Answer(question_id=question_id, value_int=value))
    db.session.add(response)


def done_action(branch, done, dimension_key):
    """An action at ``branch`` whose fix was done at ``done``, checking ``dimension_key`` (committed)."""
    action = ImprovementAction(title="Lunch rota", source_kind="category", source_ref="service",
                               dimension_key=dimension_key, status=ActionStatus.CHECK, completed_at=done)
    action.branches = [branch]
    action.check_due_on = actions.earliest_check(action)
    db.session.add(action)
    db.session.commit()
    return action


def test_before_and_after_equal_a_hand_computation_from_the_raw_answers(app, demo):
    with app.app_context():
        sh = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        quiet = Branch(code="TEST-QUIET", name="Quiet test branch", timezone="Asia/Shanghai")
        db.session.add(quiet)
        db.session.flush()
        question = db.session.scalar(select(Question).where(Question.key == "service").order_by(Question.id.desc()))
        other = db.session.scalar(select(Question).where(Question.key == "product").order_by(Question.id.desc()))
        done = utcnow() - timedelta(days=40)
        before = [2, 3, 3, 2, 4, 3, 2, 3, 3, 2, 4]
        after = [4, 4, 5, 3, 4, 5, 4, 4, 5, 4, 4, 3]
        for i, value in enumerate(before):
            _rating(quiet.id, question.version_id, question.id, value, done - timedelta(days=1 + i))
        for i, value in enumerate(after):
            _rating(quiet.id, question.version_id, question.id, value, done + timedelta(days=1 + i))
        # Left out: a flagged response, another dimension, another branch, outside the windows.
        _rating(quiet.id, question.version_id, question.id, 1, done - timedelta(days=3), flags=["too_fast"])
        _rating(quiet.id, question.version_id, other.id, 1, done - timedelta(days=3))
        _rating(sh.id, question.version_id, question.id, 1, done - timedelta(days=3))
        _rating(quiet.id, question.version_id, question.id, 1, done - timedelta(days=31))
        _rating(quiet.id, question.version_id, question.id, 1, done + timedelta(days=31))
        # Counted again: a flag a reviewer cleared.
        _rating(quiet.id, question.version_id, question.id, 5, done + timedelta(days=2), flags=["too_fast"], review="cleared")
        after.append(5)
        action = done_action(quiet, done, "service")
        action_id = action.id
        effect = action_queries.before_after(action)
    assert effect.final
    assert effect.before.responses == len(before) and effect.after.responses == len(after)
    assert effect.before.mean == pytest.approx(sum(before) / len(before))
    assert effect.after.mean == pytest.approx(sum(after) / len(after))
    assert effect.difference == pytest.approx(sum(after) / len(after) - sum(before) / len(before))
    page = signed_in(app, demo, "admin").get(f"/actions/{action_id}").get_data(as_text=True)
    assert f"{sum(before) / len(before):.2f}" in page and f"{sum(after) / len(after):.2f}" in page
    assert f"{effect.difference:+.2f}" in page and "preview" not in page


def test_a_period_under_ten_responses_says_not_enough_data(app, demo):
    with app.app_context():
        quiet = Branch(code="TEST-EMPTY", name="Empty test branch", timezone="Asia/Shanghai")
        db.session.add(quiet)
        question = db.session.scalar(select(Question).where(Question.key == "service"))
        db.session.flush()
        done = utcnow() - timedelta(days=5)
        for day in range(9):
            _rating(quiet.id, question.version_id, question.id, 4, done - timedelta(days=day + 1))
        action_id = done_action(quiet, done, "service").id
    page = signed_in(app, demo, "admin").get(f"/actions/{action_id}").get_data(as_text=True)
    assert page.count("not enough data") >= 2 and "preview" in page


# --- Completion rate ------------------------------------------------------------------------------


def test_completion_rate_counts_actions_due_by_today_that_reached_check_or_act(app, demo):
    with app.app_context():
        today = action_queries.home_today()
        sh, ldn = (db.session.scalar(select(Branch).where(Branch.code == c)) for c in ("SH-PEOPLE", "LDN-SOHO"))
        rows = [  # deadline offset, status, branch
            (-10, ActionStatus.CHECK, sh), (-5, ActionStatus.ACT, sh), (-3, ActionStatus.DO, sh),
            (-1, ActionStatus.PLAN, sh), (+10, ActionStatus.CHECK, sh), (-2, ActionStatus.DO, ldn),
        ]
        for offset, status, branch in rows:
            action = ImprovementAction(title=f"{status} {offset}", source_kind="category", source_ref="service",
                                       status=status, deadline=today + timedelta(days=offset))
            action.branches = [branch]
            db.session.add(action)
        db.session.commit()
        supervisor, admin = (db.session.scalar(select(User).where(User.username == u)) for u in ("supervisor", "admin"))
        home_today = today
        completed, due, rate = action_queries.completion(supervisor, None, None, home_today)
        assert (completed, due) == (2, 4) and rate == pytest.approx(0.5)
        assert tuple(action_queries.completion(admin, None, None, home_today))[:2] == (2, 5)
        assert tuple(action_queries.completion(supervisor, home_today - timedelta(days=5), None, home_today))[:2] == (1, 3)
        assert action_queries.completion(supervisor, home_today + timedelta(days=1), None, home_today).rate is None
    page = signed_in(app, demo, "supervisor").get("/actions/").get_data(as_text=True)
    assert "50.0 %" in page and "2 of 4 actions" in page and "at least 95 %" in page
    assert "overdue" in page


# --- Telling the customers ------------------------------------------------------------------------


def test_telling_customers_posts_one_reply_per_linked_ticket_and_shows_on_their_status_page(app, demo):
    english, en_code, en_secret = make_ticket(app, language="en", email="ann@example.com", subject="Slow")
    chinese, zh_code, zh_secret = make_ticket(app, language="zh_Hans", phone="13912345678", subject="太慢")
    with app.app_context():
        anonymous = db.session.scalar(select(Ticket).where(Ticket.contact_consent.is_(False), Ticket.response_id.is_not(None)))
        anonymous_id, anonymous_code = anonymous.id, anonymous.reference_code
    client = signed_in(app, demo, "admin")
    action_id = ready_action(app, client, ticket_id=english)
    for code in (zh_code, anonymous_code):
        page = client.get(f"/actions/{action_id}").get_data(as_text=True)
        assert client.post(f"/actions/{action_id}/tickets", data={"csrf_token": csrf_token(page), "reference_code": code.lower()}).status_code == 303
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "anonymous: cannot be told" in page and "disabled" in page
    tell = {"csrf_token": csrf_token(page), "message_en": "We added a second cashier at lunch.", "message_zh_Hans": "午餐时间我们增加了一名收银员。"}
    early = client.post(f"/actions/{action_id}/tell", data=tell)
    assert early.status_code == 422 and "once the fix is done" in early.get_data(as_text=True)
    move(client, action_id, "do")
    move(client, action_id, "check")
    assert client.post(f"/actions/{action_id}/tell", data=tell).status_code == 303
    assert client.post(f"/actions/{action_id}/tell", data=tell).status_code == 422  # a second click tells nobody twice

    with app.app_context():
        replies = dict(db.session.execute(
            select(TicketEvent.ticket_id, func.count()).where(TicketEvent.kind == "reply", TicketEvent.visible_to_customer.is_(True))
            .where(TicketEvent.ticket_id.in_((english, chinese, anonymous_id))).group_by(TicketEvent.ticket_id)
        ).all())
        assert replies == {english: 1, chinese: 1}
        emails = list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == "ann@example.com")))
        assert len(emails) == 1 and "second cashier" in emails[0].body and f"/t/{en_code}?s=" in emails[0].body
        assert db.session.get(ImprovementAction, action_id).customers_told_at is not None
    customer = app.test_client()
    assert "We added a second cashier at lunch." in customer.get(f"/t/{en_code}?s={en_secret}").get_data(as_text=True)
    assert "午餐时间我们增加了一名收银员。" in customer.get(f"/t/{zh_code}?s={zh_secret}").get_data(as_text=True)
    assert "The customers were told on" in client.get(f"/actions/{action_id}").get_data(as_text=True)


def test_an_empty_message_is_refused_at_its_field_and_nothing_is_sent(app, demo):
    ticket_id, _code, _secret = make_ticket(app, language="en")
    client = signed_in(app, demo, "supervisor")
    action_id = ready_action(app, client, ticket_id=ticket_id)
    move(client, action_id, "do")
    move(client, action_id, "check")
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Thank you for your feedback" in page  # the suggested text
    response = client.post(f"/actions/{action_id}/tell", data={"csrf_token": csrf_token(page), "message_en": "  "})
    assert response.status_code == 422 and "Write the message first." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "reply")) == 0
        assert db.session.get(ImprovementAction, action_id).customers_told_at is None


# --- Scope ----------------------------------------------------------------------------------------


def test_a_supervisor_cannot_open_or_link_another_branchs_action_or_ticket(app, demo):
    london_ticket, london_code, _secret = make_ticket(app, branch="LDN-SOHO", department="operations")
    admin = signed_in(app, demo, "admin")
    ldn, = ids(app, Branch, Branch.code, "LDN-SOHO")
    assert new_action(admin, {"source_kind": "category", "source_ref": "product"}, branch_ids=[ldn]).status_code == 303
    london_action = newest_action(app).id
    assert new_action(admin, {"source_kind": "category", "source_ref": "product"}).status_code == 303
    chain_wide = newest_action(app).id

    supervisor = signed_in(app, demo, "supervisor")
    own = ready_action(app, supervisor)
    listing = supervisor.get("/actions/").get_data(as_text=True)
    assert f"/actions/{own}" in listing and f"/actions/{london_action}\"" not in listing
    for action_id in (london_action, chain_wide):
        assert supervisor.get(f"/actions/{action_id}").status_code == 404
        page = supervisor.get(f"/actions/{own}").get_data(as_text=True)
        assert supervisor.post(f"/actions/{action_id}/status", data={"csrf_token": csrf_token(page), "status": "do"}).status_code == 404
    assert supervisor.get(f"/actions/new?source_kind=ticket&source_ref={london_ticket}").status_code == 404
    page = supervisor.get(f"/actions/{own}").get_data(as_text=True)
    refused = supervisor.post(f"/actions/{own}/tickets", data={"csrf_token": csrf_token(page), "reference_code": london_code})
    assert refused.status_code == 422 and "No ticket of yours has that reference code." in refused.get_data(as_text=True)
    assert newest_action(app).tickets == []
    refused = edit(supervisor, own, branch_ids=[ldn])
    assert refused.status_code == 422 and "Choose among your branches." in refused.get_data(as_text=True)


def test_staff_may_not_manage_actions_and_visitors_must_sign_in(app, demo):
    admin = signed_in(app, demo, "admin")
    assert new_action(admin, {"source_kind": "category", "source_ref": "service"}).status_code == 303
    action_id = newest_action(app).id
    staff = signed_in(app, demo, "staff")
    token = csrf_token(staff.get("/staff/queue").get_data(as_text=True))
    for url in ("/actions/", "/actions/new", "/actions/new?source_kind=category&source_ref=service", f"/actions/{action_id}"):
        assert staff.get(url).status_code == 403, url
        assert app.test_client().get(url).status_code == 302, url
    for url in (f"/actions/{action_id}", f"/actions/{action_id}/status", f"/actions/{action_id}/tickets",
                f"/actions/{action_id}/tell", f"/actions/{action_id}/tickets/1/remove"):
        assert staff.post(url, data={"csrf_token": token, "status": "do"}).status_code == 403, url
    assert "/actions/" not in staff.get("/staff/queue").get_data(as_text=True)
    assert newest_action(app).status == ActionStatus.PLAN


# --- Audit ----------------------------------------------------------------------------------------


def test_every_change_to_an_action_is_in_the_audit_log(app, demo):
    ticket_id, code, _secret = make_ticket(app)
    other_id, other_code, _secret = make_ticket(app, subject="Dirty tables")
    client = signed_in(app, demo, "supervisor")
    action_id = ready_action(app, client, ticket_id=ticket_id)
    edit(client, action_id, root_cause="Rota")
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    client.post(f"/actions/{action_id}/tickets", data={"csrf_token": csrf_token(page), "reference_code": other_code})
    client.post(f"/actions/{action_id}/tickets/{other_id}/remove", data={"csrf_token": csrf_token(page)})
    move(client, action_id, "do")
    move(client, action_id, "check")
    client.post(f"/actions/{action_id}/tell", data={"csrf_token": csrf_token(page), "message_en": "Fixed."})
    edit(client, action_id, title="Lunch rota")  # nothing else changed: one field in the entry
    entries = audit_entries(app, action_id)
    assert [e.action for e in entries] == ["create"] + ["update"] * 7
    assert entries[0].after["tickets"] == [ticket_id] and entries[0].after["status"] == "plan"
    assert entries[1].after == {"root_cause": "Rota"}
    assert entries[2].after["tickets"] == [ticket_id, other_id] and entries[3].after["tickets"] == [ticket_id]
    assert (entries[4].before["status"], entries[4].after["status"]) == ("plan", "do")
    assert entries[5].after["status"] == "check" and entries[5].after["completed_at"] and entries[5].after["check_due_on"]
    assert entries[6].after["customers_told_at"]
    assert set(entries[7].after) == {"title"} and entries[7].label == "Lunch rota"
    with app.app_context():
        supervisor_id = db.session.scalar(select(User.id).where(User.username == "supervisor"))
    assert {e.user_id for e in entries} == {supervisor_id}


# --- Bad input ------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_message_never_a_server_error(app, demo):
    client = signed_in(app, demo, "supervisor")
    action_id = ready_action(app, client)
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    token = csrf_token(page)
    cases = {
        "deadline": "next week", "owner_id": "abc", "branch_ids": "999999", "fishbone": "luck",
        "category": "weather", "dimension_key": "nope", "title": "x" * 5000, "why_1": "y" * 6000,
    }
    for name, value in cases.items():
        response = edit(client, action_id, **{name: value})
        assert response.status_code == 422, (name, response.status_code)
    assert edit(client, action_id, title="   ").status_code == 422
    assert edit(client, action_id, deadline=(date.today() - timedelta(days=3)).isoformat()).status_code == 422
    london, = ids(app, User, User.username, "staff.london")
    not_here = edit(client, action_id, owner_id=london)
    assert not_here.status_code == 422 and "Not a valid choice" in not_here.get_data(as_text=True)
    for data in ({"status": "xyz"}, {"status": ""}, {}):
        assert client.post(f"/actions/{action_id}/status", data={"csrf_token": token, **data}).status_code == 422
    for code in ("", "LD-", "💥" * 40, "' OR 1=1 --"):
        assert client.post(f"/actions/{action_id}/tickets", data={"csrf_token": token, "reference_code": code}).status_code == 422
    assert client.post(f"/actions/{action_id}/tell", data={"csrf_token": token, "message_en": "z" * 6000}).status_code == 422
    assert client.post(f"/actions/{action_id}/tickets/999/remove", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/actions/{action_id}/status", data={"status": "do"}).status_code == 400  # no CSRF token
    for url in ("/actions/?status=zzz&branch=abc&overdue=maybe", "/actions/?branch=99999999999999999999",
                "/actions/999999", "/actions/abc", "/actions/new?source_kind=&source_ref="):
        assert client.get(url).status_code in (200, 404), url
    assert newest_action(app).status == ActionStatus.PLAN
