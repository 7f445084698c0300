"""Exports of responses and tickets: what a supervisor downloads, in their language and scope only."""
import csv
import io
import re
import secrets
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app import labels
from app.extensions import db
from app.i18n import flag_label
from app.models import (
    Answer,
    Branch,
    JobRun,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    Response,
    Role,
    Ticket,
    User,
)
from app.services import exports, job_runs
from app.services.exports import responses as exports_responses, tickets as exports_tickets
from app.services.insight.filters import InsightFilter
from app.services.questionnaires.templates import publish_version
from app.services.survey.plans import plan_for
from tests.conftest import csrf_token, login

FIXED_RESPONSE_COLUMNS = len(exports_responses.RESPONSE_COLUMNS)
#: The demo questionnaire's questions that get a column (all but the contact question).
DEMO_QUESTION_KEYS = ["product", "service", "service_problem", "environment", "nps", "comment"]
#: 2026-03-01 16:30 UTC is already 2 March, 00:30, in Shanghai.
LATE_EVENING_UTC = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)


# --- helpers -----------------------------------------------------------------------------------


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _branch(code):
    return db.session.scalar(select(Branch).where(Branch.code == code))


def _add_response(app, branch_code="SH-PEOPLE", submitted_at=LATE_EVENING_UTC, answers=None, flags=(), review=None,
                  version_id=None):
    """A submitted response with the given answers (by question key); returns its id."""
    with app.app_context():
        branch = _branch(branch_code)
        if version_id is None:
            version_id = db.session.scalar(select(Questionnaire.current_version_id).where(Questionnaire.code == "satisfaction"))
        plan = plan_for(version_id)
        response = Response(
            branch_id=branch.id, version_id=version_id, language="zh_Hans", device_id=secrets.token_hex(8),
            idempotency_key=secrets.token_urlsafe(24), started_at=submitted_at, submitted_at=submitted_at,
            duration_seconds=50, quality_flags=list(flags), quality_review=review, processed_at=submitted_at,
        )
        for key, value in (answers or {}).items():
            response.answers.append(Answer(
                question_id=plan.by_key[key].id,
                value_int=value if isinstance(value, int) else None,
                value_choices=value if isinstance(value, list) else None,
                value_text=value if isinstance(value, str) else None,
            ))
        db.session.add(response)
        db.session.commit()
        return response.id


def _export(app, kind, username="admin", language="en", **filters):
    """Run an export as ``username`` (in process, as without Redis); returns the finished run."""
    subject, file_format = kind.split("_")
    with app.app_context():
        run = exports.start_export(_user(username), subject, file_format, language, InsightFilter(**filters))
        run = db.session.get(JobRun, run.id)
        assert run.status == "done", run.error
        store, key = job_runs.stored_file(run)
        db.session.expunge(run)
        run.data = io.BytesIO(b"".join(store.chunks(key)))  # from whichever store LOOPDESK_FILE_STORE names
        return run


