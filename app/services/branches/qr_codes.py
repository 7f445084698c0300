"""QR codes: the absolute survey URL a code carries, and the images and posters that print it."""
from __future__ import annotations

import hashlib
import io
import ipaddress
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import BinaryIO
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import current_app
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

logger = logging.getLogger(__name__)

#: Width of the printed code without its quiet zone. A phone reads a code from about ten times its
#: width, and a poster on a wall or counter is scanned from 1 m, so at least 100 mm.
POSTER_QR_MM = 100

#: Without the poster font file (LOOPDESK_POSTER_FONT): fonts every PDF reader has built in (Adobe's Asian
#: font packs), not embedded, so a print shop may set the poster in a font of its own.
FALLBACK_CJK_FONT = "STSong-Light"
FALLBACK_LATIN_FONT = "Helvetica"
POSTER_CALL_TO_ACTION_ZH = "扫码评价，只需 1 分钟"
POSTER_CALL_TO_ACTION_EN = "Scan to tell us how we did — 1 minute"

#: Modules of light margin the QR specification asks for around the code.
QUIET_ZONE_MODULES = 4


def survey_url(token: str) -> str:
    """Absolute, from LOOPDESK_BASE_URL: a printed code must work wherever it is scanned."""
    return f"{current_app.config['LOOPDESK_BASE_URL']}/s/{token}"


#: The survey link's mark (``survey_link``): its responses count as the link channel, a scan's as the QR code.
LINK_ARG, LINK_VALUE = "via", "link"


def survey_link(token: str) -> str:
    """The survey of a QR code as a link to send or put on a website: its responses say they came by link.
    The printed code carries the plain ``survey_url``, so every poster already out counts as a scan."""
    return f"{survey_url(token)}?{LINK_ARG}={LINK_VALUE}"


def only_this_machine_reaches(base_url: str) -> bool:
    """A loopback address (localhost, 127.0.0.1, ::1): a customer's phone cannot open a code carrying it."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PosterChecks:
    """What an admin should know before printing: where the codes lead, and whether the font goes inside."""

    base_url: str
    base_url_is_local: bool
    font_path: str
    font_embedded: bool


def poster_checks() -> PosterChecks:
    base_url = current_app.config["LOOPDESK_BASE_URL"]
    font_path = current_app.config["LOOPDESK_POSTER_FONT"]
    return PosterChecks(base_url, only_this_machine_reaches(base_url), font_path, os.path.isfile(font_path))


def _registered_fonts(font_path: str) -> tuple[str, str]:
    """The (Chinese, Latin) font names to draw posters with, the file's looked for at each poster (a font
    installed later is used at once, as the branch pages say)."""
    if os.path.isfile(font_path):
        name = _registered_truetype(font_path)
        return name, name
    if FALLBACK_CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CJK_FONT))
    return FALLBACK_CJK_FONT, FALLBACK_LATIN_FONT


@lru_cache(maxsize=4)
def _registered_truetype(font_path: str) -> str:
    """Registered with ReportLab once per file. A TrueType font (a .ttf, or the first face of a .ttc) is
    embedded as a subset of the glyphs drawn, so the poster prints the same everywhere; it carries Latin
    letters too, so one font sets every line."""
    name = "LoopdeskPoster-" + hashlib.sha256(font_path.encode()).hexdigest()[:8]
    pdfmetrics.registerFont(TTFont(name, font_path, subfontIndex=0))
    return name


def _qr(url: str, box_size: int = 10, border: int = QUIET_ZONE_MODULES) -> qrcode.QRCode:
    """Level M survives a crease or a smudge (15 %) while keeping the modules large."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str, box_size: int = 10) -> bytes:
    """A PNG of the code, ``box_size`` pixels a module, with the standard quiet zone."""
    out = io.BytesIO()
    _qr(url, box_size).make_image().save(out, format="PNG")
    return out.getvalue()


def qr_svg(url: str) -> bytes:
    """A standalone SVG document, one path: scales to any print size without blurring."""
    out = io.BytesIO()
    _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


def download_filename(branch_code: str, label: str, extension: str) -> str:
    """``loopdesk-SH-PEOPLE-entrance.pdf``: ASCII only, so every browser and file system keeps it."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    parts = ["loopdesk", branch_code, re.sub(r"[^a-z0-9]+", "-", ascii_label).strip("-")]
    return "-".join(p for p in parts if p) + f".{extension}"


def poster_pdf(branch_name: str, label: str, url: str) -> bytes:
    """A printable A5 portrait poster: branch name, call to action in Chinese and English, the code, its URL.

    The code is drawn as vector rectangles so it prints sharp at any size; the output is invariant
    (no creation date or random document id), so the same inputs give the same bytes.
    """
    out = io.BytesIO()
    document = poster_document(out, f"{branch_name} — {label}" if label else branch_name)
    draw_poster(document, branch_name, label, url)
    document.save()
    return out.getvalue()


def poster_document(out: BinaryIO, title: str) -> canvas.Canvas:
    """An empty A5 PDF to draw posters on, one a page (``draw_poster``); call ``save()`` at the end."""
    font_path = current_app.config["LOOPDESK_POSTER_FONT"]
    cjk_font, latin_font = _registered_fonts(font_path)
    if cjk_font == FALLBACK_CJK_FONT:
        logger.warning("poster font %s not found: posters use %s, not embedded", font_path, FALLBACK_CJK_FONT)
    # initialFontName: each page starts in the poster's own font, so no other font is named in the PDF
    document = canvas.Canvas(out, pagesize=A5, invariant=True, initialFontName=latin_font)
    document.setTitle(title)
    return document


def draw_poster(page: canvas.Canvas, branch_name: str, label: str, url: str) -> None:
    """Draw one poster as the next page of ``page``."""
    width, height = A5
    cjk_font, latin_font = _registered_fonts(current_app.config["LOOPDESK_POSTER_FONT"])

    modules = _qr(url, border=0).modules
    module = POSTER_QR_MM * mm / len(modules)
    quiet = QUIET_ZONE_MODULES * module
    qr_left = (width - POSTER_QR_MM * mm) / 2
    qr_bottom = (height - POSTER_QR_MM * mm) / 2 - 8 * mm
    qr_top = qr_bottom + POSTER_QR_MM * mm

    page.setFillColorRGB(0, 0, 0)
    for row, line in enumerate(modules):
        column = 0
        for dark, run in groupby(line):
            length = len(list(run))
            if dark:  # one rectangle per run of dark modules: no hairline seams between neighbours
                y = qr_top - (row + 1) * module
                page.rect(qr_left + column * module, y, length * module, module, stroke=0, fill=1)
            column += length

    margin = 12 * mm

    def centred(font: str, size: float, text: str, baseline: float) -> None:
        """Centre ``text`` on the page, shrinking the font until a long name fits between the margins."""
        fitted = min(size, size * (width - 2 * margin) / max(pdfmetrics.stringWidth(text, font, size), 1))
        page.setFont(font, fitted)
        page.drawCentredString(width / 2, baseline, text)

    above = qr_top + quiet
    centred(latin_font, 11, POSTER_CALL_TO_ACTION_EN, above + 2 * mm)
    centred(cjk_font, 16, POSTER_CALL_TO_ACTION_ZH, above + 10 * mm)
    centred(cjk_font, 22, branch_name, height - margin - 22)

    below = qr_bottom - quiet
    if label:
        centred(cjk_font, 9, label, below - 4 * mm)
    centred(latin_font, 7, url, below - 9 * mm)

    page.showPage()

