"""QR code images and printable posters, for the people who manage the code's branch."""
from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user

from app.extensions import db
from app.models import QrCode, Role
from app.permissions import can_manage_branch, role_required
from app.services.branches.qr_codes import download_filename, poster_pdf, qr_png, qr_svg, survey_url

bp = Blueprint("qr", __name__, url_prefix="/qr")


@bp.get("/<id:qr_id>.png")
@role_required(Role.SUPERVISOR)
def png(qr_id: int):
    qr = _printable_code(qr_id)
    return _download(qr_png(survey_url(qr.token)), "image/png", qr, "png")


@bp.get("/<id:qr_id>.svg")
@role_required(Role.SUPERVISOR)
def svg(qr_id: int):
    qr = _printable_code(qr_id)
    return _download(qr_svg(survey_url(qr.token)), "image/svg+xml", qr, "svg")


@bp.get("/<id:qr_id>/poster.pdf")
@role_required(Role.SUPERVISOR)
def poster(qr_id: int):
    qr = _printable_code(qr_id)
    return _download(poster_pdf(qr.branch.name, qr.label, survey_url(qr.token)), "application/pdf", qr, "pdf")


def _printable_code(qr_id: int) -> QrCode:
    """404 unknown, 403 outside the user's branches, then 410 revoked: nobody learns more than they may."""
    qr = db.get_or_404(QrCode, qr_id)
    if not can_manage_branch(current_user, qr.branch):
        abort(403)
    if qr.revoked:
        abort(410)
    return qr


def _download(body: bytes, mimetype: str, qr: QrCode, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers.set(
        "Content-Disposition", "attachment", filename=download_filename(qr.branch.code, qr.label, extension)
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
