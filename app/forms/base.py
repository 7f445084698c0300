"""The base of every form: Flask-WTF (CSRF) with WTForms' own messages translated, loaded once."""
from __future__ import annotations

from functools import lru_cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path
from wtforms.widgets import ListWidget

from app.core.ids import id_or_zero


#: The widget of a list of checkboxes (a SelectMultipleField with CheckboxInput options), labels after the boxes.
CHECKBOXES = ListWidget(prefix_label=False)


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class LoopdeskForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # Flask-WTF reads the catalogue from disk on every request; it never changes while we run.
            return _wtforms_translations(str(get_locale() or "en"))


def form_id(value) -> int:
    """The coerce of every select and checkbox list of row ids: an id (1 to 2³¹−1), or 0 for "none".

    Anything else raises ValueError, which WTForms shows as a form error, so no out-of-range number
    reaches the database (PostgreSQL would refuse it with an error). See app.core.ids.
    """
    return id_or_zero(value)
