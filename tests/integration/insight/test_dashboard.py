"""The dashboard: every figure equals the naive recomputation from the raw rows, each links to the rows behind it.

The history below mixes zh-Hans and en responses, two questionnaire versions with different
weights, flagged responses (unreviewed, confirmed, cleared), branches in Shanghai and London
time, responses close to local midnight, tickets of every state and improvement actions.
"""
from __future__ import annotations

import html
import random
import re
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.core.insight import Grain
from app.extensions import db
from app.models import (
    Answer,
    Branch,
    Category,
    Channel,
    Department,
    ImprovementAction,
    Priority,
    Response,
    Ticket,
    User,
)
from app.models.insight import ActionStatus
from app.services import dashboard
from app.services.dashboard import selection as dashboard_selection
from app.services.insight import rollups
from tests.oracles.dashboard_naive import figures, naive_figures
from app.services.insight.filters import InsightFilter
from app.services.questionnaires.templates import create_default_questionnaire, publish_version
from app.services.survey.plans import plan_for
from tests import ticket_stories
from tests.conftest import login

HISTORY_DAYS = 50
#: How the history's responses reached us (staff entered none).
CHANNEL_MIX = {Channel.QR: 55, Channel.KIOSK: 25, Channel.LINK: 15, Channel.API: 5}
V2_WEIGHTS = {"product": 50, "service": 30, "environment": 20}
COMMENTS = {"zh_Hans": ["排队太久了", "服务很好", "环境一般"], "en": ["Queue too long", "Lovely staff", "Too loud"]}


def _near(rng: random.Random, centre: int, low: int, high: int) -> int:
    return max(low, min(high, centre + rng.choice([-2, -1, 0, 0, 1])))


def add_response(branch: Branch, version_id: int, submitted_at: datetime, values: dict, *, language: str = "en",
                 flags: list[str] | None = None, review: str | None = None, channel: Channel = Channel.QR) -> Response:
    plan = plan_for(version_id)
    response = Response(
        branch_id=branch.id, version_id=version_id, channel=channel, language=language, device_id=secrets.token_hex(8),
        idempotency_key=secrets.token_urlsafe(24), started_at=submitted_at - timedelta(seconds=70),
        submitted_at=submitted_at, duration_seconds=70, processed_at=submitted_at, furthest_step=6,
        quality_flags=flags or [], quality_review=review,
    )
    for key, value in values.items():
        response.answers.append(Answer(
            question_id=plan.by_key[key].id,
            value_int=value if isinstance(value, int) else None,
            value_choices=value if isinstance(value, list) else None,
            value_text=value if isinstance(value, str) else None,
        ))
    db.session.add(response)
    return response


