"""Every marked string reaches a Chinese-speaking customer in Chinese.

The check runs against the committed messages.pot: a string someone marked with _() but never
extracted (scripts/translations update) is not in it, so this test cannot see that gap.
"""
from __future__ import annotations

import importlib.util
import re
from collections import Counter
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def read_catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_every_customer_string_has_a_chinese_translation(locale):
    template = read_catalog(TRANSLATIONS / "messages.pot")
    chinese = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")

    problems = []
    for source in template:
        if not source.id:
            continue
        where = ", ".join(f"{file}:{line}" for file, line in source.locations)
        message = chinese.get(source.id, source.context)
        if message is None:
            problems.append(f"missing (run scripts/translations update): {source.id!r} ({where})")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy, needs review: {source.id!r} ({where})")
        ids = source.id if isinstance(source.id, tuple) else (source.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"not translated: {source.id!r} ({where})")
            continue
        expected = placeholders(ids[-1])
        for translated in strings:
            if placeholders(translated) != expected:
                problems.append(
                    f"placeholders differ: {source.id!r} -> {translated!r} "
                    f"(expected {sorted(expected.elements())}) ({where})"
                )

    assert not problems, f"{locale} translations to fix:\n" + "\n".join(problems)


def test_traditional_chinese_is_the_simplified_catalogue_converted_by_opencc():
    """scripts/translations writes it (scripts/hant_catalogue); the committed file is what it writes."""
    loader = SourceFileLoader("hant_catalogue", str(SCRIPTS / "hant_catalogue"))
    spec = importlib.util.spec_from_loader("hant_catalogue", loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert committed == module.hant_catalogue(), "run scripts/hant_catalogue (or scripts/translations)"


def test_traditional_chinese_reads_as_taiwan_and_hong_kong_write():
    hant = read_catalog(TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po")
    assert hant.locale_identifier == "zh_Hant"
    assert hant.get("Thank you for your feedback!").string == "感謝您的反饋！"
    assert hant.get("Submit").string == "提交"
    # Taiwan's phrases, not characters only (s2twp): 设备 → 裝置, not 設備
    assert hant.get("repeat from one device").string == "同一裝置重複提交"
