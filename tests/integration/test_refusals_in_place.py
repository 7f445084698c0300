"""A refused htmx request (4xx/5xx) answers with a message the page shows in place; nothing typed is swapped away."""
from __future__ import annotations

import json
import re

from tests.conftest import csrf_token, login
from tests.integration.tickets.test_ticket_pages import complain, newest_ticket

HTMX = {"HX-Request": "true"}


def htmx_config(page: str) -> dict:
    return json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))


def in_place(response) -> str:
    """The answer is the small message (no page around it) for #request-error."""
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="request-error-message">'), text[:200]
    assert "<html" not in text
    return text


def test_every_page_swaps_conflicts_and_validation_in_and_shows_other_refusals_in_its_message_area(client, demo):
    page = client.get("/login").get_data(as_text=True)
    rules = htmx_config(page)["responseHandling"]
    assert {"code": "409", "swap": True} in rules and {"code": "422", "swap": True} in rules
    assert rules[-1] == {
        "code": "[45]..", "swap": True, "error": True, "target": "#request-error", "select": "#request-error-message",
        "swapOverride": "innerHTML",
    }
    assert '<div id="request-error" class="request-error" role="alert" hx-swap-oob="innerHTML"></div>' in page


def test_forbidden_to_htmx_is_a_message_in_place_and_the_page_keeps_its_form(client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/queue").get_data(as_text=True)
    refused = client.post("/quality/review", data={"csrf_token": csrf_token(page)}, headers=HTMX)
    assert refused.status_code == 403
    text = in_place(refused)
    assert "Not allowed" in text and "what you typed is still on this page" in text
    plain = client.post("/quality/review", data={"csrf_token": csrf_token(page)})
    assert plain.status_code == 403 and "<html" in plain.get_data(as_text=True)  # without JS: the error page


def test_an_expired_session_answers_htmx_in_place_with_a_way_to_sign_in(app, client, demo):
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "seen_version": 1, "kind": "note", "body": "typed"}
    headers = HTMX | {"HX-Current-URL": f"http://localhost/staff/tickets/{ticket.id}"}
    with client.session_transaction() as session:  # signed out elsewhere (or the account was switched off)
        session.pop("_user_id", None)
    signed_out = client.post(f"/staff/tickets/{ticket.id}/message", data=form, headers=headers)
    assert signed_out.status_code == 401
    text = in_place(signed_out)
    assert "You were signed out" in text and f"/login?next=/staff/tickets/{ticket.id}" in text
    assert 'target="_blank"' in text
    poll = client.get(f"/staff/tickets/{ticket.id}/viewers", headers=headers | {"X-Loopdesk-Poll": "true"})
    assert poll.status_code == 401 and "You were signed out" in in_place(poll)  # a poll never navigates away
    assert "HX-Redirect" in client.get("/staff/queue", headers=HTMX).headers  # moving to another page does

    client.delete_cookie("session")  # the whole session is gone: its CSRF token with it
    expired = client.post(f"/staff/tickets/{ticket.id}/message", data=form, headers=headers)
    assert expired.status_code == 400
    assert "This page has expired" in in_place(expired)


def test_an_unexpected_error_to_htmx_is_a_message_in_place(app, client, demo, monkeypatch):
    from app.blueprints import tickets as ticket_views

    login(client, "staff", demo["passwords"]["staff"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ticket_views.queries, "queue", broken)
    failed = client.get("/staff/queue", headers=HTMX)
    assert failed.status_code == 500
    assert "Sorry, something went wrong on our side" in in_place(failed)


def test_the_polls_of_an_open_page_say_they_are_polls(app, client, demo):
    complain(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    ticket = newest_ticket(app)
    login(client, "staff", demo["passwords"]["staff"])
    for url in ("/staff/queue", f"/staff/tickets/{ticket.id}"):
        page = client.get(url).get_data(as_text=True)
        polls = re.findall(r"<[^>]+hx-trigger=\"[^\"]*every[^>]+>", page)
        assert polls and all("X-Loopdesk-Poll" in tag for tag in polls), polls
