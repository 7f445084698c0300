"""A known customer's contact details and attribute values, as people type them: checked and written one way.

Pure rules: no Flask, no database. Every refusal is a ``ContactProblem`` with a code (``PROBLEM_CODES``)
that the pages word in the reader's language when they show it (an import's row problems are stored as
codes and translated when read).
"""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.core.languages import SUPPORTED_LOCALES, locale_for_tag

#: Where a phone number written without a country code is taken to be, when its branch says nothing.
FALLBACK_PHONE_REGION = "CN"

PHONE_MAX = 20
EMAIL_MAX = 255
NAME_MAX = 120
COMPANY_MAX = 200
EXTERNAL_ID_MAX = 64
TEXT_VALUE_MAX = 500


class AttributeType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    TAGS = "tags"


class Channel(enum.StrEnum):
    """The ways a customer may be contacted, each with its own consent and opt-out."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"


#: Every problem code a value can have (the pages' words for each: app.labels.CONTACT_PROBLEMS).
PROBLEM_CODES = (
    "phone_invalid", "email_invalid", "too_long", "number_invalid", "date_invalid", "choice_unknown",
    "language_unknown", "branch_unknown", "owner_unknown", "consent_unclear", "no_identity",
    "external_id_taken",
)


class ContactProblem(ValueError):
    def __init__(self, code: str) -> None:
        assert code in PROBLEM_CODES, code
        super().__init__(code)
        self.code = code


def phone_region(holiday_region: str | None) -> str:
    """The region a branch's local numbers are read in: its holiday region's country (CN, GB-ENG → GB, HK)."""
    country = (holiday_region or "").split("-")[0].upper()
    return country if len(country) == 2 and country.isalpha() else FALLBACK_PHONE_REGION


def normalised_phone(raw: str | None, region: str = FALLBACK_PHONE_REGION) -> str | None:
    """The number in E.164 (+8613812345678), read in ``region`` unless it names its country; None for a blank.

    ContactProblem("phone_invalid") for anything phonenumbers does not find a valid number in (wrong
    length for its country, letters, a number no operator gives out).
    """
    text = (raw or "").strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ContactProblem("phone_invalid") from error
    if not phonenumbers.is_valid_number(number):
        raise ContactProblem("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised_email(raw: str | None) -> str | None:
    """The address as email-validator normalises it (domain lower-cased, IDNA), the whole address compared
    lower-cased by ``email_key``; None for a blank. Syntax only: no DNS or deliverability check."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX:
        raise ContactProblem("too_long")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ContactProblem("email_invalid") from error


def email_key(email: str | None) -> str | None:
    """What two addresses are the same customer by: the whole address, lower-cased."""
    return email.lower() if email else None


def limited(raw: object, limit: int) -> str | None:
    """A trimmed text, None for a blank; ContactProblem("too_long") beyond ``limit`` characters."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if len(text) > limit:
        raise ContactProblem("too_long")
    return text


#: A language as a spreadsheet might name it, beside the tags locale_for_tag reads (zh-CN, en-GB…).
LANGUAGE_WORDS = {
    "中文": "zh_Hans", "简体中文": "zh_Hans", "简体": "zh_Hans", "chinese": "zh_Hans",
    "繁體中文": "zh_Hant", "繁体中文": "zh_Hant", "繁體": "zh_Hant", "繁体": "zh_Hant",
    "english": "en", "英语": "en", "英文": "en",
}


def language(raw: object) -> str | None:
    """One of our locales (zh_Hans, en, zh_Hant) from a tag or a language's name; None for a blank."""
    text = str(raw or "").strip()
    if not text:
        return None
    if text in SUPPORTED_LOCALES:
        return text
    found = LANGUAGE_WORDS.get(text.lower()) or locale_for_tag(text)
    if found is None:
        raise ContactProblem("language_unknown")
    return found


YES = frozenset({"yes", "y", "true", "1", "是", "同意", "已同意", "x", "✓", "√"})
NO = frozenset({"no", "n", "false", "0", "否", "不同意", "拒绝"})


def yes_no(raw: object) -> bool | None:
    """A consent cell: True, False, or None for a blank (no change)."""
    if raw is None or raw is True or raw is False:
        return raw
    text = str(raw).strip().lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise ContactProblem("consent_unclear")


# --- Attributes the admin defines -----------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    labels: Mapping[str, str]


def parse_choices(text: str) -> list[Choice]:
    """The admin's choices, one a line: ``value`` or ``value | 中文 | English`` (labels optional)."""
    found: list[Choice] = []
    seen: set[str] = set()
    for line in text.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not parts[0] or parts[0] in seen:
            continue
        seen.add(parts[0])
        labels = {locale: label for locale, label in zip(("zh_Hans", "en"), parts[1:3]) if label}
        found.append(Choice(parts[0][:80], labels))
    return found


