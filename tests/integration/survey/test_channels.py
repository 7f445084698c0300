"""A response's channel is decided where it starts: a poster's code scanned, the kiosk, or the survey link."""
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, QrCode, Response, Ticket
from app.services.branches.qr_codes import survey_link
from tests.conftest import SurveyWalker, login

LOW_SCORES = {"product": 1, "service": 1, "service_problem": ["attitude"], "environment": 2, "nps": 1}


def _walk(app, token: str, answers: dict, **open_params) -> Response:
    walker = SurveyWalker(app.test_client(), token)
    walker.open(**open_params)
    for key, value in answers.items():
        walker.answer(**{key: value})
    walker.answer(comment="")
    assert "Thank you for your feedback" in walker.page
    with app.app_context():
        return db.session.scalar(select(Response).order_by(Response.id.desc()))


def test_a_kiosk_a_qr_code_and_a_link_response_carry_their_channels(app, demo):
    happy = {"product": 5, "service": 5, "environment": 5, "nps": 10}
    kiosk = _walk(app, demo["tokens"]["SH-PEOPLE/kiosk"], happy)
    scanned = _walk(app, demo["tokens"]["SH-PEOPLE"], happy)
    linked = _walk(app, demo["tokens"]["SH-PEOPLE"], happy, via="link")
    kiosk_by_link = _walk(app, demo["tokens"]["SH-PEOPLE/kiosk"], happy, via="link")
    assert (kiosk.channel, scanned.channel, linked.channel, kiosk_by_link.channel) == (
        Channel.KIOSK, Channel.QR, Channel.LINK, Channel.KIOSK,
    )
    assert len({kiosk.id, scanned.id, linked.id, kiosk_by_link.id}) == 4


def test_the_survey_link_the_branch_page_offers_counts_as_the_link(app, demo, client):
    login(client, "admin", demo["passwords"]["admin"])
    with app.app_context():
        qr = db.session.scalar(select(QrCode).where(QrCode.token == demo["tokens"]["SH-PEOPLE"]))
        branch_id, link = qr.branch_id, survey_link(qr.token)
    page = client.get(f"/admin/branches/{branch_id}").get_data(as_text=True)
    assert f'value="{link}"' in page.replace("&amp;", "&")
    assert link.endswith("?via=link")


def test_the_response_and_ticket_pages_say_the_channel_in_both_languages(app, demo, client):
    response = _walk(app, demo["tokens"]["SH-PEOPLE"], LOW_SCORES, via="link")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.response_id == response.id))
        assert ticket is not None
    login(client, "admin", demo["passwords"]["admin"])
    for language, word in (("en", "Survey link"), ("zh_Hans", "问卷链接")):
        shown = client.get(f"/staff/responses/{response.id}?lang={language}").get_data(as_text=True)
        assert f'<dd id="channel">{word}</dd>' in shown
        shown = client.get(f"/staff/tickets/{ticket.id}?lang={language}").get_data(as_text=True)
        assert f'<dd id="channel">{word}</dd>' in shown
