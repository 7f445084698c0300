"""A text in each language: the fields ``<prefix>_<locale>`` of a form, and which languages the editor shows."""
from __future__ import annotations

from collections.abc import Mapping

from wtforms import Form

from app.core.languages import SUPPORTED_LOCALES

#: The languages every questionnaire is written in; Traditional Chinese is a third one a version may
#: offer (for Hong Kong and Taiwan branches): its fields show where the version offers it or has its texts.
BASE_LOCALES = ("zh_Hans", "en")


def editor_locales(languages, *texts: Mapping[str, str] | None) -> tuple[str, ...]:
    """The languages whose fields the editor shows for a version offered in ``languages``."""
    return tuple(
        lang for lang in SUPPORTED_LOCALES
        if lang in BASE_LOCALES or lang in (languages or ()) or any((t or {}).get(lang) for t in texts)
    )


def texts_of(form: Form, prefix: str) -> dict[str, str]:
    """The texts of the form's fields ``<prefix>_<locale>``; a language beyond the base ones only when given
    (a form without a language's field has none)."""
    texts = {}
    for lang in SUPPORTED_LOCALES:
        if f"{prefix}_{lang}" in form:
            value = (form[f"{prefix}_{lang}"].data or "").strip()
            if value or lang in BASE_LOCALES:
                texts[lang] = value
    return texts


def fill_texts(form: Form, prefix: str, texts: Mapping[str, str] | None) -> None:
    for lang in SUPPORTED_LOCALES:
        if f"{prefix}_{lang}" in form:
            form[f"{prefix}_{lang}"].data = (texts or {}).get(lang, "")
