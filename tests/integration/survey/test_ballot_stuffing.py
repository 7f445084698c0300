"""Ballot stuffing: fresh-cookie submissions from one address (or far too many through one QR code) are a burst,
flagged, kept, left out of the scores, and open one ticket between them; ordinary customers are left alone."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Response, Ticket, TicketEvent
from tests.conftest import SurveyWalker

UNHAPPY = [("product", 2), ("service", 1), ("service_problem", ["attitude"]), ("environment", 2), ("nps", 1)]


def walk(app, token: str, address: str, answers=UNHAPPY, **contact) -> None:
    """One phone with a fresh cookie jar, submitting from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    walker = SurveyWalker(client, token)
    walker.open()
    for key, value in answers:
        walker.answer(**{key: value})
    walker.answer(comment="", **contact)
    assert "Thank you for your feedback" in walker.page


def responses_and_tickets(app) -> tuple[list[Response], list[Ticket]]:
    with app.app_context():
        responses = list(db.session.scalars(  # this test's: the demo's history carries no source_key
            select(Response).where(Response.submitted_at.is_not(None), Response.source_key.is_not(None))
            .order_by(Response.id)
        ))
        new = [r.id for r in responses]
        tickets = list(db.session.scalars(select(Ticket).where(Ticket.response_id.in_(new))))
        db.session.expunge_all()
        return responses, tickets


def fresh(app, responses):
    return responses


def test_seven_fresh_cookie_submissions_from_one_address_are_one_flagged_burst_with_one_ticket(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    for _ in range(7):
        walk(app, token, "203.0.113.7")
    responses, tickets = responses_and_tickets(app)
    mine = fresh(app, responses)
    assert len(mine) == 7 and len({r.device_id for r in mine}) == 7  # seven "phones"
    assert all("burst" in r.quality_flags for r in mine)  # the first two too, once the third showed the burst
    assert all(not r.counts_in_scores for r in mine)
    assert len(tickets) == 1
    with app.app_context():
        joined = db.session.scalars(
            select(TicketEvent.new_value).where(TicketEvent.ticket_id == tickets[0].id,
                                                TicketEvent.kind == "burst_response")
        ).all()
    assert sorted(int(i) for i in joined) == sorted(r.id for r in mine if r.id != tickets[0].response_id)
    assert all(len(r.source_key) == 16 and "203.0.113.7" not in r.source_key for r in mine)  # never the address


def test_customers_from_different_addresses_are_no_burst(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    for i in range(7):
        walk(app, token, f"198.51.100.{i + 1}")
    responses, tickets = responses_and_tickets(app)
    mine = fresh(app, responses)
    assert len(mine) == 7 and not any("burst" in r.quality_flags for r in mine)
    assert len(tickets) == 7


def test_two_customers_on_one_wifi_are_no_burst_and_one_who_left_contact_details_keeps_their_own_ticket(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    walk(app, token, "192.0.2.10")
    walk(app, token, "192.0.2.10", contact_consent="y", contact_phone="13800138000", contact_name="Wang")
    responses, tickets = responses_and_tickets(app)
    mine = fresh(app, responses)
    assert not any("burst" in r.quality_flags for r in mine)
    assert len(tickets) == 2


def test_a_kiosk_is_one_device_at_one_address_and_is_never_a_burst(app, demo):
    token = demo["tokens"]["SH-PEOPLE/kiosk"]
    for _ in range(4):
        walk(app, token, "192.0.2.20")
    responses, tickets = responses_and_tickets(app)
    assert not any("burst" in r.quality_flags for r in fresh(app, responses))
    assert len(tickets) == 4


@pytest.mark.parametrize("app", [{"LOOPDESK_SUBMISSION_BURST_ADDRESS": 5}], indirect=True)
def test_a_branch_whose_customers_share_its_wifi_raises_the_number(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    for _ in range(4):
        walk(app, token, "192.0.2.30")
    responses, _tickets = responses_and_tickets(app)
    assert not any("burst" in r.quality_flags for r in fresh(app, responses))
    walk(app, token, "192.0.2.30")
    responses, _tickets = responses_and_tickets(app)
    assert all("burst" in r.quality_flags for r in fresh(app, responses))


@pytest.mark.parametrize("app", [{"LOOPDESK_SUBMISSION_BURST_CODE": 4}], indirect=True)
def test_far_too_many_submissions_through_one_code_are_a_burst_whatever_the_addresses(app, demo):
    token = demo["tokens"]["SH-PEOPLE"]
    for i in range(4):
        walk(app, token, f"198.51.100.{50 + i}")
    responses, _tickets = responses_and_tickets(app)
    assert ["burst" in r.quality_flags for r in fresh(app, responses)] == [True] * 4
