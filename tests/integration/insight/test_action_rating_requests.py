"""The guides' "one month after a fix, contact the customers again" (issue 11 item 3): at the effect check
the customers told of an improvement action are asked, in their language and by the same reply path, to
rate the handling on their status page; once per action."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import ImprovementAction, OutboxEmail, Ticket, TicketEvent, User
from app.services import tickets as ticket_service
from tests.conftest import csrf_token
from tests.integration.insight.test_improvement_actions import make_ticket, move, ready_action, set_done_days_ago, signed_in


def resolve(app, ticket_id):
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        for status in ("in_progress", "resolved"):
            ticket = db.session.get(Ticket, ticket_id)
            ticket_service.change_status(ticket, admin, status, ticket_service.page_version(ticket))
            db.session.commit()


def test_at_the_effect_check_the_customers_told_are_asked_to_rate_once_in_their_language(app, demo):
    english, en_code, en_secret = make_ticket(app, language="en", email="ann@example.com")
    taiwan, tw_code, tw_secret = make_ticket(app, language="zh_Hant", email="lin@example.com", subject="排隊太久")
    rated, rated_code, rated_secret = make_ticket(app, language="en", email="bob@example.com")
    client = signed_in(app, demo, "admin")
    action_id = ready_action(app, client, ticket_id=english)
    for code in (tw_code, rated_code):
        page = client.get(f"/actions/{action_id}").get_data(as_text=True)
        assert client.post(f"/actions/{action_id}/tickets", data={"csrf_token": csrf_token(page), "reference_code": code}).status_code == 303
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Tell them what was done first." in page
    move(client, action_id, "do")
    move(client, action_id, "check")
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert 'name="message_zh_Hant"' in page  # a Taiwan customer's ticket: the message in Traditional Chinese too
    tell = {"csrf_token": csrf_token(page), "message_en": "A second cashier at lunch.", "message_zh_Hant": "午餐時段增加了一名收銀員。"}
    assert client.post(f"/actions/{action_id}/tell", data=tell).status_code == 303
    for ticket_id in (english, taiwan, rated):
        resolve(app, ticket_id)
    customer = app.test_client()
    assert customer.post(f"/t/{rated_code}/rate", data={
        "csrf_token": csrf_token(customer.get(f"/t/{rated_code}?s={rated_secret}").get_data(as_text=True)),
        "s": rated_secret, "rating": "4",
    }).status_code == 303
    with app.app_context():
        assert db.session.get(Ticket, rated).customer_rating == 4

    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Available from the effect check on" in page  # the fix was done today: a month to wait
    ask = {"csrf_token": csrf_token(page), "message_en": "How did we handle your feedback? Rate it on your page.",
           "message_zh_Hant": "我們處理得怎麼樣？請在您的反饋頁面評分。"}
    early = client.post(f"/actions/{action_id}/ask", data=ask)
    assert early.status_code == 422 and "Ask the customers when the effect is checked" in early.get_data(as_text=True)

    set_done_days_ago(app, action_id, 31)
    page = client.get(f"/actions/{action_id}").get_data(as_text=True)
    assert "Done tickets not rated yet whose customers get the request: 2." in page
    assert "我們處理得怎麼樣" not in page and "Please rate it on your feedback" in page  # the suggested English text
    assert client.post(f"/actions/{action_id}/ask", data=ask).status_code == 303
    assert client.post(f"/actions/{action_id}/ask", data=ask).status_code == 422  # once per action

    with app.app_context():
        assert db.session.get(ImprovementAction, action_id).customers_asked_at is not None
        requests = dict(db.session.execute(
            select(TicketEvent.ticket_id, func.count()).where(TicketEvent.kind == "reply", TicketEvent.body.in_((ask["message_en"], ask["message_zh_Hant"])))
            .group_by(TicketEvent.ticket_id)
        ).all())
        assert requests == {english: 1, taiwan: 1}  # the rated customer is not asked again
        mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == "lin@example.com").order_by(OutboxEmail.id)).all()[-1]
        assert mail.subject == f"您的反饋 {tw_code}：我們做得怎麼樣？" and "我們處理得怎麼樣" in mail.body
        assert f"/t/{tw_code}?s={tw_secret}" in mail.body
    status = customer.get(f"/t/{tw_code}?s={tw_secret}").get_data(as_text=True)
    assert "我們處理得怎麼樣？請在您的反饋頁面評分。" in status and 'name="rating"' in status
    assert "The customers were asked to rate the handling on" in client.get(f"/actions/{action_id}").get_data(as_text=True)
