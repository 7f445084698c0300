import re
"""Two identical requests at the same moment (a double tap on a flaky network) store one response."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Response
from tests.conftest import SurveyWalker, csrf_token, hidden


def twice_at_once(request) -> list:
    """Send the same request from two threads released at the same moment; their results."""
    barrier = threading.Barrier(2)
    results: list = []

    def send() -> None:
        barrier.wait()
        results.append(request())

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_simultaneous_final_submits_store_one_submitted_response(app, client, demo):
    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    for key, value in [("product", 2), ("service", 5), ("environment", 4), ("nps", 5)]:
        walker.answer(**{key: value})
    form = {
        "csrf_token": csrf_token(walker.page), "key": hidden(walker.page, "key"), "step": walker.step,
        "q_comment": "cold soup",
    }
    assert sorted(twice_at_once(lambda: client.post(walker.url, data=form).status_code)) == [303, 303]
    with app.app_context():
        mine = db.session.scalars(select(Response).where(Response.idempotency_key == form["key"])).all()
        assert len(mine) == 1 and mine[0].submitted_at is not None
        assert db.session.scalar(select(func.count(Answer.id)).where(Answer.response_id == mine[0].id)) == 5


def test_two_simultaneous_first_answers_make_one_draft(app, demo):
    phone = app.test_client()
    walker = SurveyWalker(phone, demo["tokens"]["HZ-WESTLAKE"])
    walker.open()
    form = {"csrf_token": csrf_token(walker.page), "key": hidden(walker.page, "key"), "step": 1, "q_product": 3}
    assert twice_at_once(lambda: phone.post(walker.url, data=form).status_code) == [303, 303]
    with app.app_context():
        drafts = db.session.scalars(select(Response).where(Response.idempotency_key == form["key"])).all()
        assert len(drafts) == 1
        assert [a.value for a in drafts[0].answers] == [3]


def test_a_revoked_code_stops_working_within_the_cache_time(app, client, demo):
    import time

    from app.core.clock import utcnow
    from app.models import QrCode

    app.config["LOOPDESK_SURVEY_CACHE_SECONDS"] = 0.5
    token = demo["tokens"]["LDN-SOHO"]
    assert client.get(f"/s/{token}").status_code == 200
    with app.app_context():
        db.session.scalar(select(QrCode).where(QrCode.token == token)).revoked_at = utcnow()
        db.session.commit()
    time.sleep(0.6)
    assert client.get(f"/s/{token}").status_code == 410


CALL_ME_BACK = [("product", 1), ("service", 1), ("service_problem", ["waiting"]), ("environment", 2), ("nps", 1)]


def phone_at_last_step(client, token: str) -> tuple[SurveyWalker, dict]:
    walker = SurveyWalker(client, token)
    walker.open()
    for key, value in CALL_ME_BACK:
        walker.answer(**{key: value})
    form = {
        "csrf_token": csrf_token(walker.page), "key": hidden(walker.page, "key"), "step": walker.step,
        "q_comment": "排队太久", "q_contact_phone": "13800138000", "q_contact_consent": "y",
    }
    return walker, form


def same_browser(app, client):
    """Another client holding the cookies ``client`` holds now (the phone as it was before a reply)."""
    twin = app.test_client()
    for cookie in client._cookies.values():
        twin.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return twin


def stored_code(app, key: str) -> str:
    with app.app_context():
        mine = db.session.scalars(select(Response).where(Response.idempotency_key == key)).all()
        assert len(mine) == 1 and mine[0].submitted_at is not None and mine[0].reference_code
        return mine[0].reference_code


def test_resubmitting_after_a_lost_reply_shows_the_same_reference_code(app, client, demo):
    walker, form = phone_at_last_step(client, demo["tokens"]["SH-PEOPLE"])
    before_the_reply = same_browser(app, client)
    assert client.post(walker.url, data=form).status_code == 303  # stored; the reply (and its cookie) never arrive
    again = before_the_reply.post(walker.url, data=form, follow_redirects=True)
    page = again.get_data(as_text=True)
    code = stored_code(app, form["key"])
    assert again.request.path.endswith("/thanks") and "Your reference code is" in page and code in page
    assert re.search(rf'href="[^"]*/t/{code}\?s=[^"]+"', page)  # the status link with its secret
    # With htmx the same: the resubmit is sent to the thank-you page, which shows the code.
    htmx_again = same_browser(app, client).post(walker.url, data=form, headers={"HX-Request": "true"})
    assert htmx_again.headers["HX-Redirect"].endswith("/thanks")


def test_three_concurrent_submits_all_show_the_code(app, client, demo):
    walker, form = phone_at_last_step(client, demo["tokens"]["HZ-WESTLAKE"])
    barrier = threading.Barrier(3)
    pages: list[str] = []

    def submit(phone) -> None:
        barrier.wait()
        pages.append(phone.post(walker.url, data=form, follow_redirects=True).get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=(same_browser(app, client),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    code = stored_code(app, form["key"])
    assert len(pages) == 3 and all(code in page for page in pages)


def test_the_thank_you_page_shows_no_code_of_another_survey_or_a_forged_key(app, client, demo):
    walker, form = phone_at_last_step(client, demo["tokens"]["SH-PEOPLE"])
    client.post(walker.url, data=form, follow_redirects=True)
    code = stored_code(app, form["key"])
    other = client.get(f"/s/{demo['tokens']['HZ-WESTLAKE']}/thanks").get_data(as_text=True)
    assert code not in other and "Your reference code is" not in other
    with client.session_transaction() as session:
        session["thanks"] = {"token": demo["tokens"]["HZ-WESTLAKE"], "key": form["key"]}  # another code's page
    assert code not in client.get(f"/s/{demo['tokens']['HZ-WESTLAKE']}/thanks").get_data(as_text=True)
