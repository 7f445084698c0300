"""Admin pages for branches, their weekly hours and holidays, and their QR codes and posters."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.models import AuditEntry, Branch, Holiday, JobRun, QrCode, Ticket, TicketStatus
from app.models.sla import SlaPolicy
from tests.conftest import csrf_token, login

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = {day: [("09:00", "21:00")] for day in WEEKDAYS}


@pytest.fixture
def admin(client, demo):
    login(client, "admin", demo["passwords"]["admin"])
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def branch_form(html: str, code: str = "GZ-TIANHE", name: str = "广州天河店", region: str = "华南 South China",
                timezone: str = "Asia/Shanghai", hours: dict | None = None, **extra: str) -> dict:
    """What the branch form posts: ``hours`` maps a day to its intervals; a day left out is ticked Closed."""
    data = {"csrf_token": csrf_token(html), "code": code, "name": name, "region": region, "timezone": timezone}
    for day in WEEKDAYS:
        intervals = (EVERY_DAY if hours is None else hours).get(day)
        if intervals is None:
            data[f"{day}-closed"] = "y"
            intervals = []
        for number, (opens, closes) in enumerate(intervals, start=1):
            data[f"{day}-opens_{number}"] = opens
            data[f"{day}-closes_{number}"] = closes
    data.update(extra)
    return data


def branch(app, code: str) -> Branch | None:
    with app.app_context():
        found = db.session.scalar(select(Branch).where(Branch.code == code))
        if found is not None:
            found.qr_codes  # loaded while the session is open
        return found


def audit_actions(app, entity_type: str, entity_id: int | None = None) -> list[str]:
    with app.app_context():
        query = select(AuditEntry.action).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        return list(db.session.scalars(query))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def day_block(html: str, day: str) -> str:
    """The weekday's fieldset of the hours editor."""
    match = re.search(rf'<fieldset class="day[^"]*" id="{day}">(.*?)</fieldset>', html, re.S)
    assert match, f"no fieldset for {day}"
    return match.group(1)


def field_block(html: str, field_id: str) -> str:
    """A field's label and what follows it up to the next field."""
    start = html.index(f'for="{field_id}"')
    end = html.find('<label class="field', start + 1)
    return html[start:end if end != -1 else None]


# --- The list ---------------------------------------------------------------------------


def test_branch_list_shows_each_branch_with_its_codes_scans_and_responses(app, admin):
    html = page(admin, "/admin/branches/")
    with app.app_context():
        shanghai = db.session.scalar(select(Branch).where(Branch.code == "SH-PEOPLE"))
        scans = sum(qr.scan_count for qr in shanghai.qr_codes)
        responses = sum(qr.response_count for qr in shanghai.qr_codes)
        row = re.search(rf'<tr id="branch-{shanghai.id}">(.*?)</tr>', html, re.S).group(1)
    assert "SH-PEOPLE" in row and "上海人民广场店" in row and "Asia/Shanghai" in row and "Active" in row
    assert '<td class="codes">2</td>' in row
    assert f'<td class="scans">{scans}</td>' in row and scans > 0
    assert f'<td class="responses">{responses}</td>' in row and responses > 0
    for code in ("HZ-WESTLAKE", "LDN-SOHO"):
        assert code in html


def test_branch_list_filters_active_and_inactive_branches(app, admin):
    with app.app_context():
        db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO")).active = False
        db.session.commit()
    active = page(admin, "/admin/branches/?status=active")
    inactive = page(admin, "/admin/branches/?status=inactive")
    assert "SH-PEOPLE" in active and "LDN-SOHO" not in active
    assert "LDN-SOHO" in inactive and "SH-PEOPLE" not in inactive
    assert "HZ-WESTLAKE" in page(admin, "/admin/branches/?q=westlake")


# --- Create and edit ----------------------------------------------------------------------


