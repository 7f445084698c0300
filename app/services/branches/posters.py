"""Every branch's QR posters at once, as one PDF (a page a code) or a ZIP of one PDF a code."""
from __future__ import annotations

import zipfile
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Branch, JobRun, QrCode
from app.services.job_runs import Progress
from app.services.branches.qr_codes import download_filename, draw_poster, poster_document, poster_pdf, survey_url


def printable_codes(branch_ids: list[int] | None = None) -> list[QrCode]:
    """Codes in use at active branches, by branch code then code id."""
    query = (
        select(QrCode)
        .join(QrCode.branch)
        .where(QrCode.revoked_at.is_(None), Branch.active.is_(True))
        .options(joinedload(QrCode.branch))
        .order_by(Branch.code, QrCode.id)
    )
    if branch_ids:
        query = query.where(QrCode.branch_id.in_(branch_ids))
    return list(db.session.scalars(query))


def build_posters_pdf(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    codes = printable_codes(run.params.get("branch_ids"))
    document = poster_document(out, "Loopdesk posters")
    for done, qr in enumerate(codes, start=1):
        draw_poster(document, qr.branch.name, qr.label, survey_url(qr.token))
        progress(done, len(codes))
    if not codes:
        document.showPage()  # a PDF needs a page; an empty one says there was nothing to print
    document.save()
    return "loopdesk-posters.pdf", "application/pdf"


def build_posters_zip(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    codes = printable_codes(run.params.get("branch_ids"))
    names: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, qr in enumerate(codes, start=1):
            name = download_filename(qr.branch.code, qr.label, "pdf")
            if name in names:  # two codes with the same label at one branch
                name = name.removesuffix(".pdf") + f"-{qr.id}.pdf"
            names.add(name)
            archive.writestr(name, poster_pdf(qr.branch.name, qr.label, survey_url(qr.token)))
            progress(done, len(codes))
    return "loopdesk-posters.zip", "application/zip"
