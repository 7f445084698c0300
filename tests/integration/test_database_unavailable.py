"""The database away for a moment is 503 with Retry-After and a page that says what was kept, never a 500.

The failures here are raised where the database would fail (fast, on every run); the real PostgreSQL
restart is in tests/integration/test_outages.py.
"""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import csrf_token, hidden, login

HTMX = {"HX-Request": "true"}


def _database_away(*_args, **_kwargs):
    raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused"))


def _first_step(walker) -> dict:
    walker.open()
    return {"csrf_token": csrf_token(walker.page), "key": hidden(walker.page, "key"), "step": walker.step,
            "q_product": "2", "q_product_comment": "汤是凉的"}


def test_a_survey_answer_the_database_refused_is_503_in_chinese_and_one_tap_sends_it_again(
    app, walker, monkeypatch
):
    from app.services.survey import submitting

    walker.client.get(walker.url, query_string={"lang": "zh_Hans"})
    form = _first_step(walker)
    save_step = submitting.save_step
    monkeypatch.setattr(submitting, "save_step", _database_away)
    refused = walker.client.post(walker.url, data=form)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["Cache-Control"] == "no-store"
    page = refused.get_data(as_text=True)
    assert "稍后即可恢复" in page and "您的回答尚未保存" in page
    # Without JavaScript the typed answer comes back as a form that sends it again, as it was.
    assert f'name="q_product_comment" value="汤是凉的"' in page and f'name="key" value="{form["key"]}"' in page
    assert "重新提交" in page

    monkeypatch.setattr(submitting, "save_step", save_step)
    again = walker.client.post(walker.url, data=form)
    assert again.status_code == 303  # the database is back: the same answer goes through


def test_a_survey_answer_refused_to_htmx_is_shown_in_place_and_says_it_is_still_in_the_form(app, walker, monkeypatch):
    from app.services.survey import submitting

    form = _first_step(walker)
    monkeypatch.setattr(submitting, "save_step", _database_away)
    refused = walker.client.post(walker.url, data=form, headers=HTMX)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    text = refused.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="request-error-message">') and "<html" not in text
    assert "Back in a moment" in text and "it is still in the form" in text
    assert "Send again" not in text  # htmx swaps nothing: the form on the page still holds the answer


def test_a_survey_answer_saved_before_the_database_went_away_says_it_was_saved(app, walker, monkeypatch):
    from app.blueprints import survey

    form = _first_step(walker)
    monkeypatch.setattr(survey, "_see_other", _database_away)  # after the step's commit
    refused = walker.client.post(walker.url, data=form)
    assert refused.status_code == 503
    page = refused.get_data(as_text=True)
    assert "Your answer was saved" in page and "Send again" not in page


def test_the_thank_you_page_without_the_database_says_the_answers_were_received(app, walker, monkeypatch):
    from app.blueprints import survey

    walker.open()
    for answer in ({"product": 5}, {"service": 5}, {"environment": 4}, {"nps": 9}, {"comment": "Lovely tea"}):
        walker.answer(**answer)
    assert "Thank you for your feedback" in walker.page
    monkeypatch.setattr(survey.submitting, "follow_up_of", _database_away)
    monkeypatch.setattr(survey, "_open", _database_away)
    page = walker.client.get(f"{walker.url}/thanks")
    assert page.status_code == 503
    assert "Your answers were received" in page.get_data(as_text=True)


def test_a_staff_page_without_the_database_is_503_in_the_browsers_language_with_a_way_to_try_again(
    app, client, demo, monkeypatch
):
    from app.extensions import login_manager

    login(client, "staff", demo["passwords"]["staff"])
    # The user's own row is out of reach: the 503 page must not ask it for the user's language either.
    monkeypatch.setattr(login_manager, "_user_callback", _database_away)
    page = client.get("/staff/queue", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    text = page.get_data(as_text=True)
    assert "稍后即可恢复" in text and 'href="/staff/queue"' in text and "重试" in text


def test_a_bug_that_sqlite_reports_as_operational_is_still_a_500(app, client, demo, monkeypatch):
    import sqlite3

    from app.blueprints import survey

    def no_such_table(*_args):
        raise OperationalError("SELECT x FROM nothing", {}, sqlite3.OperationalError("no such table: nothing"))

    monkeypatch.setattr(survey, "_open", no_such_table)
    page = client.get(f"/s/{demo['tokens']['SH-PEOPLE']}")
    assert page.status_code == 500 and "Retry-After" not in page.headers


def test_a_sign_in_the_database_refused_never_writes_the_password_back_into_the_page(app, client, demo, monkeypatch):
    from app.services.people import admin

    page = client.get("/login").get_data(as_text=True)
    monkeypatch.setattr(admin, "authenticate", _database_away)
    refused = client.post("/login?next=/staff/queue", data={
        "csrf_token": csrf_token(page), "username": "staff", "password": "typed-secret-123",
    })
    assert refused.status_code == 503 and refused.headers["Cache-Control"] == "no-store"
    text = refused.get_data(as_text=True)
    assert "typed-secret-123" not in text and "Send again" not in text
    assert "Please go back and send it again in a minute" in text