def _rows(run):
    """The file's rows (header first) as lists of cell values."""
    if run.file_name.endswith(".csv"):
        data = run.data.getvalue()
        assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would misread Chinese"
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    book = openpyxl.load_workbook(run.data, read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def _by_id(rows):
    return {int(row[0]): row for row in rows[1:]}


# --- responses: content --------------------------------------------------------------------------


def test_responses_csv_has_a_row_per_submitted_unflagged_response_and_a_column_per_question(app, demo):
    run = _export(app, "responses_csv")
    rows = _rows(run)
    header = rows[0]
    assert len(header) == FIXED_RESPONSE_COLUMNS + len(DEMO_QUESTION_KEYS)
    assert header[:3] == ["Response ID", "Reference code", "Submitted at (branch time)"]
    assert [re.search(r"\[(\w+)\]$", h).group(1) for h in header[FIXED_RESPONSE_COLUMNS:]] == DEMO_QUESTION_KEYS
    assert "How satisfied are you with our service? [service]" in header
    assert all(len(row) == len(header) for row in rows)
    with app.app_context():
        expected = db.session.scalars(
            select(Response.id).where(Response.submitted_at.is_not(None)).order_by(Response.id)
        ).all()
        flagged = {r.id for r in db.session.scalars(select(Response)) if r.quality_flags}
    assert [int(row[0]) for row in rows[1:]] == [i for i in expected if i not in flagged]
    assert run.file_name.startswith("loopdesk-responses-") and run.mimetype == "text/csv"


def test_answers_read_in_english_with_option_labels_joined(app, demo):
    response_id = _add_response(app, answers={
        "product": 4, "service": 2, "service_problem": ["waiting", "attitude"], "environment": 5, "nps": 3,
        "comment": "Too slow",
    })
    row = _by_id(_rows(_export(app, "responses_csv", language="en")))[response_id]
    questions = dict(zip(DEMO_QUESTION_KEYS, row[FIXED_RESPONSE_COLUMNS:]))
    assert questions == {
        "product": "4", "service": "2", "service_problem": "Waiting time was too long; Staff attitude",
        "environment": "5", "nps": "3", "comment": "Too slow",
    }
    assert row[7:10] == ["Customer satisfaction survey", "1", "zh_Hans"]
    csat_mean, nps, index = row[11:14]
    assert (csat_mean, nps) == ("3.67", "3")
    assert 3.0 < float(index) < 4.0  # product 4 ×40, service 2 ×35, environment 5 ×25


def test_a_chinese_excel_export_has_chinese_prompts_and_option_labels(app, demo):
    response_id = _add_response(app, answers={"service": 1, "service_problem": ["waiting", "after_sales"]})
    run = _export(app, "responses_xlsx", language="zh_Hans")
    assert run.file_name.endswith(".xlsx")
    rows = _rows(run)
    assert "您对我们的服务满意吗？ [service]" in rows[0]
    assert "服务的哪些方面让您失望？ [service_problem]" in rows[0]
    row = _by_id(rows)[response_id]
    assert row[7] == "顾客满意度调查"
    column = rows[0].index("服务的哪些方面让您失望？ [service_problem]")
    assert row[column] == "等待时间太长; 售后问题"
    assert row[rows[0].index("您对我们的服务满意吗？ [service]")] == 1


def test_submission_times_are_in_the_branchs_time_zone(app, demo):
    shanghai = _add_response(app, "SH-PEOPLE", LATE_EVENING_UTC, {"product": 5})
    london = _add_response(app, "LDN-SOHO", datetime(2026, 7, 1, 12, 0, tzinfo=UTC), {"product": 5})
    csv_rows = _by_id(_rows(_export(app, "responses_csv")))
    assert csv_rows[shanghai][2:4] == ["2026-03-02 00:30:00", "Asia/Shanghai"]
    assert csv_rows[london][2:4] == ["2026-07-01 13:00:00", "Europe/London"]  # summer time
    xlsx_rows = _by_id(_rows(_export(app, "responses_xlsx")))
    assert xlsx_rows[shanghai][2] == datetime(2026, 3, 2, 0, 30)


def test_flagged_responses_are_left_out_unless_asked_for_and_cleared_ones_count(app, demo):
    flagged = _add_response(app, answers={"product": 5}, flags=["too_fast"])
    cleared = _add_response(app, answers={"product": 5}, flags=["too_fast"], review="cleared")
    default = _by_id(_rows(_export(app, "responses_csv")))
    assert flagged not in default and cleared in default
    assert default[cleared][14:16] == ["too fast", "flags cleared"]
    everything = _by_id(_rows(_export(app, "responses_csv", include_flagged=True)))
    assert flagged in everything and cleared in everything
    assert everything[flagged][14] == "too fast"


def test_formula_looking_answers_are_neutralised_in_csv_and_excel(app, demo):
    tricks = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3+4", "@SUM(A1)"]
    ids = [_add_response(app, answers={"comment": text}) for text in tricks]
    csv_rows = _by_id(_rows(_export(app, "responses_csv")))
    assert [csv_rows[i][-1] for i in ids] == ["'" + text for text in tricks]
    run = _export(app, "responses_xlsx")
    xlsx_rows = _by_id(_rows(run))
    assert [xlsx_rows[i][-1] for i in ids] == tricks  # kept as typed, as text
    with zipfile.ZipFile(run.data) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    book = openpyxl.load_workbook(run.data)
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_text_excel_cannot_hold_is_cleaned_instead_of_failing_the_export(app, demo):
    response_id = _add_response(app, answers={"comment": "bell\x07 and\x0b tab"})
    row = _by_id(_rows(_export(app, "responses_xlsx")))[response_id]
    assert row[-1] == "bell and tab"


def test_csv_and_excel_have_the_same_rows_and_columns(app, demo):
    csv_rows = _rows(_export(app, "responses_csv", include_flagged=True))
    run = _export(app, "responses_xlsx", include_flagged=True)
    xlsx_rows = _rows(run)
    assert len(csv_rows) == len(xlsx_rows) == _count_submitted(app) + 1
    assert csv_rows[0] == xlsx_rows[0]
    sheet = openpyxl.load_workbook(run.data).active
    assert (sheet.max_row, sheet.max_column) == (len(csv_rows), len(csv_rows[0]))


def _count_submitted(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)).where(Response.submitted_at.is_not(None)))


