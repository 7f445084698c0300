import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, QrCode, Response


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_happy_customer_finishes_survey_in_six_taps(app, walker):
    assert walker.open().status_code == 200
    assert "How satisfied are you with our products?" in walker.page
    walker.answer(product=5)
    walker.answer(service=5)
    # service 5: the follow-up about disappointing service is skipped
    assert "store environment" in walker.page
    walker.answer(environment=4)
    walker.answer(nps=9)
    response = walker.answer(comment="Lovely tea")
    assert response.status_code == 200
    assert "Thank you for your feedback" in walker.page
    with app.app_context():
        saved = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert saved.submitted_at is not None
        assert {a.value for a in saved.answers} >= {5, 4, 9, "Lovely tea"}
        assert saved.reference_code is None
        assert saved.processed_at is not None  # the in-process job ran
        assert db.session.get(QrCode, saved.qr_code_id).response_count >= 1


def test_low_service_score_asks_what_disappointed(app, walker):
    walker.open()
    walker.answer(product=4)
    walker.answer(service=2)
    assert "Which part of the service disappointed you?" in walker.page


def test_required_question_shows_message_in_place(walker):
    walker.open()
    response = walker.answer(follow=False)
    assert response.status_code == 422
    assert "Please answer this question." in walker.page


def test_back_keeps_answers(walker):
    walker.open()
    walker.answer(product=2)
    walker.open(step=1)
    assert 'value="2" class="choice chosen"' in walker.page


def test_reload_resumes_where_customer_was(walker):
    walker.open()
    walker.answer(product=3)
    walker.answer(service=4)
    walker.open()
    assert "store environment" in walker.page


def test_double_tap_submit_stores_one_response(app, walker, client):
    walker.open()
    for key, value in [("product", 1), ("service", 5), ("environment", 4), ("nps", 3)]:
        walker.answer(**{key: value})
    last_page = walker.page
    with app.app_context():
        before = count(Response)
    walker.answer(comment="Cold food")
    walker.page = last_page
    walker.answer(comment="Cold food")
    with app.app_context():
        assert count(Response) == before
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.submitted_at.is_not(None))) >= 1


def test_call_back_request_gets_reference_code(app, walker):
    walker.open()
    for key, value in [("product", 1), ("service", 5), ("environment", 1), ("nps", 0)]:
        walker.answer(**{key: value})
    walker.answer(comment="Terrible", q_contact_phone="13800138000", q_contact_consent="y")
    assert "Your reference code is" in walker.page
    with app.app_context():
        saved = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert saved.reference_code and saved.reference_code in walker.page
        assert saved.contact_phone == "13800138000"
    assert f'/t/{saved.reference_code}?s={saved.customer_secret}"' in walker.page  # where to follow it


def test_contact_without_consent_is_refused_in_place(walker):
    walker.open()
    for key, value in [("product", 1), ("service", 5), ("environment", 1), ("nps", 0)]:
        walker.answer(**{key: value})
    response = walker.answer(q_contact_phone="13800138000", follow=False)
    assert response.status_code == 422
    assert "Tick the box" in walker.page


