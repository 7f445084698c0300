"""SLA attainment: one rule for the supervisor board, the dashboard and the ticket list behind each figure.

A target (first response, resolution) counts once it was met or its due time passed; met means met by
the ticket's own clock (policy, business hours, pauses), as the ticket page says. The naive recount
here shares no code with ``app.services.sla.attainment``: it asks each ticket's page clock
(``clocks.clock_for``) and dates tickets by their branch's local day in Python.
"""
from __future__ import annotations

import html
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.sla import SlaState
from app.extensions import db
from app.models import Branch, Department, Priority, Role, Ticket, TicketStatus, User
from app.services import dashboard
from app.services import tickets as ticket_service
from app.services.dashboard import selection as dashboard_selection
from app.services.insight.filters import InsightFilter
from app.services.sla import attainment, board, clocks
from tests import ticket_stories
from tests.conftest import login

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_DAY = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
#: A Monday in Shanghai with no public holiday near it.
MONDAY = date(2025, 3, 10)
OUTCOME_LINK = re.compile(r'<a href="([^"]+)" data-outcome="(met|missed|running)">(\d+) ')


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _only(ticket: Ticket):
    return select(Ticket.id).where(Ticket.id == ticket.id)


@pytest.fixture
def place(app, demo):
    """A Shanghai branch of its own (open 10:00-22:00) with a supervisor who sees only it."""
    with app.app_context():
        branch = Branch(code="SH-TEST", name="测试店", region="华东 East China", timezone="Asia/Shanghai",
                        opening_hours=EVERY_DAY)
        db.session.add(branch)
        supervisor = User(username="sup.test", display_name="sup.test", role=Role.SUPERVISOR, email="s@example.com")
        supervisor.set_password("pw-sup-test")
        supervisor.branches = [branch]
        supervisor.departments = list(db.session.scalars(select(Department)))
        db.session.add(supervisor)
        db.session.commit()
        service = db.session.scalar(select(Department.id).where(Department.code == "service"))
        return {"branch_id": branch.id, "department_id": service, "passwords": demo["passwords"]}


def _night_ticket(place, day: date, reference: str) -> Ticket:
    """Opened at 03:05 Shanghai time on ``day`` (the branch opens at 10:00), answered at 10:05."""
    opened = datetime.combine(day, time(3, 5), SHANGHAI).astimezone(UTC)
    ticket = ticket_stories.open_ticket(reference, place["branch_id"], place["department_id"], opened)
    ticket_service.reply(ticket, _user("admin"), "Sorry, on it.", ticket_service.page_version(ticket),
                         now=datetime.combine(day, time(10, 5), SHANGHAI).astimezone(UTC))
    return ticket


def test_a_night_ticket_answered_five_minutes_after_opening_time_counts_as_met(app, place):
    with app.app_context():
        ticket = _night_ticket(place, MONDAY, "NIGHT1")
        # Seven hours of wall-clock time, five minutes of business time: the page says met.
        assert ticket.first_response_due_at == datetime.combine(MONDAY, time(10, 30), SHANGHAI).astimezone(UTC)
        later = datetime.combine(MONDAY, time(12, 0), SHANGHAI).astimezone(UTC)
        assert clocks.clock_for(ticket, later).first_response.state is SlaState.MET
        counted = attainment.attainment(_only(ticket), later)
        assert (counted.first_response.met, counted.first_response.missed, counted.first_response.running) == (1, 0, 0)
        assert counted.first_response.share == 100.0
        assert (counted.resolution.met, counted.resolution.missed, counted.resolution.running) == (0, 0, 1)


def test_the_night_ticket_is_met_on_the_board_and_the_dashboard_pages(app, client, place):
    with app.app_context():
        # A recent day the branch opens at 10:00 (not a public holiday), inside the last 7 days.
        for days_ago in range(2, 7):
            day = utcnow().astimezone(SHANGHAI).date() - timedelta(days=days_ago)
            ticket = _night_ticket(place, day, f"NIGHT{days_ago}")
            if ticket.first_response_due_at == datetime.combine(day, time(10, 30), SHANGHAI).astimezone(UTC):
                break
            db.session.rollback()  # a public holiday: the branch did not open at 10:00
        else:
            pytest.fail("no ordinary day in the last week")
        db.session.commit()
    login(client, "sup.test", "pw-sup-test")
    week = _board_tallies(client.get("/supervisor/board").get_data(as_text=True))[7]
    assert week["first_response"] == (1, 0, 0)
    assert week["resolution"][:2] == (0, 0)
    home_today = utcnow().astimezone(SHANGHAI).date()
    shown = _dashboard_tallies(client, home_today - timedelta(days=6), home_today)
    assert shown["first_response"] == (1, 0, 0)