def seed_history(today: date, count: int = 260, seed: int = 11) -> dict:
    """A deterministic history of the last HISTORY_DAYS days on top of the demo; roll-ups built."""
    rng = random.Random(seed)
    #: Channels drawn on their own, so the rest of the history stays what it was before responses had one.
    channels = random.Random(seed + 1)
    branches = {b.code: b for b in db.session.scalars(select(Branch))}
    departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    v1 = db.session.scalar(select(Response.version_id).limit(1))
    second = create_default_questionnaire(code="satisfaction-2026", publish=False)
    version = second.versions[0]
    for dimension in version.dimensions:
        dimension.weight = V2_WEIGHTS[dimension.key]
    publish_version(version)
    v2 = version.id
    made: list[Response] = []
    for i in range(count):
        branch = rng.choice(list(branches.values()))
        day = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
        local = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), ZoneInfo(branch.timezone))
        mood = rng.choices([1, 2, 3, 4, 5], weights=[8, 10, 17, 35, 30])[0]
        values: dict = {key: _near(rng, mood, 1, 5) for key in ("product", "service", "environment")}
        values["nps"] = _near(rng, mood * 2, 0, 10)
        if values["service"] <= 3:
            values["service_problem"] = rng.sample(["waiting", "attitude", "knowledge", "after_sales"], rng.randint(1, 2))
        language = "zh_Hans" if i % 2 else "en"
        if rng.random() < 0.4:
            values["comment"] = rng.choice(COMMENTS[language])
        flagged = rng.random() < 0.12
        made.append(add_response(
            branch, v1 if rng.random() < 0.5 else v2, local.astimezone(ZoneInfo("UTC")), values, language=language,
            flags=["too_fast"] if flagged else [], review=rng.choice([None, "confirmed", "cleared"]) if flagged else None,
            channel=channels.choices(list(CHANNEL_MIX), weights=list(CHANNEL_MIX.values()))[0],
        ))
    # Close to midnight: a London evening is the next morning in Shanghai, a Shanghai night the UTC evening before.
    edge = today - timedelta(days=3)
    for code, at in (("LDN-SOHO", time(23, 30)), ("SH-PEOPLE", time(0, 15))):
        moment = datetime.combine(edge, at, ZoneInfo(branches[code].timezone)).astimezone(ZoneInfo("UTC"))
        made.append(add_response(branches[code], v2, moment, {"product": 2, "service": 1, "environment": 3, "nps": 2,
                                                              "service_problem": ["waiting"]}, language="zh_Hans"))
    db.session.flush()

    for number, response in enumerate(made):
        low = min(a.value_int for a in response.answers if a.value_int is not None and a.question_id != 0)
        if low > 2 or rng.random() < 0.3:
            continue
        add_ticket(rng, f"H{number:05d}", response.branch_id, response.submitted_at, departments, response.id)
    for number in range(18):
        branch = rng.choice(list(branches.values()))
        created = utcnow() - timedelta(days=rng.randint(0, HISTORY_DAYS), hours=rng.randint(0, 23))
        add_ticket(rng, f"P{number:05d}", branch.id, created, departments, None)

    owner = db.session.scalar(select(User).where(User.username == "admin"))
    for number, (days_ago, done, codes) in enumerate([
        (40, True, ["SH-PEOPLE"]), (20, False, ["SH-PEOPLE", "LDN-SOHO"]), (10, True, ["LDN-SOHO"]),
        (5, True, []), (1, False, ["HZ-WESTLAKE"]), (-5, False, ["SH-PEOPLE"]),
    ]):
        action = ImprovementAction(
            title=f"Fix {number}", source_kind="key_issue", owner_id=owner.id, deadline=today - timedelta(days=days_ago),
            status=ActionStatus.CHECK if done else ActionStatus.DO, completed_at=utcnow() if done else None,
        )
        action.branches = [branches[c] for c in codes]
        db.session.add(action)
    rollups.rebuild_all()
    db.session.commit()
    return {"v1": v1, "v2": v2, "branches": {code: b.id for code, b in branches.items()}, "edge": edge}


def add_ticket(rng, reference, branch_id, created, departments, response_id) -> Ticket:
    """A ticket opened at ``created`` and worked at random until now through the services (replies, pauses,
    resolutions, reopens), so its stored clocks are what production writes."""
    actor = db.session.scalar(select(User).where(User.username == "admin"))
    ticket = ticket_stories.open_ticket(
        reference, branch_id, rng.choice(departments).id, created, response_id=response_id,
        priority=rng.choice(list(Priority)), category=rng.choice([*Category, None]),
    )
    return ticket_stories.walk(rng, ticket, actor, utcnow())


@pytest.fixture
def history(app, demo):
    with app.app_context():
        today = dashboard.home_today()
        seeded = seed_history(today)
    return {**seeded, "today": today, "passwords": demo["passwords"]}


