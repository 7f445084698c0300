"""Finding a ticket from what a customer says on the phone: its code, their phone or e-mail, a few words.

A ticket keeps one searchable text (``searchable_text``): its reference code, the contact's
phone as digits only, e-mail, name, subject, description (the customer's open answers) and
the bodies of replies, notes and calls, folded (NFKC, lower case) so full-width characters
from a Chinese keyboard and capitals match, and Chinese characters doubled (``doubled``) so
PostgreSQL's trigram index serves two-character words. A query (``SearchQuery.parse``) is read the same
way and becomes three ways of matching, any of which finds the ticket:

- a reference code: "LD-E5VYND", "ld e5v ynd", "E5VYND" (the "LD-" prefix may be left out);
- a phone number: "138 0013 8000", "+86 138-0013-8000", or its last digits (at least 4).
  Of a longer number only the last 9 digits are matched, so a country code or trunk 0 on
  either side (+86 / 0086, +44 / 0) does not matter;
- words: every word must appear in the text (Chinese as a substring, English
  case-insensitively, a word inside a longer one counts: "refund" finds "refunded").

No Flask, no database: the service turns a ``SearchQuery`` into SQL with ``like_pattern``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.reference import ALPHABET, LENGTH

#: Longer queries are cut here: nobody reads out more on the phone, and it bounds the SQL.
MAX_QUERY = 100
#: At most this many words are matched (the rest of a pasted paragraph is ignored).
MAX_WORDS = 6
#: Fewer digits than this are not read as a phone number.
MIN_PHONE_DIGITS = 4
#: Of a longer number only this many last digits are compared.
PHONE_TAIL_DIGITS = 9
#: The characters around a match a result shows.
SNIPPET_BEFORE, SNIPPET_AFTER = 24, 56

_PREFIX = "LD"
_CODE_RE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_PHONE_PUNCTUATION = re.compile(r"[\s+\-().]")
_NON_DIGITS = re.compile(r"\D")
_WHITESPACE = re.compile(r"\s+")
#: From here on Unicode holds the CJK blocks (radicals, kana, ideographs, Hangul, full-width forms).
_CJK_FROM = "\u2e80"


def fold(text: str) -> str:
    """What searching compares: NFKC (full-width "ＬＤ－５" is "LD-5"), lower case, no NUL."""
    return unicodedata.normalize("NFKC", text or "").replace("\x00", "").lower()


def phone_digits(phone: str | None) -> str:
    """A phone number as its ASCII digits only: "+86 138-0013-8000" → "8613800138000"."""
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", phone or "")).encode("ascii", "ignore").decode()


def doubled(text: str) -> str:
    """Each Chinese (CJK) character written twice: "发票" → "发发票票".

    pg_trgm indexes runs of three characters, so a two-character Chinese word, the commonest
    thing typed, would have none and be looked for in every ticket. Doubled, "发票" has two
    trigrams that the doubled text holds exactly where the text holds "发票"; the stored text and
    the query are doubled alike, so matching stays a plain substring test.
    """
    return "".join(char * 2 if char >= _CJK_FROM and char.isalnum() else char for char in text)


def searchable_text(
    *,
    reference_code: str,
    contact_phone: str | None,
    contact_email: str | None,
    contact_name: str | None,
    subject: str | None,
    description: str | None,
    bodies: Iterable[str | None] = (),
) -> str:
    """The one text a ticket is found by, one part a line (see the module's docstring)."""
    parts = [reference_code, phone_digits(contact_phone), contact_email, contact_name, subject, description, *bodies]
    return "\n".join(doubled(fold(part)) for part in parts if part)


def ticked_labels(routing: dict | None) -> list[str]:
    """The labels, in every language, of the options a survey ticket's subject is made of when its
    customer wrote nothing (``routing["subject"]``, worded for the reader by app.labels.ticket_subject):
    "等待时间太长" and "Waiting too long" both find it, and the one found is the snippet."""
    parts = (routing or {}).get("subject") or []
    return [label for part in parts if isinstance(part, dict) and isinstance(part.get("option"), dict)
            for label in part["option"].values() if isinstance(label, str) and label]


@dataclass(frozen=True)
class SearchQuery:
    """What a query can mean: a reference code, a phone number's digits, words (each folded)."""

    #: The code in its stored form ("LD-E5VYND"), or None when the query cannot be one.
    reference_code: str | None
    #: The digits to find in a stored phone, or None when the query is not a phone number.
    phone: str | None
    words: tuple[str, ...]

    @classmethod
    def parse(cls, query: str | None) -> SearchQuery:
        text = fold(query or "")[:MAX_QUERY].strip()
        return cls(reference_code=_reference_code(text), phone=_phone(text), words=tuple(text.split()[:MAX_WORDS]))

    @property
    def is_empty(self) -> bool:
        return not (self.reference_code or self.phone or self.words)


def _reference_code(text: str) -> str | None:
    compact = re.sub(r"[\s\-]", "", text).upper()
    if compact.startswith(_PREFIX) and len(compact) == len(_PREFIX) + LENGTH:
        compact = compact[len(_PREFIX):]
    return f"{_PREFIX}-{compact}" if _CODE_RE.fullmatch(compact) else None


def _phone(text: str) -> str | None:
    compact = _PHONE_PUNCTUATION.sub("", text)
    if not (compact.isascii() and compact.isdigit()) or len(compact) < MIN_PHONE_DIGITS:
        return None
    return compact[-PHONE_TAIL_DIGITS:]


def like_pattern(fragment: str) -> str:
    """``%fragment%`` (folded, Chinese doubled as in the stored text) for LIKE / ILIKE with ``escape="\\\\"``:
    a %, _ or \\ typed is itself, never a wildcard."""
    escaped = doubled(fragment).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Snippet:
    """A piece of a ticket's text around what matched; the page marks ``match``."""

    before: str
    match: str
    after: str


def snippet(texts: Iterable[str | None], query: SearchQuery) -> Snippet | None:
    """The first of ``texts`` (in the order given) holding one of the query's words, cut around it."""
    for text in texts:
        if not text:
            continue
        folded = unicodedata.normalize("NFKC", text)
        lowered = folded.lower()
        if len(lowered) != len(folded):  # a rare letter whose lower case is longer: match on the original
            lowered = folded
        for word in query.words:
            at = lowered.find(word)
            if at < 0:
                continue
            end = at + len(word)
            start, stop = max(0, at - SNIPPET_BEFORE), min(len(folded), end + SNIPPET_AFTER)
            before = ("…" if start else "") + _one_line(folded[start:at])
            after = _one_line(folded[end:stop]) + ("…" if stop < len(folded) else "")
            return Snippet(before, folded[at:end], after)
    return None


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text)