def test_the_date_range_is_in_head_office_days(app, demo):
    response_id = _add_response(app, "SH-PEOPLE", LATE_EVENING_UTC, {"product": 3})
    on_second = _by_id(_rows(_export(app, "responses_csv", date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))))
    on_first = _by_id(_rows(_export(app, "responses_csv", date_from=date(2026, 3, 1), date_to=date(2026, 3, 1))))
    assert list(on_second) == [response_id]
    assert on_first == {}


def test_several_versions_share_one_column_per_key_in_order_of_first_appearance(app, demo):
    with app.app_context():
        pulse = Questionnaire(code="pulse", name={"zh_Hans": "快速调查", "en": "Pulse"})
        version = QuestionnaireVersion(questionnaire=pulse, number=1, title={"en": "Pulse"})
        version.questions = [
            Question(key="visit_reason", position=0, type=QuestionType.SINGLE, prompt={"en": "Why did you come?"},
                     options=[{"value": "buy", "label": {"en": "To buy", "zh_Hans": "购物"}}]),
            Question(key="nps", position=1, type=QuestionType.NPS, prompt={"en": "Recommend us?"}),
        ]
        db.session.add(pulse)
        db.session.flush()
        publish_version(version)
        db.session.commit()
        pulse_version = version.id
    response_id = _add_response(app, answers={"visit_reason": ["buy"], "nps": 9}, version_id=pulse_version)
    rows = _rows(_export(app, "responses_csv"))
    keys = [re.search(r"\[(\w+)\]$", h).group(1) for h in rows[0][FIXED_RESPONSE_COLUMNS:]]
    assert keys == DEMO_QUESTION_KEYS + ["visit_reason"]
    row = dict(zip(keys, _by_id(rows)[response_id][FIXED_RESPONSE_COLUMNS:]))
    assert (row["visit_reason"], row["nps"], row["product"]) == ("To buy", "9", "")
    only_pulse = _rows(_export(app, "responses_csv", version_id=pulse_version))
    assert only_pulse[0][FIXED_RESPONSE_COLUMNS:] == ["Why did you come? [visit_reason]", "Recommend us? [nps]"]
    assert list(_by_id(only_pulse)) == [response_id]


# --- scope and access ----------------------------------------------------------------------------


def test_a_supervisor_exports_only_their_branches_even_when_asking_for_another(app, demo):
    london = _add_response(app, "LDN-SOHO", answers={"product": 1})
    with app.app_context():
        london_id = _branch("LDN-SOHO").id
        theirs = db.session.scalar(
            select(func.count(Response.id)).join(Branch)
            .where(Response.submitted_at.is_not(None), Branch.code.in_(["SH-PEOPLE", "HZ-WESTLAKE"]))
        )
    rows = _rows(_export(app, "responses_csv", username="supervisor", include_flagged=True))
    assert london not in _by_id(rows)
    assert {row[4] for row in rows[1:]} <= {"SH-PEOPLE", "HZ-WESTLAKE"} and len(rows) - 1 == theirs
    forged = _rows(_export(app, "responses_xlsx", username="supervisor", branch_ids=(london_id,)))
    assert forged == [forged[0]]  # the header, no rows
    tickets = _rows(_export(app, "tickets_csv", username="supervisor", branch_ids=(london_id,)))
    assert len(tickets) == 1