def test_admin_creates_a_branch_with_its_hours_and_first_qr_code_and_downloads_its_poster(app, admin):
    form_page = page(admin, "/admin/branches/new")
    assert 'value="09:00"' in form_page and 'value="Entrance"' in form_page
    hours = {day: [("10:00", "14:00"), ("17:00", "00:00")] for day in WEEKDAYS[:5]}
    hours["sat"] = [("10:00", "18:00")]  # Sunday closed
    response = admin.post("/admin/branches/new", data=branch_form(
        form_page, code="gz-tianhe", hours=hours, first_code_label="正门 Main door"))
    assert response.status_code == 303
    created = branch(app, "GZ-TIANHE")  # codes are kept in capitals
    assert response.headers["Location"].endswith(f"/admin/branches/{created.id}")
    assert created.name == "广州天河店" and created.region == "华南 South China" and created.active
    assert created.opening_hours["mon"] == [["10:00", "14:00"], ["17:00", "24:00"]]  # 00:00 closes at midnight
    assert created.opening_hours["sat"] == [["10:00", "18:00"]] and "sun" not in created.opening_hours
    [code] = created.qr_codes
    assert code.label == "正门 Main door" and not code.revoked
    assert audit_actions(app, "branch", created.id) == ["create"]
    assert audit_actions(app, "qr_code", code.id) == ["create"]

    shown = page(admin, response.headers["Location"])
    assert "created with its first QR code" in shown
    assert 'value="00:00"' in day_block(shown, "mon")  # midnight shown as a time input can show it
    assert 'checked' in day_block(shown, "sun")
    poster = admin.get(re.search(rf'id="poster-{code.id}" href="([^"]+)"', shown).group(1))
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    assert admin.get(f"/s/{code.token}").status_code == 200


BAD_HOURS = {
    "ends before it starts": ({"mon": [("21:00", "09:00")]}, "mon", "Overlapping or empty business hours"),
    "ends when it starts": ({"mon": [("09:00", "09:00")]}, "mon", "Overlapping or empty business hours"),
    "two intervals overlap": ({"tue": [("09:00", "14:00"), ("13:00", "18:00")]}, "tue", "overlap"),
    "not a time": ({"wed": [("25:00", "18:00")]}, "wed", "Use a time like 09:00."),
    "no closing time": ({"thu": [("09:00", "")]}, "thu", "Give the closing time too."),
    "neither hours nor closed": ({"fri": [("", "")]}, "fri", "Enter the opening hours, or tick Closed."),
}


@pytest.mark.parametrize("case", BAD_HOURS, ids=list(BAD_HOURS))
def test_bad_business_hours_are_refused_at_their_day_keeping_what_was_typed(app, admin, case):
    bad, day, message = BAD_HOURS[case]
    hours = {**EVERY_DAY, **bad}
    before = count(app, Branch)
    response = admin.post("/admin/branches/new", data=branch_form(page(admin, "/admin/branches/new"), hours=hours))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in day_block(html, day)
    assert 'role="alert"' in day_block(html, day)
    for other in set(WEEKDAYS) - {day}:
        assert 'role="alert"' not in day_block(html, other)
    for opens, closes in bad[day]:
        for typed in (opens, closes):
            if typed:
                assert f'value="{typed}"' in day_block(html, day)
    assert 'value="GZ-TIANHE"' in html and 'value="广州天河店"' in html
    assert count(app, Branch) == before


