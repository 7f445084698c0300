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