def test_the_form_refuses_a_branch_outside_the_supervisors_scope(app, client, demo):
    with app.app_context():
        london_id = _branch("LDN-SOHO").id
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get("/exports/").get_data(as_text=True)
    assert "London Soho" not in page and "上海人民广场店" in page
    response = client.post("/exports/", data=_form(page, branch_ids=str(london_id)))
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(JobRun.id))) == 0


def test_staff_may_not_export_and_anonymous_people_are_sent_to_sign_in(app, client, demo):
    assert client.get("/exports/").status_code in (302, 303)
    login(client, "staff", demo["passwords"]["staff"])
    assert client.get("/exports/").status_code == 403
    assert client.post("/exports/", data={"subject": "responses"}).status_code in (400, 403)


def test_an_export_whose_owner_lost_the_right_to_export_fails(app, demo):
    with app.app_context():
        supervisor = _user("supervisor")
        run = JobRun(kind="responses_csv", user_id=supervisor.id, params={"language": "en"})
        db.session.add(run)
        supervisor.role = Role.STAFF
        db.session.commit()
        job_runs.build(run.id)
        run = db.session.get(JobRun, run.id)
        assert run.status == "failed" and run.file_key is None and job_runs.stored_file(run) is None


# --- tickets ---------------------------------------------------------------------------------------


def test_tickets_export_has_a_row_per_ticket_with_labels_times_and_breaches(app, demo):
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).order_by(Ticket.id))
        ticket.first_response_at = ticket.first_response_due_at.replace(year=ticket.first_response_due_at.year + 1)
        ticket.sla_state = "met"
        db.session.commit()
        count = db.session.scalar(select(func.count(Ticket.id)))
        code, zone = ticket.reference_code, ticket.branch.timezone
        created = ticket.created_at.astimezone(ticket.branch.zone).strftime("%Y-%m-%d %H:%M:%S")
    rows = _rows(_export(app, "tickets_csv"))
    header = rows[0]
    assert header == [str(h) for h in exports_tickets.TICKET_COLUMNS] and len(rows) == count + 1
    row = dict(zip(header, next(r for r in rows if r[0] == code)))
    assert row["Created at (branch time)"] == created and row["Time zone"] == zone
    assert row["SLA breached"] == "Yes"  # answered after its due time, though the clock now reads "met"
    assert row["Status"] in ("New", "In progress", "Waiting on customer", "Resolved", "Closed")
    assert row["Source"] == "Survey" and row["Priority"] in ("Urgent", "High", "Normal", "Low")
    xlsx = _rows(_export(app, "tickets_xlsx"))
    assert len(xlsx) == len(rows) and len(xlsx[0]) == len(header)


def test_a_chinese_export_uses_the_chinese_words_for_statuses_and_flags(app, demo):
    flagged = _add_response(app, answers={"product": 5}, flags=["too_fast"])
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).order_by(Ticket.id))
        code, status, priority = ticket.reference_code, str(ticket.status), str(ticket.priority)
        with force_locale("zh_Hans"):
            words = (str(labels.STATUS_LABELS[status]), str(labels.PRIORITY_LABELS[priority]), flag_label("too_fast"))
    tickets = _rows(_export(app, "tickets_csv", language="zh_Hans"))
    row = next(r for r in tickets if r[0] == code)
    assert (row[8], row[7]) == words[:2]
    responses = _by_id(_rows(_export(app, "responses_csv", language="zh_Hans", include_flagged=True)))
    assert responses[flagged][14] == words[2]


# --- the page ----------------------------------------------------------------------------------------


