"""Which language a customer sees, and picking a text in it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: Simplified Chinese, English, and Traditional Chinese (Hong Kong / Taiwan branches), in the order
#: the pages offer them.
SUPPORTED_LOCALES: tuple[str, ...] = ("zh_Hans", "en", "zh_Hant")

#: Chinese tags written in Traditional characters when they name no script (BCP 47 regions).
TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})

#: The language a text falls back to when it is missing in a locale, before any other: a Traditional
#: Chinese reader is better served by Simplified Chinese than by English.
CLOSEST: Mapping[str, str] = {"zh_Hant": "zh_Hans"}


def locale_for_tag(tag: str) -> str | None:
    """Map a browser language tag to a supported locale.

    zh-TW, zh-HK, zh-MO, zh-Hant and zh-Hant-* (and zh_Hant) are Traditional Chinese; any other Chinese
    (zh, zh-CN, zh-SG, zh-Hans-HK) is Simplified; en-* is English; anything else None.
    """
    parts = [part.strip().lower() for part in tag.replace("_", "-").split("-")]
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    script = next((part for part in parts[1:] if len(part) == 4), None)
    if script == "hant":
        return "zh_Hant"
    if script is None and any(part in TRADITIONAL_REGIONS for part in parts[1:]):
        return "zh_Hant"
    return "zh_Hans"


def offered_locales(version_languages: Iterable[str] | None) -> tuple[str, ...]:
    """The languages a survey offers its customer: the version's own (in the pages' order), or every
    supported one before a version is known. A version written only in Simplified Chinese and English
    does not offer 繁體中文: its questions would still be Simplified."""
    own = set(version_languages or ())
    return tuple(locale for locale in SUPPORTED_LOCALES if locale in own) or SUPPORTED_LOCALES


def best_locale(accepted: Iterable[str], default: str, supported: Sequence[str] = SUPPORTED_LOCALES) -> str:
    """First supported locale among ``accepted`` (already ordered by preference)."""
    for tag in accepted:
        locale = locale_for_tag(tag)
        if locale in supported:
            return locale
    return default


def pick_text(texts: Mapping[str, str] | None, locale: str, fallbacks: Sequence[str] = SUPPORTED_LOCALES) -> str:
    """The text in ``locale``, else in its closest language (zh_Hant: zh_Hans), else in the first
    fallback that has one, else ''."""
    if not texts:
        return ""
    for wanted in (locale, CLOSEST.get(locale), *fallbacks):
        if wanted and texts.get(wanted):
            return texts[wanted]
    return next((value for value in texts.values() if value), "")


def html_lang(locale: str) -> str:
    """The locale as an HTML lang attribute (zh_Hans → zh-Hans)."""
    return locale.replace("_", "-")