def test_a_fresh_unanswered_ticket_counts_nowhere(app, client, place):
    with app.app_context():
        now = utcnow()
        ticket = ticket_stories.open_ticket("FRESH1", place["branch_id"], place["department_id"],
                                            now - timedelta(minutes=1), priority=Priority.URGENT)
        db.session.commit()
        counted = attainment.attainment(_only(ticket), utcnow())
        assert counted.tickets == 1
        for tally in (counted.first_response, counted.resolution):
            assert (tally.met, tally.missed, tally.running, tally.counted, tally.share) == (0, 0, 1, 0, None)
    login(client, "sup.test", "pw-sup-test")
    page = client.get("/supervisor/board").get_data(as_text=True)
    today = _board_tallies(page)[1]
    assert today == {"first_response": (0, 0, 1), "resolution": (0, 0, 1)}
    assert "0.0 %" not in _section(page, "attainment")
    home_today = utcnow().astimezone(SHANGHAI).date()
    assert _dashboard_tallies(client, home_today, home_today)["first_response"] == (0, 0, 1)


def test_today_is_the_branch_local_day_not_the_utc_day(app, place):
    with app.app_context():
        now = utcnow()
        midnight = datetime.combine(now.astimezone(SHANGHAI).date(), time(), SHANGHAI).astimezone(UTC)
        if now - midnight < timedelta(minutes=5):
            pytest.skip("too close to Shanghai midnight to open a ticket after it")
        after = ticket_stories.open_ticket("AFTER0", place["branch_id"], place["department_id"], midnight + timedelta(minutes=2))
        before = ticket_stories.open_ticket("BEFORE", place["branch_id"], place["department_id"], midnight - timedelta(minutes=2))
        db.session.commit()
        supervisor = _user("sup.test")
        assert board.attainment(supervisor, now, 1).attainment.tickets == 1
        assert board.attainment(supervisor, now, 2).attainment.tickets == 2
        ids = set(db.session.scalars(select(Ticket.id).where(attainment.local_days_since(1, now),
                                                             Ticket.branch_id == place["branch_id"])))
        assert ids == {after.id}
        assert before.id not in ids


# --- Random data: board, dashboard and a naive recount agree ------------------------------------


def _naive(user: User, now: datetime, days: int) -> dict[str, tuple[int, int, int]]:
    """Every ticket the user may see, by hand: opened on one of the branch's last ``days`` local days;
    each target's outcome from the ticket page's clock."""
    found = {"first_response": [0, 0, 0], "resolution": [0, 0, 0]}
    branch_ids = {b.id for b in user.branches}
    department_ids = {d.id for d in user.departments}
    for ticket in db.session.scalars(select(Ticket)):
        if user.role != Role.ADMIN and not (ticket.branch_id in branch_ids and ticket.department_id in department_ids):
            continue
        zone = ZoneInfo(ticket.branch.timezone)
        if ticket.created_at.astimezone(zone).date() < now.astimezone(zone).date() - timedelta(days=days - 1):
            continue
        clock = clocks.clock_for(ticket, now)
        for key, deadline in (("first_response", clock.first_response), ("resolution", clock.resolution)):
            index = 0 if deadline.state is SlaState.MET else 1 if deadline.state is SlaState.BREACHED else 2
            found[key][index] += 1
    return {key: tuple(values) for key, values in found.items()}


def _triple(tally) -> tuple[int, int, int]:
    return tally.met, tally.missed, tally.running


@pytest.fixture
def random_tickets(app, demo):
    """Two hundred tickets over the last 40 days in the three demo branches, every priority, worked at random."""
    with app.app_context():
        rng = random.Random(20261202)
        now = utcnow()
        branches = list(db.session.scalars(select(Branch).order_by(Branch.id)))
        departments = list(db.session.scalars(select(Department).order_by(Department.id)))
        admin = _user("admin")
        for number in range(200):
            created = now - timedelta(days=rng.uniform(0, 40) if number % 4 else rng.uniform(0, 2))
            ticket = ticket_stories.open_ticket(
                f"R{number:05d}", rng.choice(branches).id, rng.choice(departments).id, created,
                priority=rng.choice(list(Priority)),
            )
            ticket_stories.walk(rng, ticket, admin, now)
        db.session.commit()
    return demo


def test_board_dashboard_and_a_naive_recount_agree_on_random_tickets(app, random_tickets):
    with app.app_context():
        now = utcnow()
        supervisor, admin = _user("supervisor"), _user("admin")
        home_today = now.astimezone(SHANGHAI).date()
        statuses = {t.status for t in db.session.scalars(select(Ticket))}
        assert {TicketStatus.NEW, TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED} <= statuses
        for days in attainment.PERIOD_DAYS:
            expected = _naive(supervisor, now, days)
            on_board = board.attainment(supervisor, now, days).attainment
            selection = dashboard_selection.resolve(
                supervisor, InsightFilter(date_from=home_today - timedelta(days=days - 1), date_to=home_today),
                home_today)
            targets = {t.key: t.tally for t in dashboard.build(selection, home_today, now).targets if t.tally}
            assert {key: _triple(on_board.tally(key)) for key in expected} == expected, days
            assert {key: _triple(targets[key]) for key in expected} == expected, days
            # The admin's board spans London too: each branch's own day.
            assert {key: _triple(board.attainment(admin, now, days).attainment.tally(key))
                    for key in expected} == _naive(admin, now, days), days
        month = _naive(admin, now, 30)
        assert all(count > 3 for triple in month.values() for count in triple), month