def _form(page, **values):
    data = {
        "csrf_token": csrf_token(page), "subject": "responses", "file_format": "xlsx", "language": "en",
        "date_from": "", "date_to": "", "region": "", "version_id": "0",
    }
    data.update(values)
    return data


def test_a_supervisor_starts_an_export_and_downloads_it_from_the_run_page(app, client, demo):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get("/exports/").get_data(as_text=True)
    response = client.post("/exports/", data=_form(page, language="zh_Hans", include_flagged="y"))
    assert response.status_code == 303
    run_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Responses (Excel)" in run_page and "Download loopdesk-responses-" in run_page
    download = client.get(response.headers["Location"] + "/download")
    assert download.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "public" not in download.headers.get("Cache-Control", "")  # customers' answers: no shared cache keeps them
    book = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True)
    assert "您对我们的服务满意吗？ [service]" in next(book.active.iter_rows(values_only=True))
    assert "Responses (Excel)" in client.get("/exports/").get_data(as_text=True)  # listed as a recent export
    with app.app_context():
        run = db.session.scalar(select(JobRun))
        assert run.params == {"language": "zh_Hans", "filter": InsightFilter(include_flagged=True).to_params()}


def test_a_filter_in_the_address_fills_the_form(app, client, demo):
    with app.app_context():
        hz = _branch("HZ-WESTLAKE").id
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get(f"/exports/?date_from=2026-03-01&branch_ids={hz}&include_flagged=1").get_data(as_text=True)
    assert 'value="2026-03-01"' in page
    assert re.search(rf'checked[^>]*value="{hz}"|value="{hz}"[^>]*checked', page)


@pytest.mark.parametrize("query", [
    "?date_from=yesterday&date_to=2026-02-30&branch_ids=x&branch_ids=-4&version_id=abc&region=%01&include_flagged=maybe",
    "?date_from=0001-01-01&date_to=9999-12-31&version_id=99999999999999999999999",
])
def test_nonsense_in_the_address_is_ignored(app, client, demo, query):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get("/exports/" + query).status_code == 200


def test_a_nul_in_the_address_is_refused(app, client, demo):
    """No browser sends one and PostgreSQL refuses it: every request with one is a 400 (app.blueprints.inputs)."""
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get("/exports/?region=%00").status_code == 400


@pytest.mark.parametrize("values", [
    {"date_from": "2026-13-45"},
    {"date_from": "0001-01-01"},
    {"date_from": "2026-03-02", "date_to": "2026-03-01"},
    {"branch_ids": "abc"},
    {"version_id": "zz"},
    {"region": "Atlantis"},
    {"subject": "everything", "file_format": "pdf", "language": "fr"},
])
def test_bad_form_input_is_shown_at_the_field_and_starts_nothing(app, client, demo, values):
    login(client, "supervisor", demo["passwords"]["supervisor"])
    page = client.get("/exports/").get_data(as_text=True)
    response = client.post("/exports/", data=_form(page, **values))
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(JobRun.id))) == 0


# --- the filter itself ---------------------------------------------------------------------------------


def test_the_filter_reads_forgivingly_and_survives_a_round_trip_through_params(app):
    args = MultiDict([
        ("date_from", "2026-03-09"), ("date_to", "2026-03-01"), ("branch_ids", "3"), ("branch_ids", "x"),
        ("branch_ids", "3"), ("branch_ids", "1"), ("region", "  Eu\x00rope "), ("version_id", "-2"), ("include_flagged", "on"),
    ])
    parsed = InsightFilter.from_args(args)
    assert parsed == InsightFilter(date(2026, 3, 1), date(2026, 3, 9), (1, 3), "Europe", None, True)
    assert InsightFilter.from_params(parsed.to_params()) == parsed
    assert InsightFilter.from_params({"date_from": 5, "branch_ids": "7", "include_flagged": "no"}) == InsightFilter(branch_ids=(7,))
    assert InsightFilter.from_params(None) == InsightFilter()
    with app.app_context():
        start, end = InsightFilter(date(2026, 3, 2), date(2026, 3, 2)).utc_range()
    assert (start, end) == (datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 2, 16, tzinfo=UTC))
