"""Importing customers from CSV and XLSX: preview and mapping, the job, upserts, per-row problems, bad files."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from app.core.contacts import AttributeType
from app.extensions import db
from app.models import AuditEntry, Branch, Customer, CustomerAttribute, CustomerImportProblem, JobRun
from tests.conftest import csrf_token, login

HEADER = "客户编号,姓名,手机,邮箱,公司,门店,价值等级,邮件同意\n"


def admin(client, demo):
    login(client, "admin", demo["passwords"]["admin"])


def tier(app):
    with app.app_context():
        db.session.add(CustomerAttribute(key="tier", labels={"zh_Hans": "价值等级", "en": "Value tier"},
                                         type=AttributeType.CHOICE,
                                         choices=[{"value": v, "labels": {"zh_Hans": z}} for v, z in
                                                  (("high", "高价值"), ("medium", "中价值"), ("low", "低价值"))]))
        db.session.commit()


def upload(client, data: bytes, name: str = "customers.csv", branch: str = "0"):
    page = client.get("/customers/import").get_data(as_text=True)
    return client.post("/customers/import", data={
        "csrf_token": csrf_token(page), "file": (io.BytesIO(data), name), "branch_id": branch,
    }, content_type="multipart/form-data")


def run_import(client, data: bytes, name: str = "customers.csv", mapping: dict | None = None, branch: str = "0"):
    """Upload, accept the guessed mapping (changed by ``mapping``: column index → field), run; the result page."""
    uploaded = upload(client, data, name, branch)
    assert uploaded.status_code == 303, uploaded.get_data(as_text=True)
    page = client.get(uploaded.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(html)}
    for index, chosen in re.findall(r'<select id="col_(\d+)" name="col_\d+">.*?(?:<option selected value="([^"]*)")', html, re.S):
        form[f"col_{index}"] = chosen
    for index, field in (mapping or {}).items():
        form[f"col_{index}"] = field
    started = client.post(uploaded.headers["Location"], data=form)
    assert started.status_code == 303, started.get_data(as_text=True)
    return client.get(started.headers["Location"]).get_data(as_text=True)


def test_a_csv_in_chinese_is_previewed_with_its_columns_guessed_then_imported_by_the_job(app, client, demo):
    tier(app)
    admin(client, demo)
    data = (HEADER + "C001,张伟,138 1234 5678,zhang@example.cn,上海某公司,SH-PEOPLE,高价值,是\n"
            "C002,Alice Smith,020 7946 0018,alice@example.com,,LDN-SOHO,low,否\n").encode("utf-8-sig")
    uploaded = upload(client, data)
    mapping = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "张伟" in mapping and "上海某公司" in mapping
    for index, field in enumerate(["external_id", "name", "phone", "email", "company", "branch", "attr:tier", "consent_email"]):
        assert re.search(rf'name="col_{index}">.*?<option selected value="{re.escape(field)}"', mapping, re.S), field
    result = run_import(client, data)
    assert "2 customers created" in result
    with app.app_context():
        zhang = db.session.scalar(select(Customer).where(Customer.external_id == "C001"))
        alice = db.session.scalar(select(Customer).where(Customer.external_id == "C002"))
        assert zhang.phone == "+8613812345678" and [b.code for b in zhang.branches] == ["SH-PEOPLE"]
        assert alice.phone == "+442079460018"  # read in the London branch's country
        assert zhang.attributes == {"tier": "high"} and zhang.may_contact("email")
        assert zhang.consent("email").consent_source == "import"
        assert not alice.may_contact("email") and alice.consent("email").opted_out_at is not None
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import")).after["created"] == 2


def test_a_second_import_updates_by_external_id_else_phone_else_email_and_a_blank_changes_nothing(app, client, demo):
    admin(client, demo)
    run_import(client, (HEADER + "C001,张伟,13812345678,zhang@example.cn,旧公司,SH-PEOPLE,,\n"
                        ",李娜,13900001111,,,SH-PEOPLE,,\n,王芳,,wang@example.cn,,SH-PEOPLE,,\n").encode())
    result = run_import(client, (HEADER + "C001,张伟伟,,,新公司,,,\n"
                                 ",李娜,+86 139 0000 1111,lina@example.cn,,HZ-WESTLAKE,,\n"
                                 ",王芳,,WANG@example.cn,某公司,,,\n"
                                 "C009,,13812345678,,,,,\n").encode())
    assert "1 customers created, 3 updated" in result
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 4
        zhang = db.session.scalar(select(Customer).where(Customer.external_id == "C001"))
        assert (zhang.name, zhang.company, zhang.phone) == ("张伟伟", "新公司", "+8613812345678")
        lina = db.session.scalar(select(Customer).where(Customer.name == "李娜"))
        assert lina.email == "lina@example.cn" and sorted(b.code for b in lina.branches) == ["HZ-WESTLAKE", "SH-PEOPLE"]
        assert db.session.scalar(select(Customer).where(Customer.name == "王芳")).company == "某公司"
        # a row with another CRM id on a known phone is somebody else
        assert db.session.scalar(select(Customer).where(Customer.external_id == "C009")).id != zhang.id


def test_each_refused_row_is_listed_with_its_column_and_a_reason_in_the_readers_language(app, client, demo):
    tier(app)
    admin(client, demo)
    data = (HEADER + "C001,张伟,12345,zhang@,,SH-PEOPLE,高价值,是\n"
            "C002,李娜,13900001111,,,NOWHERE,超高,也许\n"
            ",没有编号,,,,,,\n"
            "C004,王芳,13800002222,,,,,\n").encode()
    result = run_import(client, data)
    assert "1 customers created, 0 updated, 3 rows refused" in result
    with app.app_context():
        problems = {(p.row, p.column, p.code) for p in db.session.scalars(select(CustomerImportProblem))}
    assert problems == {(2, "手机", "phone_invalid"), (2, "邮箱", "email_invalid"), (3, "门店", "branch_unknown"),
                        (3, "价值等级", "choice_unknown"), (3, "邮件同意", "consent_unclear"), (4, "", "no_identity")}
    run_id = re.search(r"/customers/imports/(\d+)/problems.csv", result).group(1)
    chinese = client.get(f"/customers/imports/{run_id}/problems.csv", headers={"Accept-Language": "zh-CN"})
    text = chinese.get_data(as_text=True)
    assert text.startswith("\ufeff") and "行" in text.splitlines()[0]
    english = client.get(f"/customers/imports/{run_id}/problems.csv").get_data(as_text=True)
    assert "Not a valid phone number" in english and "Not a valid phone number" not in text


def test_gb18030_csv_and_an_xlsx_with_numbers_for_phones_are_read(app, client, demo):
    admin(client, demo)
    run_import(client, "姓名,手机\n张伟,13812345678\n".encode("gb18030"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Mobile", "Email", "Customer ID"])
    sheet.append(["Alice", 13900001111, "alice@example.com", 42])
    sheet.append([None, None, None, None])
    sheet.append(["Bob", "13900002222", None, "B-7"])
    out = io.BytesIO()
    workbook.save(out)
    result = run_import(client, out.getvalue(), "customers.xlsx")
    assert "2 customers created" in result
    with app.app_context():
        assert db.session.scalar(select(Customer.name).where(Customer.phone == "+8613812345678")) == "张伟"
        assert db.session.scalar(select(Customer.external_id).where(Customer.name == "Alice")) == "42"
        assert db.session.scalar(select(Customer.phone).where(Customer.name == "Bob")) == "+8613900002222"


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.csv", "The file is empty."),
    (b"\n\n  \n", "blank.csv", "The file is empty."),
    ("姓名,手机\n".encode(), "header.csv", "The file has a header but no rows."),
    (b"%PDF-1.4\x00\x01\x02\x03 binary", "report.pdf", "This is not a table"),
    (b"PK\x03\x04 not really a zip", "broken.xlsx", "This is not a table"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old", "old.xls", "Old Excel files (.xls)"),
    (b"name\n\xff\xfe\xfd\x80\x81\xff\n", "latin.csv", "neither UTF-8 nor GB18030"),
])
def test_a_file_that_is_no_table_is_answered_with_a_message_not_an_error(app, client, demo, data, name, message):
    admin(client, demo)
    response = upload(client, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"LOOPDESK_CUSTOMER_IMPORT_MAX_MB": 0.01}], indirect=True)
def test_a_file_over_the_limit_is_refused(app, client, demo):
    admin(client, demo)
    response = upload(client, b"name,phone\n" + b"x,13812345678\n" * 2000)
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)


def test_nobody_else_runs_or_reads_an_upload_and_import(app, client, demo):
    admin(client, demo)
    uploaded = upload(client, "姓名,手机\n张伟,13812345678\n".encode())
    location = uploaded.headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/customers/").get_data(as_text=True))})
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get(location).status_code == 403
    assert client.get("/customers/import/upload-1-../../etc").status_code in (403, 404)
