"""Which language a customer sees, and picking a text in it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

SUPPORTED_LOCALES: tuple[str, ...] = ("zh_Hans", "en")


def locale_for_tag(tag: str) -> str | None:
    """Map a browser language tag (zh-CN, zh-Hans-CN, en-GB, zh_Hans) to a supported locale.

    Every Chinese tag maps to Simplified Chinese: it is the only Chinese we ship.
    """
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    if primary == "zh":
        return "zh_Hans"
    if primary == "en":
        return "en"
    return None


def best_locale(accepted: Iterable[str], default: str, supported: Sequence[str] = SUPPORTED_LOCALES) -> str:
    """First supported locale among ``accepted`` (already ordered by preference)."""
    for tag in accepted:
        locale = locale_for_tag(tag)
        if locale in supported:
            return locale
    return default


def pick_text(texts: Mapping[str, str] | None, locale: str, fallbacks: Sequence[str] = SUPPORTED_LOCALES) -> str:
    """The text in ``locale``, else in the first fallback that has one, else ''."""
    if not texts:
        return ""
    if texts.get(locale):
        return texts[locale]
    for other in fallbacks:
        if texts.get(other):
            return texts[other]
    return next((value for value in texts.values() if value), "")
