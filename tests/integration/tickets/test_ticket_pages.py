"""The staff queue, a ticket's page, the supervisor board and the customer's status page, as people use them."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Ticket, TicketEvent
from tests.conftest import SurveyWalker, csrf_token, hidden, login

COMPLAINT = [("product", 4), ("service", 1), ("service_problem", ["waiting"]), ("environment", 3), ("nps", 2)]


def complain(client, token, phone="13800138000"):
    walker = SurveyWalker(client, token)
    walker.open()
    for key, value in COMPLAINT:
        walker.answer(**{key: value})
    walker.answer(comment="排队等了很久，服务员态度很差", q_contact_phone=phone, q_contact_consent="y")
    code = re.search(r"LD-[0-9A-Z]+", walker.page).group(0)
    return code


def newest_ticket(app):
    with app.app_context():
        return db.session.scalar(select(Ticket).order_by(Ticket.id.desc()))


def test_complaint_from_the_branch_code_shows_up_in_the_service_staff_queue(app, client, demo):
    code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/queue").get_data(as_text=True)
    assert code in page
    ticket = newest_ticket(app)
    assert ticket.reference_code == code
    detail = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "排队等了很久" in detail and "How the due times were reached" in detail


def test_other_branch_staff_see_nothing_of_it_by_any_path(app, client, demo):
    code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    login(client, "staff.london", demo["passwords"]["staff.london"])
    assert code not in client.get("/staff/queue?view=all").get_data(as_text=True)
    assert code not in client.get("/staff/queue?view=all", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert client.get(f"/staff/tickets/{ticket.id}").status_code == 404
    assert client.get(f"/staff/tickets/{ticket.id}/viewers").status_code == 404
    page = client.get("/staff/queue").get_data(as_text=True)
    response = client.post(f"/staff/tickets/{ticket.id}/claim", data={"csrf_token": csrf_token(page), "seen_version": 0})
    assert response.status_code == 404
    assert newest_ticket(app).assignee_id is None


def test_two_staff_changing_one_ticket_one_wins_the_other_sees_what_changed(app, demo):
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    first, second = app.test_client(), app.test_client()
    login(first, "staff", demo["passwords"]["staff"])
    login(second, "supervisor", demo["passwords"]["supervisor"])
    page_one = first.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    page_two = second.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert first.post(
        f"/staff/tickets/{ticket.id}/claim", data={"csrf_token": csrf_token(page_one), "seen_version": hidden(page_one, "seen_version")}
    ).status_code == 303
    late = second.post(
        f"/staff/tickets/{ticket.id}/message",
        data={"csrf_token": csrf_token(page_two), "seen_version": hidden(page_two, "seen_version"), "kind": "reply", "body": "We are sorry"},
    )
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "Someone else changed this ticket" in text
    assert "We are sorry" in text  # what they typed is still there to send again
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert "reply" not in kinds


def test_reply_reaches_the_customer_status_page_and_notes_never_do(app, client, demo):
    code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"], phone="13912345678")
    ticket = newest_ticket(app)
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    client.post(f"/staff/tickets/{ticket.id}/message", data={"csrf_token": csrf_token(page), "seen_version": hidden(page, "seen_version"), "kind": "note", "body": "internal: check CCTV"})
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    client.post(f"/staff/tickets/{ticket.id}/message", data={"csrf_token": csrf_token(page), "seen_version": hidden(page, "seen_version"), "kind": "reply", "body": "非常抱歉，我们已安排专人处理"})
    customer = app.test_client()
    lookup = customer.get(f"/t/{code}").get_data(as_text=True)
    wrong = customer.post(f"/t/{code}", data={"csrf_token": csrf_token(lookup), "last4": "0000"})
    assert wrong.status_code == 404
    right = customer.post(f"/t/{code}", data={"csrf_token": csrf_token(lookup), "last4": "5678"}, follow_redirects=True)
    assert right.request.args.get("s") == newest_ticket(app).customer_secret  # the check leads to the link
    right = right.get_data(as_text=True)
    assert "非常抱歉，我们已安排专人处理" in right
    assert "CCTV" not in right
    secret = newest_ticket(app).customer_secret
    assert "非常抱歉" in customer.get(f"/t/{code}?s={secret}").get_data(as_text=True)
    assert customer.get(f"/t/{code}?s=wrong-secret").status_code == 404


def test_supervisor_board_counts_and_bulk_reassign(app, client, demo):
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get("/supervisor/board")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "First response in time" in text
    with app.app_context():
        from app.models import User

        staff_id = db.session.scalar(select(User.id).where(User.username == "staff"))
    response = client.post("/supervisor/reassign", data={"csrf_token": csrf_token(text), "ticket_id": ticket.id, "assignee_id": staff_id})
    assert response.status_code == 303
    assert newest_ticket(app).assignee_id == staff_id


def test_staff_cannot_open_the_board(client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    assert client.get("/supervisor/board").status_code == 403


def test_staff_enter_a_phone_complaint_with_errors_shown_in_place(app, client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/tickets/new").get_data(as_text=True)
    bad = client.post("/staff/tickets/new", data={"csrf_token": csrf_token(page), "subject": ""})
    assert bad.status_code == 422
    assert "Say in a few words what happened." in bad.get_data(as_text=True)
    from app.models import Branch, Department

    with app.app_context():
        branch_id = db.session.scalar(select(Branch.id).where(Branch.code == "SH-PEOPLE"))
        department_id = db.session.scalar(select(Department.id).where(Department.code == "service"))
    good = client.post(
        "/staff/tickets/new",
        data={
            "csrf_token": csrf_token(page), "source": "phone", "branch_id": branch_id, "department_id": department_id,
            "category": "service", "priority": "high", "subject": "Rude staff on the phone",
        },
    )
    assert good.status_code == 303
    assert newest_ticket(app).subject == "Rude staff on the phone"


def test_shortening_the_policy_moves_the_due_time_shown_on_the_ticket_and_its_explanation(app, client, demo):
    from app.models import SlaPolicy
    from app.services.sla.clocks import update_policy

    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    login(client, "staff", demo["passwords"]["staff"])
    before = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == str(ticket.priority)))
        update_policy(policy, resolution_minutes=policy.resolution_minutes // 4)
        db.session.commit()
    after_ticket = newest_ticket(app)
    assert after_ticket.resolution_due_at < ticket.resolution_due_at
    after = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    due_lines = lambda html: re.findall(r"<li>(Due [^<]+)</li>", html)  # noqa: E731
    assert due_lines(after) != due_lines(before)
    assert len(re.findall(r"<li>Counted ", after)) >= 1


def queue_codes(page: str) -> list[str]:
    return re.findall(r'<span class="ref">(LD-[0-9A-Z]+)</span>', page)


def test_a_supervisor_chooses_the_queue_order_in_its_form_and_staff_keep_the_urgent_one(app, client, demo):
    first_code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    second_code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"], phone="13900139000")
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get("/staff/queue?view=all").get_data(as_text=True)
    assert '<select name="order">' in page and "Newest first" in page
    newest = client.get("/staff/queue?view=all&order=newest").get_data(as_text=True)
    assert queue_codes(newest)[:2] == [second_code, first_code]
    assert '<option value="newest" selected>' in newest
    oldest = client.get("/staff/queue?view=all&order=oldest", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert queue_codes(oldest).index(first_code) < queue_codes(oldest).index(second_code)
    assert client.get("/staff/queue?order=nonsense").status_code == 200
    assert client.get("/staff/queue?order=nonsense%00").status_code == 400  # a NUL is refused everywhere (inputs.py)

    staff = app.test_client()
    login(staff, "staff", demo["passwords"]["staff"])
    default = queue_codes(staff.get("/staff/queue").get_data(as_text=True))
    asked = staff.get("/staff/queue?order=newest").get_data(as_text=True)
    assert '<select name="order">' not in asked
    assert queue_codes(asked) == default