def test_the_pages_agree_and_each_figure_lists_its_tickets_in_scope(app, client, random_tickets):
    passwords = random_tickets["passwords"]
    login(client, "supervisor", passwords["supervisor"])
    page = client.get("/supervisor/board").get_data(as_text=True)
    on_board = _board_tallies(page)
    home_today = utcnow().astimezone(SHANGHAI).date()
    for days, figures in on_board.items():
        assert _dashboard_tallies(client, home_today - timedelta(days=days - 1), home_today) == figures, days
    with app.app_context():
        allowed = {t.reference_code for t in db.session.scalars(select(Ticket)) if t.branch.code != "LDN-SOHO"}
    followed = 0
    for href, outcome, count in OUTCOME_LINK.findall(_section(page, "attainment")):
        listed = _listed(client.get(html.unescape(href)).get_data(as_text=True))
        assert len(listed) == min(int(count), 100), href
        assert set(listed) <= allowed, "a supervisor's list shows only their branches"
        followed += 1
    assert followed == 18
    # Staff following the same links see their own department and branch only.
    staff = app.test_client()
    login(staff, "staff", passwords["staff"])
    with app.app_context():
        theirs = {t.reference_code for t in db.session.scalars(select(Ticket))
                  if t.branch.code == "SH-PEOPLE" and t.department.code == "service"}
    for href, _outcome, _count in OUTCOME_LINK.findall(_section(page, "attainment")):
        assert set(_listed(staff.get(html.unescape(href)).get_data(as_text=True))) <= theirs


def test_the_dashboard_figures_link_to_their_tickets(app, client, random_tickets):
    login(client, "admin", random_tickets["passwords"]["admin"])
    home_today = utcnow().astimezone(SHANGHAI).date()
    page = client.get("/insight/", query_string={"date_from": (home_today - timedelta(days=6)).isoformat(),
                                                 "date_to": home_today.isoformat()}).get_data(as_text=True)
    links = OUTCOME_LINK.findall(_section(page, "targets"))
    assert len(links) == 6
    for href, _outcome, count in links:
        assert len(_listed(client.get(html.unescape(href)).get_data(as_text=True))) == min(int(count), 100), href


@pytest.mark.parametrize("query", [
    "local_days=abc&sla_target=first_response&sla_outcome=met", "local_days=99999", "local_days=%C2%B2",
    "sla_target=nonsense&sla_outcome=met", "sla_target=resolution&sla_outcome=%00", "local_days=0&view=all",
])
def test_nonsense_filters_on_the_list_are_ignored_not_an_error(client, demo, query):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    # A NUL byte is refused (400) like every NUL; the rest are ignored.
    assert client.get(f"/staff/queue?{query}").status_code == (400 if "%00" in query else 200)


# --- Reading the pages ----------------------------------------------------------------------------


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start:page.index("</section>", start)]


def _tallies(fragment: str) -> list[tuple[str, str, int]]:
    return [(href, outcome, int(count)) for href, outcome, count in OUTCOME_LINK.findall(fragment)]


def _board_tallies(page: str) -> dict[int, dict[str, tuple[int, int, int]]]:
    """{days: {target: (met, missed, running)}} from the board's attainment table."""
    found: dict[int, dict[str, tuple[int, int, int]]] = {}
    rows = re.findall(r"<tr><th>.*?</tr>", _section(page, "attainment"), re.S)
    for row in rows:
        links = _tallies(row)
        if not links:
            continue  # the header
        days = int(re.search(r"local_days=(\d+)", html.unescape(links[0][0])).group(1))
        counts = [count for *_rest, count in links]
        found[days] = {"first_response": tuple(counts[:3]), "resolution": tuple(counts[3:])}
    return found


def _dashboard_tallies(client, first: date, last: date) -> dict[str, tuple[int, int, int]]:
    page = client.get("/insight/", query_string={"date_from": first.isoformat(), "date_to": last.isoformat()})
    counts = [count for *_rest, count in _tallies(_section(page.get_data(as_text=True), "targets"))]
    return {"first_response": tuple(counts[:3]), "resolution": tuple(counts[3:6])}


def _listed(queue_page: str) -> list[str]:
    """Reference codes of the tickets the queue lists."""
    rows = re.findall(r'<li class="ticket-row.*?</li>', queue_page, re.S)
    return [re.search(r'<span class="ref">([^<]+)</span>', row).group(1) for row in rows]


def test_the_demo_history_has_met_and_missed_tickets_so_attainment_is_realistic(app):
    from app.demo import seed_demo

    with app.app_context():
        seed_demo()
        now = utcnow()
        month = board.attainment(_user("admin"), now, 30).attainment
        for tally in (month.first_response, month.resolution):
            assert tally.met >= 10 and tally.missed >= 1, tally
            assert 60.0 <= tally.share < 100.0, tally
        assert _naive(_user("admin"), now, 30) == {key: _triple(month.tally(key)) for key in attainment.TARGETS}
        # The newest tickets stay as opened, for the board's breached and at-risk list.
        assert db.session.scalar(select(Ticket.id).where(Ticket.first_response_at.is_(None)).limit(1)) is not None
