"""Language and time display: the request's locale, texts in it, times in a branch's zone."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, session, url_for
from flask_babel import format_datetime, format_timedelta, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from app.core.languages import SUPPORTED_LOCALES, best_locale, html_lang, offered_locales, pick_text
from app.models.types import Texts

#: Each language in its own words (the language links show them to a reader of any language).
LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English", "zh_Hant": "繁體中文"}


def select_locale() -> str:
    """?lang= (remembered), then the signed-in user's choice, then the phone's Accept-Language, then the
    branch's language (survey pages), then the chain's."""
    chosen = request.args.get("lang")
    if chosen in SUPPORTED_LOCALES:
        session["lang"] = chosen
        return chosen
    remembered = session.get("lang")
    if remembered in SUPPORTED_LOCALES:
        return remembered
    # Only staff have a user; asking Flask-Login on a customer's page would cost a session check.
    if "_user_id" in session and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    accepted = [tag for tag, _quality in request.accept_languages]
    # a survey page knows its branch (app.blueprints.survey): its language before the chain's
    default = g.get("branch_locale") or current_app.config["LOOPDESK_DEFAULT_LOCALE"]
    return best_locale(accepted, default=default)


def select_timezone() -> str:
    return "UTC"


def current_locale() -> str:
    locale = get_locale()
    if locale is None:
        return current_app.config["LOOPDESK_DEFAULT_LOCALE"]
    if locale.language == "zh":  # Babel's zh_Hant is Locale("zh", script="Hant"): keep the script
        return "zh_Hant" if locale.script == "Hant" else "zh_Hans"
    return locale.language


def text(texts: Texts | None) -> str:
    return pick_text(texts, current_locale())


def local_time(moment: datetime | None, zone: str, format: str = "short") -> str:
    """A UTC timestamp shown in a branch's time zone, with the zone's abbreviation."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_datetime(local.replace(tzinfo=None), format)} {local.tzname()}"


def url_with_lang(locale: str) -> str:
    """This page in another language (the choice is remembered in the session)."""
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.to_dict().items() if k not in view_args}  # ?user_id= beside /<user_id>
    args["lang"] = locale
    return url_for(request.endpoint or "main.index", **view_args, **args)


FLAG_LABELS = {
    "too_fast": _l("too fast"),
    "burst": _l("burst from one address or code"),
    "straight_lining": _l("same answer everywhere"),
    "repeat_device": _l("repeat from one device"),
    "gibberish": _l("meaningless text"),
}
CSAT_LABELS = [_l("Very dissatisfied"), _l("Dissatisfied"), _l("Neutral"), _l("Satisfied"), _l("Very satisfied")]


def flag_label(flag: str) -> str:
    return str(FLAG_LABELS.get(flag, flag))


def answer_label(question, value) -> str:
    """An answer as staff read it: the score with its words, or the chosen options' labels."""
    if question.type == "csat" and isinstance(value, int) and 1 <= value <= 5:
        return f"{value} · {CSAT_LABELS[value - 1]}"
    if isinstance(value, list) or (question.type == "single" and isinstance(value, str)):
        labels = {str(o["value"]): text(o.get("label")) for o in question.options}
        return join_list(labels.get(str(v), v) or v for v in (value if isinstance(value, list) else [value]))
    return "" if value is None else str(value)


def join_list(items) -> str:
    """A list as the language writes it: "A、B和C" / "A, B, and C"."""
    from babel.lists import format_list

    items = [str(item) for item in items]
    return format_list(items, locale=current_locale()) if items else ""


def countdown(due: datetime | None, now: datetime | None = None) -> str:
    """"due in 25 minutes" / "overdue by 1 hour", in the user's language."""
    from app.core.clock import utcnow

    if due is None:
        return ""
    left = due - (now or utcnow())
    if left.total_seconds() >= 0:
        return _("due in %(time)s", time=format_timedelta(left, threshold=1.5))
    return _("overdue by %(time)s", time=format_timedelta(-left, threshold=1.5))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        text=text,
        current_locale=current_locale,
        SUPPORTED_LOCALES=SUPPORTED_LOCALES,
        offered_locales=offered_locales,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        html_lang=html_lang,
        url_with_lang=url_with_lang,
        flag_label=flag_label,
        answer_label=answer_label,
        countdown=countdown,
        join_list=join_list,
    )
    app.jinja_env.filters["local_time"] = local_time