def choices_text(choices: Iterable[Mapping]) -> str:
    """The stored choices back as the admin wrote them (``parse_choices``' input)."""
    lines = []
    for choice in choices:
        labels = choice.get("labels") or {}
        parts = [choice["value"], labels.get("zh_Hans", ""), labels.get("en", "")]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


TAG_SEPARATORS = re.compile(r"[,，;；、|]")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%Y年%m月%d日")


def attribute_value(raw: object, kind: AttributeType, choices: Sequence[Mapping] = ()) -> object:
    """An attribute's value as stored in a customer's ``attributes`` (JSON), None for a blank.

    text: a string; number: an int or float; date: ISO text ("2024-03-01"), so that comparing the text
    orders the dates in SQLite's json_extract and PostgreSQL's ->> alike; choice: the choice's value (a
    label in any language is read as its value); tags: a sorted list of strings.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if kind == AttributeType.NUMBER:
        if isinstance(raw, bool):
            raise ContactProblem("number_invalid")
        if isinstance(raw, (int, float)):
            return raw
        text = str(raw).strip().replace(",", "").replace("，", "")
        try:
            number = float(text)
        except ValueError as error:
            raise ContactProblem("number_invalid") from error
        if number != number or number in (float("inf"), float("-inf")):
            raise ContactProblem("number_invalid")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == AttributeType.DATE:
        if isinstance(raw, datetime):
            return raw.date().isoformat()
        if isinstance(raw, date):
            return raw.isoformat()
        text = str(raw).strip()
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        raise ContactProblem("date_invalid")
    if kind == AttributeType.CHOICE:
        text = str(raw).strip()
        for choice in choices:
            if text == choice["value"] or text in (choice.get("labels") or {}).values():
                return choice["value"]
        lowered = text.lower()
        for choice in choices:
            if lowered == choice["value"].lower():
                return choice["value"]
        raise ContactProblem("choice_unknown")
    if kind == AttributeType.TAGS:
        items = raw if isinstance(raw, (list, tuple)) else TAG_SEPARATORS.split(str(raw))
        tags = sorted({str(item).strip()[:80] for item in items if str(item).strip()})
        return tags or None
    text = str(raw).strip()
    if len(text) > TEXT_VALUE_MAX:
        raise ContactProblem("too_long")
    return text


# --- Import columns ---------------------------------------------------------------------------------

#: The customer's own fields an import column can fill, in the mapping form's order.
FIELDS = (
    "external_id", "name", "company", "phone", "email", "language", "branch", "owner",
    "consent_email", "consent_sms", "consent_phone",
)

#: Header words (lower case, spaces and punctuation removed) that name each field, in Chinese and English.
HEADER_WORDS: Mapping[str, tuple[str, ...]] = {
    "external_id": ("externalid", "customerid", "customerno", "customernumber", "crmid", "id", "客户编号",
                    "客户id", "客户代码", "编号", "会员号", "会员编号", "客户号"),
    "name": ("name", "fullname", "contactname", "customername", "contact", "姓名", "名字", "客户姓名",
             "联系人", "客户名称"),
    "company": ("company", "companyname", "organisation", "organization", "account", "公司", "公司名称",
                "单位", "企业", "企业名称"),
    "phone": ("phone", "mobile", "mobilephone", "cell", "telephone", "tel", "phonenumber", "手机", "手机号",
              "手机号码", "电话", "电话号码", "联系电话", "移动电话"),
    "email": ("email", "emailaddress", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址"),
    "language": ("language", "preferredlanguage", "locale", "语言", "首选语言", "偏好语言"),
    "branch": ("branch", "branchcode", "store", "shop", "门店", "分店", "网点", "门店编号", "所属门店"),
    "owner": ("owner", "accountowner", "accountmanager", "客户经理", "负责人", "归属人"),
    "consent_email": ("consentemail", "emailconsent", "emailoptin", "邮件同意", "同意邮件"),
    "consent_sms": ("consentsms", "smsconsent", "smsoptin", "短信同意", "同意短信"),
    "consent_phone": ("consentphone", "phoneconsent", "callconsent", "电话同意", "同意电话"),
}

_NOT_IN_HEADER = re.compile(r"[\s_\-./:：()（）#*]+")


def header_key(header: object) -> str:
    return _NOT_IN_HEADER.sub("", str(header or "")).lower()


def guess_mapping(headers: Sequence[object], attributes: Mapping[str, Iterable[str]]) -> list[str]:
    """For each column, the field it fills ("name", "phone"…, "attr:<key>") or "" to leave it out.

    ``attributes``: each attribute's key → its labels (any language). A field is given to its first
    column only.
    """
    words = {field: set(names) for field, names in HEADER_WORDS.items()}
    for key, labels in attributes.items():
        words[f"attr:{key}"] = {header_key(key), *(header_key(label) for label in labels if label)}
    taken: set[str] = set()
    mapping = []
    for header in headers:
        wanted = header_key(header)
        found = next((field for field, names in words.items() if wanted and wanted in names and field not in taken), "")
        if found:
            taken.add(found)
        mapping.append(found)
    return mapping
