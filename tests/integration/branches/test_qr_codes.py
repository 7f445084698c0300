"""QR code downloads: what they encode, what they look like, and who may fetch them."""
from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from app.core.clock import utcnow
from app.extensions import db
from app.models import QrCode
from app.services.branches.qr_codes import POSTER_QR_MM, only_this_machine_reaches
from tests.conftest import login

A5_POINTS = (419.53, 595.28)


def code_of(app, token: str) -> QrCode:
    with app.app_context():
        return db.session.scalar(db.select(QrCode).where(QrCode.token == token))


def sign_in(client, demo, username: str) -> None:
    login(client, username, demo["passwords"][username])


def decoded(png: bytes) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (float(x1) - float(x0), float(y1) - float(y0))
        for x0, y0, x1, y1 in re.findall(rb"/MediaBox\s*\[\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*\]", pdf)
    ]


def download(client, demo, username: str, path: str, mimetype: str) -> bytes:
    sign_in(client, demo, username)
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    return response.data


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.fixture
def shanghai(app, demo) -> QrCode:
    return code_of(app, demo["tokens"]["SH-PEOPLE"])


def test_png_encodes_the_absolute_survey_url_of_the_token(client, demo, shanghai):
    png = download(client, demo, "admin", f"/qr/{shanghai.id}.png", "image/png")
    assert decoded(png) == [f"http://localhost/s/{shanghai.token}"]


def test_downloads_are_private_attachments_named_after_branch_and_label(client, demo, shanghai):
    sign_in(client, demo, "supervisor")
    for path, name in (
        (f"/qr/{shanghai.id}.png", "loopdesk-SH-PEOPLE-entrance.png"),
        (f"/qr/{shanghai.id}.svg", "loopdesk-SH-PEOPLE-entrance.svg"),
        (f"/qr/{shanghai.id}/poster.pdf", "loopdesk-SH-PEOPLE-entrance.pdf"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
        assert response.headers["Cache-Control"] == "private, max-age=300"


def test_svg_is_a_standalone_svg_document(client, demo, shanghai):
    svg = download(client, demo, "admin", f"/qr/{shanghai.id}.svg", "image/svg+xml")
    assert svg.startswith(b"<?xml")
    assert re.search(rb'<svg [^>]*xmlns="http://www.w3.org/2000/svg"', svg)
    assert b"<path" in svg


def test_poster_is_one_a5_page_with_a_code_big_enough_to_scan_from_a_metre(client, demo, shanghai):
    pdf = download(client, demo, "supervisor", f"/qr/{shanghai.id}/poster.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 1
    assert media_boxes(pdf) == [pytest.approx(A5_POINTS, abs=0.5)]
    assert POSTER_QR_MM >= 100


def fonts_of(pdf: bytes) -> dict[str, dict]:
    """Each font a PDF's pages use: its name and whether a font file is embedded (and which kind)."""
    fonts = {}
    for pdf_page in PdfReader(io.BytesIO(pdf)).pages:
        for font in pdf_page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:  # a Type 0 (CID) font
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
            fonts[str(font["/BaseFont"])] = {"embedded": embedded}
    return fonts


def test_poster_embeds_its_chinese_font_so_every_print_shop_prints_the_same(client, demo, shanghai):
    pdf = download(client, demo, "admin", f"/qr/{shanghai.id}/poster.pdf", "application/pdf")
    fonts = fonts_of(pdf)
    # one TrueType font, as subsets of the glyphs drawn (ABCDEF+ prefix), their files inside the PDF
    assert fonts and all(f["embedded"] == ["/FontFile2"] for f in fonts.values()), fonts
    assert all(re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei-\d+", name) for name in fonts), fonts
    assert len(pdf) < 100_000  # a subset, not the 5 MB font
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for line in ("上海人民广场店", "扫码评价，只需 1 分钟", "Scan to tell us how we did", f"/s/{shanghai.token}"):
        assert line in text, text


def test_poster_without_its_font_file_still_prints_with_the_readers_built_in_chinese_font(app, client, demo, shanghai):
    app.config["LOOPDESK_POSTER_FONT"] = "/nonexistent/poster-font.ttf"
    pdf = download(client, demo, "admin", f"/qr/{shanghai.id}/poster.pdf", "application/pdf")
    assert set(fonts_of(pdf)) == {"/STSong-Light", "/Helvetica"}
    assert "上海人民广场店" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_supervisor_cannot_download_a_code_of_a_branch_outside_their_scope(app, client, demo):
    london = code_of(app, demo["tokens"]["LDN-SOHO"])
    sign_in(client, demo, "supervisor")
    for path in (f"/qr/{london.id}.png", f"/qr/{london.id}.svg", f"/qr/{london.id}/poster.pdf"):
        assert client.get(path).status_code == 403, path


def test_staff_cannot_download_even_their_own_branch_code(client, demo, shanghai):
    sign_in(client, demo, "staff")
    assert client.get(f"/qr/{shanghai.id}.png").status_code == 403
    assert client.get(f"/qr/{shanghai.id}/poster.pdf").status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, demo, shanghai):
    response = client.get(f"/qr/{shanghai.id}.png")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_revoked_code_is_gone(app, client, demo, shanghai):
    with app.app_context():
        db.session.get(QrCode, shanghai.id).revoked_at = utcnow()
        db.session.commit()
    sign_in(client, demo, "supervisor")
    assert client.get(f"/qr/{shanghai.id}.png").status_code == 410
    assert client.get(f"/qr/{shanghai.id}/poster.pdf").status_code == 410


def test_unknown_code_is_not_found(client, demo):
    sign_in(client, demo, "admin")
    assert client.get("/qr/999999.svg").status_code == 404


@pytest.mark.parametrize("base_url, local", [
    ("http://localhost:5000", True), ("http://LOCALHOST", True), ("http://app.localhost", True),
    ("http://127.0.0.1:5000", True), ("http://127.0.1.1", True), ("http://[::1]:8000", True),
    ("http://192.168.1.20:5000", False), ("https://feedback.example.com", False), ("http://localhost.example.com", False),
])
def test_a_base_url_only_this_machine_reaches_is_told_apart(base_url, local):
    assert only_this_machine_reaches(base_url) is local
