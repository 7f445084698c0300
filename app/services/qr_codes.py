"""QR codes: the absolute survey URL a code carries."""
from __future__ import annotations

from flask import current_app


def survey_url(token: str) -> str:
    """Absolute, from LOOPDESK_BASE_URL: a printed code must work wherever it is scanned."""
    return f"{current_app.config['LOOPDESK_BASE_URL']}/s/{token}"
