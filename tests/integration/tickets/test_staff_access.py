"""Sign-in and the staff response pages: each role sees only its own branches."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Branch, Response, User
from tests.conftest import csrf_token, login


def responses_of(app, branch_code):
    with app.app_context():
        return list(
            db.session.scalars(select(Response.id).join(Branch).where(Branch.code == branch_code).order_by(Response.id))
        )


def test_staff_land_on_their_queue_and_supervisors_on_the_board(client, demo):
    response = login(client, "staff", demo["passwords"]["staff"])
    assert response.status_code == 302
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == "/staff/queue"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/staff/responses").get_data(as_text=True))})
    response = login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == "/supervisor/board"


def test_staff_of_one_branch_never_see_another_branchs_responses(app, client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/responses").get_data(as_text=True)
    assert "上海人民广场店" in page
    assert "London Soho" not in page and "杭州西湖店" not in page
    for response_id in responses_of(app, "LDN-SOHO")[:5]:
        assert client.get(f"/staff/responses/{response_id}").status_code == 404
    own = responses_of(app, "SH-PEOPLE")[0]
    assert client.get(f"/staff/responses/{own}").status_code == 200


def test_older_responses_partial_stays_inside_the_scope(app, client, demo):
    login(client, "staff.london", demo["passwords"]["staff.london"])
    with app.app_context():
        newest = db.session.scalar(select(Response.id).order_by(Response.started_at.desc()).limit(1))
    page = client.get(f"/staff/responses?before={newest}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "London Soho" in page
    assert "上海人民广场店" not in page


def test_supervisor_sees_their_two_branches_and_admin_sees_all(app, client, demo):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    london = responses_of(app, "LDN-SOHO")[0]
    hangzhou = responses_of(app, "HZ-WESTLAKE")[0]
    assert client.get(f"/staff/responses/{london}").status_code == 404
    assert client.get(f"/staff/responses/{hangzhou}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/staff/responses").get_data(as_text=True))})
    login(client, "admin", demo["passwords"]["admin"])
    assert client.get(f"/staff/responses/{london}").status_code == 200


def test_user_without_branches_sees_nothing(app, client, demo):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "staff"))
        user.branches = []
        db.session.commit()
    login(client, "staff", demo["passwords"]["staff"])
    assert "No responses in your branches yet." in client.get("/staff/responses").get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in_and_htmx_gets_hx_redirect(client, demo):
    response = client.get("/staff/responses")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/staff/responses?before=5", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "/login" in response.headers["HX-Redirect"]


def test_wrong_password_is_refused_with_a_message(client, demo):
    response = login(client, "staff", "nope")
    assert response.status_code == 422
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/staff/responses").status_code == 302


def test_deactivated_user_cannot_sign_in(app, client, demo):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "staff")).active = False
        db.session.commit()
    assert login(client, "staff", demo["passwords"]["staff"]).status_code == 422


def test_sign_in_never_redirects_to_another_site(client, demo):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "staff", "password": demo["passwords"]["staff"], "csrf_token": csrf_token(page)},
    )
    assert "evil.example" not in response.headers["Location"]


def test_sign_in_without_csrf_token_is_refused(client, demo):
    response = client.post("/login", data={"username": "staff", "password": demo["passwords"]["staff"]})
    assert response.status_code == 400


def test_passwords_are_stored_hashed(app, demo):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "staff"))
        assert demo["passwords"]["staff"] not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "LOOPDESK_LOGIN_LIMIT": "3/minute"}], indirect=True)
def test_sign_in_is_rate_limited(client, demo):
    statuses = [login(client, "staff", "wrong").status_code for _ in range(5)]
    assert statuses[:3] == [422, 422, 422]
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "app",
    [{"RATELIMIT_ENABLED": True, "LOOPDESK_SURVEY_LIMIT_PER_DEVICE": "5/minute", "LOOPDESK_SURVEY_LIMIT_PER_ADDRESS": "100/minute"}],
    indirect=True,
)
def test_survey_limit_is_per_phone_so_a_busy_branch_wifi_gets_through(app, demo):
    from tests.conftest import SurveyWalker

    token = demo["tokens"]["SH-PEOPLE"]
    phones = [SurveyWalker(app.test_client(), token) for _ in range(8)]
    for phone in phones:  # eight phones behind one address, three answers each
        assert phone.open().status_code == 200
        for key, value in [("product", 4), ("service", 5), ("environment", 4)]:
            assert phone.answer(**{key: value}).status_code == 200
    greedy = phones[0]
    step_page = greedy.page
    statuses = []
    for _ in range(3):  # the same answer sent again and again from one phone
        greedy.page = step_page
        statuses.append(greedy.answer(nps=9, follow=False).status_code)
    assert statuses == [303, 303, 429]  # the sixth answer within a minute is refused