def test_a_branch_closed_all_week_is_refused(app, admin):
    response = admin.post("/admin/branches/new", data=branch_form(page(admin, "/admin/branches/new"), hours={}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    hours_section = html[html.index('id="hours"'):]
    assert "Overlapping or empty business hours: the branch would be closed all week" in hours_section
    assert branch(app, "GZ-TIANHE") is None


def test_unknown_time_zone_and_taken_code_are_refused_at_their_fields(app, admin):
    before = count(app, Branch)
    response = admin.post("/admin/branches/new", data=branch_form(
        page(admin, "/admin/branches/new"), code="sh-people", timezone="Mars/Olympus_Mons"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another branch already has this code." in field_block(html, "code")
    assert "Unknown time zone" in field_block(html, "timezone")
    assert 'value="sh-people"' in html
    assert count(app, Branch) == before


def test_every_problem_of_a_form_is_shown_at_once(app, admin):
    hours = {**EVERY_DAY, "tue": [("09:00", "14:00"), ("13:00", "18:00")], "wed": [("09:00", "")]}
    response = admin.post("/admin/branches/new", data=branch_form(
        page(admin, "/admin/branches/new"), code="a b", timezone="Nowhere/Town", hours=hours))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Use only letters, digits, - and _" in field_block(html, "code")
    assert "Unknown time zone" in field_block(html, "timezone")
    assert "overlap" in day_block(html, "tue")
    assert "Give the closing time too." in day_block(html, "wed")
    assert "closed all week" not in html


def test_time_zone_list_offers_the_common_zones_first(admin):
    html = page(admin, "/admin/branches/new")
    zones = re.findall(r'<option (?:selected )?value="([^"]+)"', field_block(html, "timezone"))
    assert zones[:2] == ["Asia/Shanghai", "Asia/Hong_Kong"] and "Europe/London" in zones[:10]
    assert "America/Argentina/Buenos_Aires" in zones


def test_editing_a_branch_saves_it_and_records_only_what_changed(app, admin):
    london = branch(app, "LDN-SOHO")
    html = page(admin, f"/admin/branches/{london.id}")
    assert 'value="LDN-SOHO"' in html and 'value="10:00"' in day_block(html, "mon")
    assert '<option selected value="Europe/London">' in html
    response = admin.post(f"/admin/branches/{london.id}", data=branch_form(
        html, code="LDN-SOHO", name="London Soho Square", region="Europe", timezone="Europe/London",
        hours={day: [("10:00", "22:00")] for day in WEEKDAYS}, default_language="en"))
    assert response.status_code == 303
    assert branch(app, "LDN-SOHO").name == "London Soho Square"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "branch",
                                                           AuditEntry.entity_id == london.id))
        assert entry.action == "update" and entry.user.username == "admin"
        assert entry.before == {"name": "London Soho"} and entry.after == {"name": "London Soho Square"}


def test_editing_a_branch_to_a_taken_code_is_refused_and_nothing_changes(app, admin):
    london = branch(app, "LDN-SOHO")
    html = page(admin, f"/admin/branches/{london.id}")
    response = admin.post(f"/admin/branches/{london.id}", data=branch_form(
        html, code="HZ-WESTLAKE", name="Renamed", timezone="Europe/London"))
    assert response.status_code == 422
    assert "Another branch already has this code." in field_block(response.get_data(as_text=True), "code")
    assert branch(app, "LDN-SOHO").name == "London Soho"
    assert audit_actions(app, "branch", london.id) == []


def _open_business_hours_ticket(app) -> Ticket:
    with app.app_context():
        counted = set(db.session.scalars(select(SlaPolicy.priority).where(SlaPolicy.business_hours.is_(True))))
        tickets = db.session.scalars(select(Ticket).where(
            Ticket.status.in_([TicketStatus.NEW, TicketStatus.IN_PROGRESS]), Ticket.resolution_due_at.is_not(None))
        ).all()
        found = next(t for t in tickets if str(t.priority) in counted)
        found.branch  # loaded
        return found


def _resolution_due(app, ticket_id: int):
    with app.app_context():
        return db.session.get(Ticket, ticket_id).resolution_due_at


def test_shorter_business_hours_move_the_due_times_of_the_branch_open_tickets(app, admin):
    ticket = _open_business_hours_ticket(app)
    target = ticket.branch
    html = page(admin, f"/admin/branches/{target.id}")
    response = admin.post(f"/admin/branches/{target.id}", data=branch_form(
        html, code=target.code, name=target.name, region=target.region, timezone=target.timezone,
        hours={day: [("10:00", "12:00")] for day in WEEKDAYS[:5]}))
    assert response.status_code == 303
    assert _resolution_due(app, ticket.id) > ticket.resolution_due_at


def test_deactivated_branch_codes_say_the_survey_is_closed_until_it_is_reactivated(app, admin, demo):
    shanghai = branch(app, "SH-PEOPLE")
    token = demo["tokens"]["SH-PEOPLE"]
    confirm = page(admin, f"/admin/branches/{shanghai.id}/deactivate")
    assert "Deactivate branch" in confirm and branch(app, "SH-PEOPLE").active  # asking changes nothing
    response = admin.post(f"/admin/branches/{shanghai.id}/deactivate", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 303
    assert not branch(app, "SH-PEOPLE").active
    survey = admin.get(f"/s/{token}")
    assert survey.status_code == 410 and "This survey is closed right now" in survey.get_data(as_text=True)
    assert "Inactive" in page(admin, f"/admin/branches/{shanghai.id}")

    response = admin.post(f"/admin/branches/{shanghai.id}/activate", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 303 and branch(app, "SH-PEOPLE").active
    assert admin.get(f"/s/{token}").status_code == 200
    assert audit_actions(app, "branch", shanghai.id) == ["deactivate", "activate"]


def test_unknown_branch_and_code_pages_are_404(admin):
    assert admin.get("/admin/branches/999").status_code == 404
    assert admin.get("/admin/branches/codes/999").status_code == 404


def test_supervisors_cannot_open_the_branch_admin(client, demo):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get("/admin/branches/").status_code == 403
    assert client.get("/admin/branches/new").status_code == 403


# --- QR codes ---------------------------------------------------------------------------


def code_by_token(app, token: str) -> QrCode:
    with app.app_context():
        return db.session.scalar(select(QrCode).where(QrCode.token == token))


def test_branch_page_lists_codes_with_counts_and_download_links(app, admin, demo):
    code = code_by_token(app, demo["tokens"]["SH-PEOPLE"])
    html = page(admin, f"/admin/branches/{code.branch_id}")
    row = re.search(rf'<tr id="code-{code.id}">(.*?)</tr>', html, re.S).group(1)
    assert "入口 Entrance" in row and "In use" in row
    assert f'<td class="scans">{code.scan_count}</td>' in row
    assert f'<td class="responses">{code.response_count}</td>' in row
    for link in (f"/qr/{code.id}/poster.pdf", f"/qr/{code.id}.png", f"/qr/{code.id}.svg"):
        assert f'href="{link}"' in row
        assert admin.get(link).status_code == 200


def test_rotating_a_code_retires_the_old_url_politely_and_the_new_one_works(app, admin, demo):
    old = code_by_token(app, demo["tokens"]["SH-PEOPLE/kiosk"])
    confirm = page(admin, f"/admin/branches/codes/{old.id}/rotate")
    assert "Printed posters of the old code stop working" in confirm
    assert not code_by_token(app, old.token).revoked  # the confirmation page changes nothing
    response = admin.post(f"/admin/branches/codes/{old.id}/rotate", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 303

    with app.app_context():
        new = db.session.scalar(select(QrCode).where(QrCode.branch_id == old.branch_id).order_by(QrCode.id.desc()))
        assert (new.label, new.is_kiosk, new.questionnaire_id) == (old.label, True, old.questionnaire_id)
        assert new.token != old.token and new.scan_count == 0
    assert response.headers["Location"].endswith(f"#code-{new.id}")
    retired = admin.get(f"/s/{old.token}")
    assert retired.status_code == 410
    assert "This QR code is no longer in use" in retired.get_data(as_text=True)
    assert admin.get(f"/s/{new.token}").status_code == 200
    assert code_by_token(app, old.token).scan_count == old.scan_count  # history stays
    assert audit_actions(app, "qr_code", old.id) == ["rotate"]
    assert audit_actions(app, "qr_code", new.id) == ["create"]


def test_revoking_a_code_asks_first_then_retires_it(app, admin, demo):
    code = code_by_token(app, demo["tokens"]["HZ-WESTLAKE"])
    confirm = page(admin, f"/admin/branches/codes/{code.id}/revoke")
    assert "Revoke code" in confirm and not code_by_token(app, code.token).revoked
    response = admin.post(f"/admin/branches/codes/{code.id}/revoke", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 303 and code_by_token(app, code.token).revoked
    assert "no longer in use" in admin.get(f"/s/{code.token}").get_data(as_text=True)
    html = page(admin, f"/admin/branches/{code.branch_id}")
    row = re.search(rf'<tr id="code-{code.id}" class="muted">(.*?)</tr>', html, re.S).group(1)
    assert "Revoked" in row and "poster" not in row
    again = admin.get(f"/admin/branches/codes/{code.id}/revoke")
    assert again.status_code == 303  # a revoked code cannot be changed again
    assert audit_actions(app, "qr_code", code.id) == ["revoke"]
    assert admin.get(f"/qr/{code.id}.png").status_code == 410


def test_relabelling_a_code_keeps_its_token_and_can_pin_a_questionnaire(app, admin, demo):
    code = code_by_token(app, demo["tokens"]["LDN-SOHO"])
    html = page(admin, f"/admin/branches/codes/{code.id}")
    questionnaire_id = re.findall(r'<option value="(\d+)">', field_block(html, "questionnaire_id"))[0]
    response = admin.post(f"/admin/branches/codes/{code.id}", data={
        "csrf_token": csrf_token(html), "label": "Window table", "is_kiosk": "y", "questionnaire_id": questionnaire_id})
    assert response.status_code == 303
    changed = code_by_token(app, code.token)
    assert (changed.label, changed.is_kiosk, changed.questionnaire_id) == ("Window table", True, int(questionnaire_id))
    assert admin.get(f"/s/{code.token}").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "qr_code",
                                                           AuditEntry.entity_id == code.id))
        assert entry.action == "update" and entry.after["label"] == "Window table" and entry.label.startswith("LDN-SOHO")


def test_a_code_needs_a_label(app, admin, demo):
    code = code_by_token(app, demo["tokens"]["LDN-SOHO"])
    html = page(admin, f"/admin/branches/codes/{code.id}")
    response = admin.post(f"/admin/branches/codes/{code.id}", data={"csrf_token": csrf_token(html), "label": " "})
    assert response.status_code == 422
    assert "Give the QR code a label" in field_block(response.get_data(as_text=True), "label")
    assert code_by_token(app, code.token).label == "入口 Entrance"


def test_new_code_form_adds_a_kiosk_code_to_the_branch(app, admin):
    london = branch(app, "LDN-SOHO")
    html = page(admin, f"/admin/branches/{london.id}")
    response = admin.post(f"/admin/branches/{london.id}/codes", data={
        "code-csrf_token": csrf_token(html), "code-label": "Counter", "code-is_kiosk": "y", "code-questionnaire_id": "0"})
    assert response.status_code == 303
    added = branch(app, "LDN-SOHO").qr_codes[-1]
    assert (added.label, added.is_kiosk, added.questionnaire_id) == ("Counter", True, None)
    assert audit_actions(app, "qr_code", added.id) == ["create"]
    refused = admin.post(f"/admin/branches/{london.id}/codes", data={
        "code-csrf_token": csrf_token(html), "code-label": "", "code-questionnaire_id": "0"})
    assert refused.status_code == 422
    assert "Give the QR code a label" in field_block(refused.get_data(as_text=True), "code-label")


@pytest.mark.parametrize("format, mimetype", [("pdf", "application/pdf"), ("zip", "application/zip")])
def test_all_posters_buttons_start_a_run_whose_page_offers_the_download(app, admin, format, mimetype):
    html = page(admin, "/admin/branches/")
    assert f'name="format" value="{format}"' in html
    response = admin.post("/admin/branches/posters", data={"csrf_token": csrf_token(html), "format": format})
    assert response.status_code == 303
    run_id = int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))
    with app.app_context():
        run = db.session.get(JobRun, run_id)
        assert run.kind == f"posters_{format}" and run.user.username == "admin"
    progress = page(admin, f"/jobs/{run_id}")
    assert f"/jobs/{run_id}/download" in progress
    download = admin.get(f"/jobs/{run_id}/download")
    assert download.status_code == 200 and download.mimetype == mimetype


@pytest.mark.parametrize("base_url", ["http://localhost:5000", "http://127.0.0.1:5000", "http://[::1]:8000"])
def test_admin_is_warned_before_printing_posters_that_carry_a_local_address(app, admin, base_url):
    app.config["LOOPDESK_BASE_URL"] = base_url
    shanghai = branch(app, "SH-PEOPLE")
    for url in ("/admin/branches/", f"/admin/branches/{shanghai.id}"):
        english = page(admin, url + "?lang=en")
        assert 'id="local-address-warning"' in english, url
        assert f"Posters carry {base_url}, an address only this server can open" in english
        assert "Set LOOPDESK_BASE_URL to the address their phones reach before printing." in english
        chinese = page(admin, url + "?lang=zh_Hans")
        assert f"海报上的地址是 {base_url}，只有本服务器能打开" in chinese, url


def test_no_warning_when_posters_carry_the_address_customers_reach(app, admin):
    app.config["LOOPDESK_BASE_URL"] = "https://feedback.example.com"
    html = page(admin, "/admin/branches/?lang=en")
    assert 'id="local-address-warning"' not in html and 'id="font-missing-warning"' not in html
    assert 'id="local-address-warning"' not in page(admin, f"/admin/branches/{branch(app, 'SH-PEOPLE').id}")


def test_admin_is_warned_when_the_poster_font_is_missing(app, admin):
    app.config["LOOPDESK_POSTER_FONT"] = "/nonexistent/poster-font.ttf"
    english = page(admin, "/admin/branches/?lang=en")
    assert "The poster font /nonexistent/poster-font.ttf is not on this server" in english
    assert "本服务器上没有海报字体 /nonexistent/poster-font.ttf" in page(admin, "/admin/branches/?lang=zh_Hans")


def test_posters_with_an_unknown_format_are_refused(admin):
    html = page(admin, "/admin/branches/")
    assert admin.post("/admin/branches/posters", data={"csrf_token": csrf_token(html), "format": "gif"}).status_code == 400


# --- Holidays ---------------------------------------------------------------------------


def holiday_rows(app) -> list[tuple[int | None, date, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Holiday.branch_id, Holiday.day, Holiday.name).order_by(Holiday.id))]


def test_holidays_for_every_branch_and_one_branch_are_added_listed_and_removed(app, admin):
    day = date.today() + timedelta(days=30)
    london = branch(app, "LDN-SOHO")
    html = page(admin, "/admin/branches/holidays")
    assert "Every branch" in html
    response = admin.post("/admin/branches/holidays", data={
        "csrf_token": csrf_token(html), "day": day.isoformat(), "name": "Company day", "branch_id": "0"})
    assert response.status_code == 303
    response = admin.post("/admin/branches/holidays", data={
        "csrf_token": csrf_token(html), "day": (day + timedelta(days=1)).isoformat(), "name": "Refit",
        "branch_id": str(london.id)})
    assert response.status_code == 303
    assert holiday_rows(app) == [(None, day, "Company day"), (london.id, day + timedelta(days=1), "Refit")]

    listed = page(admin, "/admin/branches/holidays")
    assert "Company day" in listed and "Refit" in listed
    london_page = page(admin, f"/admin/branches/{london.id}")
    assert "Company day" in london_page and "Refit" in london_page
    assert "Refit" not in page(admin, f"/admin/branches/{branch(app, 'SH-PEOPLE').id}")

    with app.app_context():
        refit = db.session.scalar(select(Holiday).where(Holiday.name == "Refit"))
    response = admin.post(f"/admin/branches/holidays/{refit.id}/delete",
                          data={"csrf_token": csrf_token(listed), "from_branch": str(london.id)})
    assert response.status_code == 303 and f"/admin/branches/{london.id}" in response.headers["Location"]
    assert holiday_rows(app) == [(None, day, "Company day")]
    assert audit_actions(app, "holiday") == ["create", "create", "delete"]


def test_a_duplicate_holiday_day_is_refused_at_the_date(app, admin):
    day = date.today() + timedelta(days=40)
    shanghai = branch(app, "SH-PEOPLE")
    html = page(admin, "/admin/branches/holidays")
    for scope in ("0", "0", str(shanghai.id)):
        response = admin.post("/admin/branches/holidays", data={
            "csrf_token": csrf_token(html), "day": day.isoformat(), "name": "Staff training", "branch_id": scope})
    assert response.status_code == 422
    assert "already a holiday for every branch" in field_block(response.get_data(as_text=True), "day")
    assert 'value="Staff training"' in response.get_data(as_text=True)
    assert holiday_rows(app) == [(None, day, "Staff training")]

    branch_page = page(admin, f"/admin/branches/{shanghai.id}")
    other_day = (day + timedelta(days=1)).isoformat()
    for _ in range(2):
        response = admin.post(f"/admin/branches/{shanghai.id}/holidays", data={
            "holiday-csrf_token": csrf_token(branch_page), "holiday-day": other_day, "holiday-name": "Stocktake"})
    assert response.status_code == 422
    assert "already a holiday for this branch" in field_block(response.get_data(as_text=True), "holiday-day")
    assert len(holiday_rows(app)) == 2


def test_a_holiday_needs_a_date_and_a_name(app, admin):
    html = page(admin, "/admin/branches/holidays")
    response = admin.post("/admin/branches/holidays", data={"csrf_token": csrf_token(html), "day": "", "name": "", "branch_id": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in field_block(html, "day") and "Say what the day is" in field_block(html, "name")
    assert holiday_rows(app) == []


def test_a_branch_holiday_moves_its_open_tickets_due_times(app, admin):
    ticket = _open_business_hours_ticket(app)
    due_day = ticket.resolution_due_at.astimezone(ticket.branch.zone).date()
    html = page(admin, f"/admin/branches/{ticket.branch_id}")
    response = admin.post(f"/admin/branches/{ticket.branch_id}/holidays", data={
        "holiday-csrf_token": csrf_token(html), "holiday-day": due_day.isoformat(), "holiday-name": "Flood"})
    assert response.status_code == 303
    assert _resolution_due(app, ticket.id) > ticket.resolution_due_at


def test_holiday_pages_show_the_public_holidays_the_clocks_apply(app, admin):
    html = page(admin, "/admin/branches/holidays")
    assert "China" in html and "United Kingdom" in html
    assert "National Day" in html or "Spring Festival" in html  # CN: always within the next 12 months
    assert "Christmas Day" in html  # GB
    london = page(admin, f"/admin/branches/{branch(app, 'LDN-SOHO').id}")
    assert "Christmas Day" in london and "National Day" not in london


def test_past_custom_holidays_are_shown_on_request(app, admin):
    with app.app_context():
        db.session.add(Holiday(branch_id=None, day=utcnow().date() - timedelta(days=20), name="Old closure"))
        db.session.commit()
    assert "Old closure" not in page(admin, "/admin/branches/holidays")
    assert "Old closure" in page(admin, "/admin/branches/holidays?past=1")


def test_a_new_time_zone_moves_the_branch_responses_to_their_new_local_days_on_the_dashboard(app, admin):
    from app.models import Response, ResponseRollup
    from app.services.insight.rollups import local_day

    london = branch(app, "LDN-SOHO")
    html = page(admin, f"/admin/branches/{london.id}")
    response = admin.post(f"/admin/branches/{london.id}", data=branch_form(
        html, code=london.code, name=london.name, region=london.region, timezone="Pacific/Auckland"))
    assert response.status_code == 303
    with app.app_context():
        submitted = db.session.scalars(select(Response.submitted_at).where(
            Response.branch_id == london.id, Response.submitted_at.is_not(None))).all()
        expected: dict = {}
        for moment in submitted:
            day = local_day(moment, "Pacific/Auckland")
            expected[day] = expected.get(day, 0) + 1
        rolled: dict = {}
        for day, responses in db.session.execute(select(ResponseRollup.day, ResponseRollup.responses).where(
                ResponseRollup.branch_id == london.id)):
            rolled[day] = rolled.get(day, 0) + responses
    assert expected and rolled == expected


def _page_on(monkeypatch, client, url: str, moment: datetime) -> str:
    monkeypatch.setattr("app.blueprints.admin.branches.utcnow", lambda: moment)
    return page(client, url)


def test_the_chinese_breaks_are_listed_whole_with_names_in_the_pages_language(app, admin, monkeypatch):
    shanghai = branch(app, "SH-PEOPLE")
    moment = datetime(2025, 1, 10, tzinfo=UTC)

    english = _page_on(monkeypatch, admin, f"/admin/branches/{shanghai.id}?lang=en", moment)
    chinese = _page_on(monkeypatch, admin, f"/admin/branches/{shanghai.id}?lang=zh_Hans", moment)

    assert "Saturday, February 1, 2025: Chinese New Year (Spring Festival)" in english  # a weekend day of the break
    assert "estimated-years" not in english  # 2025 and January 2026: both announced
    assert "2025年2月1日星期六: 春节" in chinese


def test_a_year_the_package_only_estimates_is_said_on_the_branch_calendar_page(app, admin, monkeypatch):
    shanghai = branch(app, "SH-PEOPLE")

    html = _page_on(monkeypatch, admin, f"/admin/branches/{shanghai.id}?lang=en", datetime(2026, 12, 2, tzinfo=UTC))

    assert "Not announced yet for 2027" in html
    london = branch(app, "LDN-SOHO")
    assert "Not announced yet" not in _page_on(
        monkeypatch, admin, f"/admin/branches/{london.id}", datetime(2026, 12, 2, tzinfo=UTC)
    )


def _calendar_of(app, code: str):
    from app.services.branches import calendars

    with app.app_context():
        return calendars.calendar_for(db.session.scalar(select(Branch).where(Branch.code == code)))


def _closed_all_day(calendar, day: date) -> bool:
    from app.core.calendars import open_intervals

    zone = ZoneInfo(calendar.timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    return not list(open_intervals(calendar, start, start + timedelta(days=1)))


def test_london_follows_england_and_wales_bank_holidays_by_default(app, admin):
    html = page(admin, f"/admin/branches/{branch(app, 'LDN-SOHO').id}?lang=en")
    london = _calendar_of(app, "LDN-SOHO")

    assert (london.holiday_country, london.holiday_subdivision) == ("GB", "ENG")
    assert _closed_all_day(london, date(2026, 4, 6))  # Easter Monday
    assert _closed_all_day(london, date(2026, 8, 31))  # Summer bank holiday
    assert not _closed_all_day(london, date(2026, 8, 3))  # Scotland's, not England's
    assert "From the time zone: United Kingdom: England" in html
    assert 'id="public-GB-ENG"' in html


def test_an_admin_sets_the_holiday_region_and_it_is_audited(app, admin):
    london = branch(app, "LDN-SOHO")
    url = f"/admin/branches/{london.id}"
    data = branch_form(page(admin, url), code="LDN-SOHO", name="London Soho", region="Europe",
                       timezone="Europe/London", holiday_region="GB-SCT")

    assert admin.post(url, data=data).status_code == 303

    scotland = _calendar_of(app, "LDN-SOHO")
    assert _closed_all_day(scotland, date(2026, 8, 3)) and not _closed_all_day(scotland, date(2026, 8, 31))
    assert branch(app, "LDN-SOHO").holiday_region == "GB-SCT"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "branch")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.before["holiday_region"] is None and entry.after["holiday_region"] == "GB-SCT"


@pytest.mark.parametrize("region", ["XX", "GB-XYZ", "gb-eng", "CN-"])
def test_an_unknown_holiday_region_is_refused_at_its_field(app, admin, region):
    london = branch(app, "LDN-SOHO")
    url = f"/admin/branches/{london.id}"
    data = branch_form(page(admin, url), code="LDN-SOHO", name="London Soho", region="Europe",
                       timezone="Europe/London", holiday_region=region)

    response = admin.post(url + "?lang=en", data=data)

    assert response.status_code == 422
    assert "Unknown holiday region" in field_block(response.get_data(as_text=True), "holiday_region")
    assert branch(app, "LDN-SOHO").holiday_region is None


def test_a_branch_open_on_public_holidays_keeps_its_weekly_hours_on_them(app, admin):
    shanghai = branch(app, "SH-PEOPLE")
    url = f"/admin/branches/{shanghai.id}"
    with app.app_context():
        db.session.add(Holiday(branch_id=shanghai.id, day=date(2026, 10, 8), name="Stocktaking"))
        db.session.commit()
    data = branch_form(page(admin, url), code="SH-PEOPLE", name=shanghai.name, region=shanghai.region,
                       timezone="Asia/Shanghai", hours=shanghai.opening_hours, open_on_public_holidays="y")

    assert admin.post(url, data=data).status_code == 303

    calendar = _calendar_of(app, "SH-PEOPLE")
    assert not _closed_all_day(calendar, date(2026, 10, 1))  # National Day: open on its weekly hours
    assert not _closed_all_day(calendar, date(2026, 10, 4))  # the Sunday inside the break too
    assert _closed_all_day(calendar, date(2026, 10, 8))  # its own closed day still closes it
    html = page(admin, url + "?lang=en")
    assert 'id="open-on-public-holidays"' in html and "public-CN" not in html
    assert shanghai.name not in page(admin, "/admin/branches/holidays").split("Public holidays the SLA clocks apply")[1]


def test_supervisors_cannot_change_a_branchs_holiday_region(app, client, demo):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    london = branch(app, "LDN-SOHO")

    token = csrf_token(page(client, "/supervisor/board"))
    response = client.post(f"/admin/branches/{london.id}", data={"csrf_token": token, "holiday_region": "GB-SCT",
                                                                 "open_on_public_holidays": "y"})

    assert response.status_code == 403
    assert branch(app, "LDN-SOHO").holiday_region is None


def test_a_branch_language_is_chosen_saved_and_checked(app, admin):
    hangzhou = branch(app, "HZ-WESTLAKE")
    html = page(admin, f"/admin/branches/{hangzhou.id}")
    assert 'name="default_language"' in html
    form = dict(code=hangzhou.code, name=hangzhou.name, region=hangzhou.region, timezone=hangzhou.timezone)
    response = admin.post(f"/admin/branches/{hangzhou.id}", data=branch_form(html, **form, default_language="en"))
    assert response.status_code == 303 and branch(app, "HZ-WESTLAKE").default_language == "en"
    refused = admin.post(f"/admin/branches/{hangzhou.id}", data=branch_form(html, **form, default_language="fr"))
    assert refused.status_code == 422 and branch(app, "HZ-WESTLAKE").default_language == "en"
