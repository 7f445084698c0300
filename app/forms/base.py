"""The base of every form: Flask-WTF (CSRF) with WTForms' own messages translated, loaded once."""
from __future__ import annotations

from functools import lru_cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class LoopdeskForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # Flask-WTF reads the catalogue from disk on every request; it never changes while we run.
            return _wtforms_translations(str(get_locale() or "en"))