def test_unknown_token_gets_friendly_page(client, demo):
    response = client.get("/s/not-a-real-token", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "未找到此问卷" in response.get_data(as_text=True)


def test_revoked_token_says_so_politely(app, client, demo):
    from app.core.clock import utcnow

    with app.app_context():
        qr = db.session.scalar(select(QrCode).where(QrCode.token == demo["tokens"]["LDN-SOHO"]))
        qr.revoked_at = utcnow()
        db.session.commit()
    response = client.get(f"/s/{demo['tokens']['LDN-SOHO']}")
    assert response.status_code == 410
    assert "no longer in use" in response.get_data(as_text=True)


def test_abandoned_draft_is_kept_as_partial(app, walker):
    with app.app_context():
        before = count(Response)
    walker.open()
    walker.answer(product=1)
    with app.app_context():
        assert count(Response) == before + 1
        draft = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert draft.is_partial
        assert [a.value for a in draft.answers] == [1]
        assert count(Answer) > 0


def test_kiosk_starts_over_and_forgets_previous_customer(app, client, demo):
    from tests.conftest import SurveyWalker

    kiosk = SurveyWalker(client, demo["tokens"]["SH-PEOPLE/kiosk"])
    kiosk.open()
    for key, value in [("product", 1), ("service", 5), ("environment", 1), ("nps", 0)]:
        kiosk.answer(**{key: value})
    kiosk.answer(comment="secret complaint", q_contact_phone="13900139000", q_contact_consent="y")
    # Without JavaScript the refresh starts it over; with it, kiosk.js counts down (and gives more time).
    assert '<noscript><meta http-equiv="refresh"' in kiosk.page
    assert re.search(r'<script src="/static/kiosk[^"]*\.js" defer>', kiosk.page)
    kiosk.open()
    assert "Step 1 of" in kiosk.page
    assert "13900139000" not in kiosk.page and "secret complaint" not in kiosk.page
    kiosk.open(step=6)
    assert "13900139000" not in kiosk.page and "secret complaint" not in kiosk.page


def test_survey_pages_are_not_cached_and_carry_security_headers(walker):
    response = walker.open()
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_language_follows_the_phone_and_can_be_switched(client, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    zh = client.get(f"/s/{token}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "您对我们的产品满意吗？" in zh
    en = client.get(f"/s/{token}?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "How satisfied are you with our products?" in en


def test_closed_questionnaire_gets_friendly_page_in_customer_language(app, client, demo):
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.models import Questionnaire

    with app.app_context():
        for questionnaire in db.session.scalars(select(Questionnaire)):
            questionnaire.ends_at = utcnow() - timedelta(days=1)
        db.session.commit()
    response = client.get(f"/s/{demo['tokens']['SH-PEOPLE']}", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 410
    assert "问卷" in response.get_data(as_text=True)
    english = client.get(f"/s/{demo['tokens']['SH-PEOPLE']}?lang=en").get_data(as_text=True)
    assert "This survey is closed right now" in english


def test_questionnaire_targeted_at_a_branch_wins_over_the_general_one(app, client, demo):
    from app.models import Branch, Questionnaire
    from app.services.questionnaires.templates import create_default_questionnaire

    with app.app_context():
        special = create_default_questionnaire(code="london-only")
        special.target_branches = [db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))]
        special.name = {"en": "London"}
        db.session.commit()
        special_version = special.current_version_id
    from tests.conftest import SurveyWalker

    london = SurveyWalker(client, demo["tokens"]["LDN-SOHO"])
    london.open()
    london.answer(product=3)
    with app.app_context():
        latest = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert latest.version_id == special_version
        assert db.session.scalar(select(Questionnaire).where(Questionnaire.code == "satisfaction")).current_version_id != special_version


def test_a_written_complaint_alone_opens_a_ticket_by_the_default_rules(app, walker):
    """Scores 3+ and NPS 7+: only the words say something went wrong (issue 10, point 3)."""
    from app.models import Department, Ticket

    walker.open()
    walker.answer(product=3)
    walker.answer(service=4)  # 3 would ask the follow-up about the service
    walker.answer(environment=3)
    walker.answer(nps=7)
    walker.answer(comment="洗手间没有纸")
    assert "Thank you for your feedback" in walker.page
    with app.app_context():
        saved = db.session.scalar(select(Response).order_by(Response.id.desc()))
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == saved.id))
        assert ticket is not None
        assert ticket.category == "environment"
        assert db.session.get(Department, ticket.department_id).code == "operations"
        assert saved.reference_code is not None or ticket.reference_code


def test_praise_with_a_negation_opens_no_ticket(app, walker):
    walker.open()
    walker.answer(product=4)
    walker.answer(service=4)
    walker.answer(environment=4)
    walker.answer(nps=8)
    walker.answer(comment="没有让人失望，上菜不算慢")
    with app.app_context():
        from app.models import Ticket

        saved = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert db.session.scalar(select(Ticket).where(Ticket.response_id == saved.id)) is None
