"""Static files: named by their content, compressed once at build time, chosen by what the client can decode."""
from __future__ import annotations

import gzip
import logging
import re
import shutil

import brotli
import pytest
from flask import Flask, render_template_string

from app import static_files

SOURCES = ("htmx-2.0.11.min.js", "loopdesk.css")
BROTLI = "gzip, deflate, br, zstd"
GZIP_ONLY = "gzip, deflate"
A_YEAR = 365 * 24 * 3600


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "static"
    folder.mkdir()
    for name in SOURCES:
        shutil.copy(static_files.SOURCE / name, folder / name)
    return folder


@pytest.fixture
def target(tmp_path):
    return tmp_path / "static_built"


def serving(source, target) -> Flask:
    app = Flask(__name__, static_folder=None)
    static_files.init_app(app, source=source, target=target)
    return app


def url_of(app: Flask, name: str) -> str:
    with app.test_request_context():
        return render_template_string("{{ static_url(name) }}", name=name)


def test_a_built_file_is_named_by_its_content_and_gets_a_new_name_when_it_changes(source, target):
    assert static_files.build(source, target)
    first = url_of(serving(source, target), "loopdesk.css")
    assert re.fullmatch(r"/static/loopdesk\.[0-9a-f]{12}\.css", first)

    (source / "loopdesk.css").write_text((source / "loopdesk.css").read_text() + ".new{color:red}\n")
    assert static_files.build(source, target)
    app = serving(source, target)
    second = url_of(app, "loopdesk.css")
    assert second != first
    client = app.test_client()
    assert b".new{color:red}" in client.get(second, headers={"Accept-Encoding": "identity"}).data
    assert client.get(first, headers={"Accept-Encoding": BROTLI}).status_code == 200  # a page from before still loads

    (source / "loopdesk.css").write_text("body{color:blue}\n")
    static_files.build(source, target)
    assert serving(source, target).test_client().get(first).status_code == 404  # kept for one build, not for ever


def test_a_current_build_is_left_as_it_is(source, target):
    assert static_files.build(source, target)
    built = target / "files" / static_files.read_manifest(target)["loopdesk.css"]
    before = built.stat().st_mtime_ns
    assert not static_files.build(source, target)
    assert built.stat().st_mtime_ns == before


@pytest.mark.parametrize("name", SOURCES)
def test_each_client_gets_the_smallest_copy_it_can_decode(source, target, name):
    static_files.build(source, target)
    app = serving(source, target)
    client, url = app.test_client(), url_of(app, name)
    original = (source / name).read_bytes()

    as_brotli = client.get(url, headers={"Accept-Encoding": BROTLI})
    as_gzip = client.get(url, headers={"Accept-Encoding": GZIP_ONLY})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})

    assert as_brotli.headers["Content-Encoding"] == "br"
    assert brotli.decompress(as_brotli.data) == original
    assert len(as_brotli.data) == len(brotli.compress(original, quality=11))  # brotli at its maximum
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.data) == original
    assert len(as_gzip.data) <= len(gzip.compress(original, compresslevel=9, mtime=0))
    assert len(as_gzip.data) < len(original) / 2  # an older browser no longer gets the whole file
    assert "Content-Encoding" not in plain.headers and plain.data == original
    for response in (as_brotli, as_gzip, plain):
        assert response.status_code == 200
        assert response.headers["Vary"] == "Accept-Encoding"  # a shared cache keeps one copy per encoding


def test_built_files_are_cached_for_good_and_never_sniffed(source, target):
    static_files.build(source, target)
    app = serving(source, target)
    response = app.test_client().get(url_of(app, "htmx-2.0.11.min.js"), headers={"Accept-Encoding": BROTLI})
    cache = dict(
        part.strip().partition("=")[::2] for part in response.headers["Cache-Control"].split(",")
    )
    assert "immutable" in cache and "public" in cache and int(cache["max-age"]) >= A_YEAR
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_without_a_build_the_sources_are_served_under_their_own_names_and_the_log_says_so(source, target, caplog):
    with caplog.at_level(logging.WARNING, logger="app.static_files"):
        app = serving(source, target)
    assert "not built" in caplog.text and "scripts/static" in caplog.text
    url = url_of(app, "loopdesk.css")
    assert url == "/static/loopdesk.css"
    response = app.test_client().get(url)
    assert response.status_code == 200 and response.data == (source / "loopdesk.css").read_bytes()
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_a_source_changed_since_the_build_is_reported(source, target, caplog):
    static_files.build(source, target)
    (source / "loopdesk.css").write_text("body{color:red}\n")
    with caplog.at_level(logging.WARNING, logger="app.static_files"):
        serving(source, target)
    assert "changed since the last build" in caplog.text


def test_a_missing_static_file_is_the_app_s_404_page(client):
    response = client.get("/static/nothing.css")
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]