def rounded(value):
    """Floats to 9 places, recursively: the two computations may add in another order."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(rounded(v) for v in value)
    return value


def compare(username: str, today: date, grain: Grain | None = None, **wanted) -> dict:
    """Build the dashboard for ``username`` and the filter, check it against the naive figures, return them."""
    user = db.session.scalar(select(User).where(User.username == username))
    first = wanted.pop("date_from", today - timedelta(days=HISTORY_DAYS + 5))
    last = wanted.pop("date_to", today)
    selection = dashboard_selection.resolve(user, InsightFilter(date_from=first, date_to=last, **wanted), today, grain)
    now = utcnow()
    shown = figures(dashboard.build(selection, today, now))
    expected = naive_figures(user, selection.filter, selection.grain, today, now)
    assert rounded(shown) == rounded(expected)
    return shown


FILTERS = {
    "everything": {},
    "one branch": {"branch_ids": ("LDN-SOHO",)},
    "a region": {"region": "华东 East China"},
    "the second version": {"version_id": "v2"},
    "the kiosk": {"channel": Channel.KIOSK},
    "a day near midnight": {"day": "edge"},
    "by month": {"grain": Grain.MONTH},
    "by day over two weeks": {"grain": Grain.DAY, "days": 14},
}


@pytest.mark.parametrize("include_flagged", [False, True], ids=["flagged-excluded", "flagged-included"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_every_figure_equals_the_naive_recomputation_from_raw_rows(app, history, name, include_flagged):
    spec = dict(FILTERS[name])
    wanted: dict = {"include_flagged": include_flagged}
    if "branch_ids" in spec:
        wanted["branch_ids"] = tuple(history["branches"][c] for c in spec["branch_ids"])
    if "region" in spec:
        wanted["region"] = spec["region"]
    if spec.get("version_id"):
        wanted["version_id"] = history[spec["version_id"]]
    if spec.get("channel"):
        wanted["channel"] = spec["channel"]
    if spec.get("day"):
        wanted["date_from"] = wanted["date_to"] = history["edge"]
    if spec.get("days"):
        wanted["date_from"] = history["today"] - timedelta(days=spec["days"])
    with app.app_context():
        shown = compare("admin", history["today"], spec.get("grain"), **wanted)
    assert shown["responses"] > 0
    assert shown["csat"][1] > 0 and shown["nps"][1] > 0 and shown["index"] is not None
    assert len(shown["trend"]) >= 1 and shown["branches"]


def test_the_channel_split_adds_up_to_the_headline(app, history):
    with app.app_context():
        shown = compare("admin", history["today"], include_flagged=True)
    channels = shown["channels"]
    assert [c[0] for c in channels] == ["qr", "kiosk", "link", "api"]
    assert sum(c[1] for c in channels) == shown["responses"]
    assert sum(c[2] for c in channels) == shown["negative"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin"))
        wanted = InsightFilter(date_from=history["today"] - timedelta(days=HISTORY_DAYS + 5), date_to=history["today"],
                               include_flagged=True)
        selection = dashboard_selection.resolve(user, wanted, history["today"])
        built = dashboard.build(selection, history["today"])
        assert sum(c.scores.csat_ratings for c in built.channels) == built.headline.scores.csat_ratings
        assert sum(c.scores.nps_answers for c in built.channels) == built.headline.scores.nps_answers
        recount = db.session.scalar(
            select(func.count(Response.id)).where(Response.channel == Channel.KIOSK, Response.submitted_at.is_not(None))
        )
        kiosk = next(c for c in built.channels if c.channel == Channel.KIOSK)
        assert kiosk.responses == recount  # every response of the history is inside the selection


def test_the_history_is_rich_enough_for_the_comparison_to_mean_something(app, history):
    with app.app_context():
        shown = compare("admin", history["today"])
        flagged = compare("admin", history["today"], include_flagged=True)
        languages = dict(db.session.execute(select(Response.language, func.count()).group_by(Response.language)).all())
    assert languages["zh_Hans"] > 50 and languages["en"] > 50
    assert flagged["responses"] > shown["responses"], "some flagged responses are left out by default"
    assert shown["key_issues"] and shown["departments"] and len(shown["categories"]) >= 4
    assert {level for *_rest, level in shown["key_issues"]} <= {"key", "first"}
    assert shown["targets"]["actions_completed"][2] > 0 and shown["targets"]["resolution"][2] > 0
    assert shown["targets"]["first_response"][2] > 0
    assert len({row[0] for row in shown["branches"]}) == 3
    assert set(shown["dimensions"]) == {"product", "service", "environment"}
    # The second version's weights are the newest: they are the index's.
    assert {key: weight for key, (_m, _n, weight, _w) in shown["dimensions"].items()} == V2_WEIGHTS


def test_a_low_scoring_branch_shows_weak_dimensions_and_a_first_level_issue(app, history):
    with app.app_context():
        london = db.session.get(Branch, history["branches"]["LDN-SOHO"])
        v1 = history["v1"]
        day = history["today"] - timedelta(days=1)
        moment = datetime.combine(day, time(12), ZoneInfo(london.timezone)).astimezone(ZoneInfo("UTC"))
        for number in range(40):
            add_response(london, v1, moment + timedelta(minutes=number),
                         {"product": 2, "service": 2, "environment": 4, "nps": 3, "service_problem": ["attitude"]})
        rollups.rebuild(london.id, day)
        db.session.commit()
        shown = compare("admin", history["today"], date_from=day, date_to=day, branch_ids=(london.id,))
    assert shown["weak"][:2] in (["product", "service"], ["service", "product"])
    assert ("service_problem", "attitude") in [(q, o) for q, o, _n, _s, level in shown["key_issues"] if level == "first"]


def test_a_supervisor_sees_only_their_branches_even_with_forged_branch_ids(app, history, client):
    shanghai_and_hangzhou = {history["branches"]["SH-PEOPLE"], history["branches"]["HZ-WESTLAKE"]}
    london = history["branches"]["LDN-SOHO"]
    with app.app_context():
        own = compare("supervisor", history["today"])
        forged = compare("supervisor", history["today"], branch_ids=(london,))
        forged_too = compare("supervisor", history["today"], branch_ids=(london, history["branches"]["SH-PEOPLE"]))
    assert {row[0] for row in own["branches"]} == shanghai_and_hangzhou
    assert forged["branches"] == [] and forged["responses"] == 0 and forged["departments"] == []
    assert [row[0] for row in forged_too["branches"]] == [history["branches"]["SH-PEOPLE"]]

    login(client, "supervisor", history["passwords"]["supervisor"])
    page = client.get("/insight/", query_string={"branch_ids": london}).get_data(as_text=True)
    assert "London Soho" not in section(page, "branches")
    chart = client.get("/insight/chart/branches.svg", query_string={"branch_ids": london}).get_data(as_text=True)
    assert "London Soho" not in chart
    drill = client.get("/staff/responses", query_string={"branch_ids": london, "date_from": "2000-01-01"})
    assert matching(drill.get_data(as_text=True)) == 0


def test_staff_may_not_open_the_dashboard_and_anonymous_people_are_sent_to_sign_in(client, history):
    assert client.get("/insight/").status_code == 302
    assert "/login" in client.get("/insight/chart/trend.svg").headers["Location"]
    login(client, "staff", history["passwords"]["staff"])
    assert client.get("/insight/").status_code == 403
    assert client.get("/insight/chart/trend.svg").status_code == 403


def test_nonsense_in_the_query_string_shows_the_default_dashboard_not_an_error(client, history):
    login(client, "admin", history["passwords"]["admin"])
    for args in ({"date_from": "yesterday"}, {"grain": "fortnight"}, {"branch_ids": ["abc", "-3", "99999"]},
                 {"version_id": "x"}, {"date_from": "2026-13-45", "date_to": "0000-00-00"}, {"region": "<b>"}):
        assert client.get("/insight/", query_string=args).status_code == 200, args
        assert client.get("/insight/chart/trend.svg", query_string=args).status_code == 200, args
    assert client.get("/insight/chart/nothing.svg").status_code == 404


def test_charts_are_svg_without_scripts_under_their_own_policy(client, history):
    login(client, "admin", history["passwords"]["admin"])
    page = client.get("/insight/")
    assert "style-src 'self'" in page.headers["Content-Security-Policy"]
    sources = re.findall(r'<img class="chart" src="([^"]+)"', page.get_data(as_text=True))
    assert len(sources) == 4
    for source in sources:
        chart = client.get(html.unescape(source))
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        svg = chart.get_data(as_text=True)
        assert "<svg" in svg and "<script" not in svg
        assert "script-src" not in chart.headers["Content-Security-Policy"]
        assert "default-src 'none'" in chart.headers["Content-Security-Policy"]


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return match.group(0)


def links(page: str, section_id: str) -> list[tuple[str, str]]:
    return [(html.unescape(href), text.strip())
            for href, text in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', section(page, section_id))]


def matching(page: str) -> int:
    match = re.search(r'id="matching">(\d+) ', page)
    assert match, "no count of matching responses"
    return int(match.group(1))


def test_each_count_on_the_page_links_to_exactly_the_responses_behind_it(client, history):
    login(client, "admin", history["passwords"]["admin"])
    first = (history["today"] - timedelta(days=HISTORY_DAYS)).isoformat()
    for flagged in ("", "1"):
        page = client.get("/insight/", query_string={"date_from": first, "include_flagged": flagged}).get_data(as_text=True)
        followed = 0
        for section_id in ("trend", "branches", "key-issues"):
            for href, text in links(page, section_id):
                if href.startswith("/staff/responses") and text.isdigit():
                    assert matching(client.get(href).get_data(as_text=True)) == int(text), href
                    followed += 1
        responses_tile = html.unescape(re.search(r'<a class="card tile" href="([^"]+)"', page).group(1))
        assert matching(client.get(responses_tile).get_data(as_text=True)) == int(
            re.search(r'class="figure">(\d+)<', section(page, "headline")).group(1))
        negative_tile = html.unescape(re.search(r'<a class="card tile" href="([^"]+negative=1[^"]*)"', page).group(1))
        negative = re.search(r'(\d+) of \d+ responses', section(page, "headline")).group(1)
        assert matching(client.get(negative_tile).get_data(as_text=True)) == int(negative)
        assert followed > 10


def test_each_ticket_count_links_to_the_tickets_behind_it(client, history):
    login(client, "admin", history["passwords"]["admin"])
    first = (history["today"] - timedelta(days=HISTORY_DAYS)).isoformat()
    page = client.get("/insight/", query_string={"date_from": first}).get_data(as_text=True)
    followed = 0
    for section_id in ("departments", "categories"):
        for href, text in links(page, section_id):
            assert href.startswith("/staff/queue")
            queue = client.get(href).get_data(as_text=True)
            assert queue.count('<li class="ticket-row') == int(text), href
            followed += 1
    assert followed >= 6


def test_the_page_shows_the_figures_in_english_and_chinese(client, history, app):
    login(client, "admin", history["passwords"]["admin"])
    first = (history["today"] - timedelta(days=HISTORY_DAYS)).isoformat()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin"))
        selection = dashboard_selection.resolve(user, InsightFilter.from_args({"date_from": first}), history["today"])
        built = dashboard.build(selection, history["today"])
    english = client.get("/insight/", query_string={"date_from": first, "lang": "en"}).get_data(as_text=True)
    chinese = client.get("/insight/", query_string={"date_from": first, "lang": "zh_Hans"}).get_data(as_text=True)
    for page in (english, chinese):
        headline = section(page, "headline")
        assert f">{built.headline.responses}<" in headline
        assert f"{built.headline.scores.csat:.1f} %" in headline
        assert f"{built.headline.scores.nps:.1f}" in headline
        assert f"{built.headline.scores.index:.2f}" in headline
        league = section(page, "branches")
        for row in built.branches:
            assert row.branch.name in league and f">{row.responses}</a>" in league
        for point in built.trend:
            assert point.start.isoformat() in section(page, "trend")
    assert "Waiting time was too long" in section(english, "key-issues")
    assert "等待时间太长" in section(chinese, "key-issues")


def test_the_dashboard_link_is_in_the_top_bar_of_supervisors_and_admins_only(client, history):
    login(client, "supervisor", history["passwords"]["supervisor"])
    assert 'href="/insight/"' in client.get("/staff/responses").get_data(as_text=True)
    client.post("/logout", data={})
    staff = client.application.test_client()
    login(staff, "staff", history["passwords"]["staff"])
    assert 'href="/insight/"' not in staff.get("/staff/responses").get_data(as_text=True)


def test_without_dates_the_dashboard_shows_the_last_30_days(app, history):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin"))
        selection = dashboard_selection.resolve(user, InsightFilter(), history["today"])
        assert (selection.first, selection.last) == (history["today"] - timedelta(days=29), history["today"])
        assert selection.grain == Grain.DAY
        only_start = dashboard_selection.resolve(user, InsightFilter(date_from=history["today"] - timedelta(days=200)),
                                       history["today"])
        assert only_start.last == history["today"] and only_start.grain == Grain.MONTH
