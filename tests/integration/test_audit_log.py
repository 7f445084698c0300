"""The audit log records what changed (only what changed), and the page filters it."""
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.models import AuditEntry, Branch, User
from app.services import audit
from tests.conftest import login

FIELDS = ("name", "region", "timezone", "active")


def _admin():
    return db.session.scalar(select(User).where(User.username == "admin"))


def test_update_records_only_the_fields_that_changed(app, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE"))
        before = audit.values(branch, FIELDS)
        branch.region = "华东二区"
        entry = audit.record(_admin(), "update", branch, before=before, after=audit.values(branch, FIELDS))
        db.session.commit()
        assert entry.before == {"region": before["region"]}
        assert entry.after == {"region": "华东二区"}
        assert entry.label == "HZ-WESTLAKE" and entry.entity_type == "branch"


def test_an_update_that_changes_nothing_leaves_no_entry(app, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE"))
        same = audit.values(branch, FIELDS)
        assert audit.record(_admin(), "update", branch, before=same, after=dict(same)) is None
        db.session.commit()
        assert db.session.scalar(select(db.func.count(AuditEntry.id))) == 0


def test_audit_page_filters_by_what_and_shows_before_and_after(app, client, demo):
    with app.app_context():
        admin = _admin()
        for code, region in (("HZ-WESTLAKE", "East"), ("LDN-SOHO", "UK South")):
            branch = db.session.scalar(select(Branch).where(Branch.code == code))
            before = audit.values(branch, FIELDS)
            branch.region = region
            audit.record(admin, "update", branch, before=before, after=audit.values(branch, FIELDS))
        audit.record(admin, "deactivate", admin, before={"active": True}, after={"active": False}, label="someone")
        db.session.commit()
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "LDN-SOHO" in page and "HZ-WESTLAKE" in page and "someone" in page
    page = client.get("/admin/audit/", query_string={"entity_type": "branch", "q": "soho"}).get_data(as_text=True)
    assert "LDN-SOHO" in page and "HZ-WESTLAKE" not in page and "someone" not in page
    assert "<dd>UK South</dd>" in page
    page = client.get("/admin/audit/", query_string={"action": "deactivate"}).get_data(as_text=True)
    assert "someone" in page and "LDN-SOHO" not in page


def test_audit_page_filters_by_day_in_head_office_time(app, client, demo):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.code == "LDN-SOHO"))
        entry = audit.record(_admin(), "update", branch, before={"region": "a"}, after={"region": "b"})
        entry.at = utcnow() - timedelta(days=3)
        db.session.commit()
        shanghai_day = entry.at.astimezone(branch.zone.__class__("Asia/Shanghai")).date()
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get("/admin/audit/", query_string={"since": shanghai_day.isoformat(), "until": shanghai_day.isoformat()}).get_data(as_text=True)
    assert "LDN-SOHO" in page
    later = (shanghai_day + timedelta(days=1)).isoformat()
    page = client.get("/admin/audit/", query_string={"since": later}).get_data(as_text=True)
    assert "LDN-SOHO" not in page
    assert client.get("/admin/audit/", query_string={"since": "not a date", "user_id": "x"}).status_code == 200
