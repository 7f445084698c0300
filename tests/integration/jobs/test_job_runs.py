"""Long tasks that build a file: all posters at once, with progress a page can show, for their owner only."""
import io
import uuid
import zipfile

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import JobRun, QrCode, User
from app.services import job_runs
from tests.conftest import REDIS_URL, login, run_burst_worker


def _start(app, kind, username="admin"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return job_runs.start(kind, user).id


def _codes_in_use(app):
    with app.app_context():
        return db.session.scalar(select(db.func.count(QrCode.id)).where(QrCode.revoked_at.is_(None)))


def test_all_posters_as_one_pdf_has_a_page_per_code_in_use(app, client, demo):
    run_id = _start(app, "posters_pdf")
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "Download loopdesk-posters.pdf" in page
    pdf = client.get(f"/jobs/{run_id}/download")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data.count(b"/Type /Page\n") + pdf.data.count(b"/Type /Page ") >= 1
    assert pdf.data.count(b"/MediaBox") == _codes_in_use(app)


def test_all_posters_as_a_zip_has_one_pdf_per_code(app, client, demo):
    run_id = _start(app, "posters_zip")
    login(client, "admin", demo["passwords"]["admin"])
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/jobs/{run_id}/download").data))
    names = archive.namelist()
    assert len(names) == len(set(names)) == _codes_in_use(app)
    assert all(n.startswith("loopdesk-") and n.endswith(".pdf") for n in names)
    assert archive.read(names[0]).startswith(b"%PDF")


def test_revoked_codes_are_not_printed(app, client, demo):
    with app.app_context():
        qr = db.session.scalar(select(QrCode).order_by(QrCode.id))
        qr.revoked_at = db.func.now()
        db.session.commit()
    run_id = _start(app, "posters_zip")
    with app.app_context():
        run = db.session.get(JobRun, run_id)
        assert run.status == "done" and run.done == run.total == _codes_in_use(app)


def test_a_run_in_progress_shows_its_progress_and_polls(app, client, demo):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin"))
        run = JobRun(kind="posters_pdf", user_id=user.id, status="running", done=3, total=12)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    login(client, "admin", demo["passwords"]["admin"])
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "3 of 12 done" in page and 'value="25"' in page and "hx-trigger" in page
    partial = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "3 of 12 done" in partial
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_someone_elses_run_is_not_found(app, client, demo):
    run_id = _start(app, "posters_pdf")
    login(client, "supervisor", demo["passwords"]["supervisor"])
    assert client.get(f"/jobs/{run_id}").status_code == 404
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_a_failing_build_is_marked_failed_and_says_so(app, client, demo, monkeypatch):
    from app.jobs import files

    def broken(run, out, progress):
        raise RuntimeError("disk full")

    monkeypatch.setitem(files.BUILDERS, "posters_pdf", broken)
    run_id = _start(app, "posters_pdf")
    login(client, "admin", demo["passwords"]["admin"])
    assert "did not work" in client.get(f"/jobs/{run_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(JobRun, run_id).error == "disk full"


@pytest.mark.redis
@pytest.mark.parametrize(
    "app", [{"REDIS_URL": REDIS_URL, "LOOPDESK_QUEUE": f"test-{uuid.uuid4().hex}"}], indirect=True
)
def test_with_redis_the_posters_are_built_by_an_rq_worker_while_the_page_waits(app, client, demo):
    run_id = _start(app, "posters_pdf")
    login(client, "admin", demo["passwords"]["admin"])
    waiting = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "Waiting for its turn" in waiting and "hx-trigger" in waiting
    run_burst_worker(app)
    assert "Download loopdesk-posters.pdf" in client.get(f"/jobs/{run_id}").get_data(as_text=True)
    pdf = client.get(f"/jobs/{run_id}/download")
    assert pdf.data.startswith(b"%PDF") and pdf.data.count(b"/MediaBox") == _codes_in_use(app)
