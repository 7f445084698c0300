"""Files that jobs build, kept where every server reads them: the folder, the database or an S3 bucket.

The database store is what several servers with no shared disk use (PostgreSQL in CI's second run);
S3 runs against moto's in-process S3. Every store streams: neither the build nor the download holds
a file whole in memory.
"""
import hashlib
import io
import os
import tracemalloc

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import FileChunk, JobRun, QrCode, User
from app.services import file_store, job_runs
from tests.conftest import login, make_app

STORES = ["folder", "database", "s3"]


@pytest.fixture
def s3_bucket():
    """A bucket in moto's in-process S3 (no network), for the length of one test."""
    from moto import mock_aws
    import boto3

    with mock_aws():
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="loopdesk-files")
        yield {"LOOPDESK_S3_BUCKET": "loopdesk-files", "LOOPDESK_S3_PREFIX": "test/"}


def _settings(store, request):
    settings = {"LOOPDESK_FILE_STORE": store}
    if store == "s3":
        settings.update(request.getfixturevalue("s3_bucket"))
    return settings


def _posters(app, username="admin"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return job_runs.start("posters_zip", user).id


def _codes_in_use(app):
    with app.app_context():
        return db.session.scalar(select(func.count(QrCode.id)).where(QrCode.revoked_at.is_(None)))


@pytest.mark.parametrize("store", STORES)
def test_a_built_file_downloads_whole_from_each_store(store, request, database_url, tmp_path, _schema_ready):
    app = make_app(database_url, tmp_path, _schema_ready, **_settings(store, request))
    from app.demo import USERS, seed_demo

    with app.app_context():
        seed_demo(responses=0, worked_tickets=False)
    run_id = _posters(app)
    with app.app_context():
        run = db.session.get(JobRun, run_id)
        assert (run.status, run.file_store) == ("done", store) and run.file_size > 0
        size, in_folder = run.file_size, os.listdir(file_store.folder())
    # Only the folder store leaves the file in the folder; no store leaves work in progress there.
    assert len(in_folder) == (1 if store == "folder" else 0) and not any(n.endswith(".part") for n in in_folder)
    client = app.test_client()
    login(client, "admin", dict((u[0], u[2]) for u in USERS)["admin"])
    download = client.get(f"/jobs/{run_id}/download")
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    assert len(download.data) == size
    import zipfile

    assert len(zipfile.ZipFile(io.BytesIO(download.data)).namelist()) == _codes_in_use(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_with_the_database_store_a_file_built_on_one_server_downloads_from_another(
    database_url, tmp_path, _schema_ready
):
    """Two servers, each with its own disk: the worker's folder is never seen by the web server."""
    worker = make_app(database_url, tmp_path, _schema_ready, LOOPDESK_FILE_STORE="database",
                      LOOPDESK_JOB_FILES=str(tmp_path / "worker-disk"))
    from app.demo import USERS, seed_demo

    with worker.app_context():
        seed_demo(responses=0, worked_tickets=False)
    run_id = _posters(worker)
    web = create_app({**worker.config, "LOOPDESK_JOB_FILES": str(tmp_path / "web-disk")})
    client = web.test_client()
    login(client, "admin", dict((u[0], u[2]) for u in USERS)["admin"])
    download = client.get(f"/jobs/{run_id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert not (tmp_path / "web-disk").exists() or os.listdir(tmp_path / "web-disk") == []
    for app in (worker, web):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_run_keeps_its_store_when_the_setting_changes(app, client, demo):
    """Files finished before an install moves to the database store still download from the folder."""
    run_id = _posters(app)
    app.config["LOOPDESK_FILE_STORE"] = "database"
    login(client, "admin", demo["passwords"]["admin"])
    download = client.get(f"/jobs/{run_id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    with app.app_context():
        assert db.session.get(JobRun, run_id).file_store == "folder"


@pytest.mark.parametrize("store", ["folder", "database"])
def test_a_file_gone_from_its_store_is_not_found_never_an_error(store, app, client, demo):
    app.config["LOOPDESK_FILE_STORE"] = store
    run_id = _posters(app)
    with app.app_context():
        stored, key = job_runs.stored_file(db.session.get(JobRun, run_id))
        stored.delete(key)
        db.session.commit()
    login(client, "admin", demo["passwords"]["admin"])
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_an_unknown_store_or_an_s3_store_without_bucket_stops_the_start(tmp_path):
    base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    with pytest.raises(ValueError, match="LOOPDESK_FILE_STORE must be one of folder, database, s3"):
        create_app({**base, "LOOPDESK_FILE_STORE": "ftp"})
    with pytest.raises(ValueError, match="needs LOOPDESK_S3_BUCKET"):
        create_app({**base, "LOOPDESK_FILE_STORE": "s3", "LOOPDESK_S3_BUCKET": None})


def test_the_database_store_streams_a_large_file_a_piece_at_a_time(app, tmp_path):
    """40 MiB in and out: the pieces are 1 MiB rows, and memory never holds more than a few of them."""
    size = 40 * file_store.CHUNK_BYTES + 12345
    path = tmp_path / "big.part"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for i in range(size // 65536 + 1):
            block = hashlib.sha256(str(i).encode()).digest() * 2048  # 64 KiB, different each time
            block = block[: min(65536, size - out.tell())]
            out.write(block)
            digest.update(block)
    with app.app_context():
        store = file_store.DatabaseStore()
        tracemalloc.start()
        assert store.put("big", str(path)) == size
        db.session.commit()
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        back, read = hashlib.sha256(), 0
        with file_store.open_file(store, "big") as source:
            while block := source.read(8192):  # as send_file reads it
                back.update(block)
                read += len(block)
        read_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert db.session.scalar(select(func.count()).select_from(FileChunk).where(FileChunk.key == "big")) == 41
        assert not path.exists()
    assert (read, back.hexdigest()) == (size, digest.hexdigest())
    limit = 8 * file_store.CHUNK_BYTES
    assert put_peak < limit and read_peak < limit, (put_peak, read_peak)


@pytest.mark.parametrize("store", ["folder", "database"])
def test_files_are_removed_after_the_days_they_are_kept_and_the_page_says_so(store, app, client, demo):
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.jobs.files import sweep_old_files

    app.config["LOOPDESK_FILE_STORE"] = store
    old, recent = _posters(app), _posters(app)
    with app.app_context():
        days = app.config["LOOPDESK_JOB_FILE_DAYS"]
        db.session.get(JobRun, old).finished_at = utcnow() - timedelta(days=days, minutes=1)
        db.session.get(JobRun, recent).finished_at = utcnow() - timedelta(days=days - 1)
        db.session.commit()
        gone = job_runs.stored_file(db.session.get(JobRun, old))
        assert sweep_old_files() == 1 and sweep_old_files() == 0
        with pytest.raises(FileNotFoundError):
            gone[0].chunks(gone[1])
    login(client, "admin", demo["passwords"]["admin"])
    assert client.get(f"/jobs/{old}/download").status_code == 404
    page = client.get(f"/jobs/{old}").get_data(as_text=True)
    assert "This file was removed 7 days after it was made" in page and "/download" not in page
    assert client.get(f"/jobs/{recent}/download").data[:2] == b"PK"
