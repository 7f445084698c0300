"""Which keywords a customer's open text contains: one matcher for every keyword list routing reads.

Keywords (complaint, category, urgent and rule keywords) all match the same way:

- text and keyword are NFKC-normalised and case-folded, so ``RUDE`` and full-width ``Ｒｕｄｅ``
  find ``rude``;
- a keyword with a Chinese character matches anywhere (Chinese has no spaces); any other keyword
  matches whole words, also with a common English ending (-s, -ed, -ing, -er, -ly, -y, -ness...),
  so ``wait`` finds "waiting" and "waiter" but ``bad`` does not find "badge";
- an occurrence right after a negation does not count: 不/没/没有/不太/不是很... before a Chinese
  keyword, not/no/never/nothing/-n't (optionally plus one of too/very/so/a/the...) before an English
  one. So "不太慢", "一点也不脏", "not bad", "wasn't too slow", "no complaints" are not complaints.
  Only the words right before count: "没有让人失望" still reads as 失望, and "no refund" reads as
  negated (accepted so that "no complaints" is not a complaint; such customers usually score
  low anyway). Write the negative phrase itself as a keyword when the negation is the point
  (没人通知, never called).

Default lists avoid single characters and words with everyday harmless uses: no 错 (不错),
no bare 差 (差不多, 出差), no 不好 (不好意思), no 火 (火锅), no bare "fire" (fired).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

#: A written complaint: open text with one of these makes the response negative.
COMPLAINT_KEYWORDS: tuple[str, ...] = (
    "投诉", "不满意", "很不满", "失望", "很差", "太差", "真差", "好差", "极差", "差劲", "差评",
    "服务差", "态度差", "质量差", "环境差", "卫生差", "态度不好", "服务不好", "不好吃", "不太好",
    "态度恶劣", "不耐烦", "太慢", "很慢", "好慢", "太久", "脏", "坏了", "变质", "过期", "难吃",
    "不新鲜", "上错", "搞错", "弄错", "退款", "退钱", "乱收费", "多收", "没人理", "没人管",
    "不专业", "太吵", "很吵", "糟糕", "恶心", "垃圾", "骗", "再也不来", "上菜慢", "不干净", "不够干净",
    "不太干净", "不是很干净", "不卫生", "有头发",
    "complaint", "complain", "terrible", "awful", "horrible", "rude", "dirt", "filthy", "broken",
    "slow", "refund", "disappoint", "worst", "bad", "poor", "unacceptable", "unhappy",
    "dissatisfied", "unfriendly", "overcharge", "wrong", "waste", "disgust", "mess",
    "not satisfied", "not happy", "not good", "wasn't good", "weren't good", "not clean", "wasn't clean",
    "never again",
)

#: Topic words per category; a topic word need not be negative (服务员, toilet).
CATEGORY_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "product": (
        "质量", "坏", "难吃", "味道", "口味", "过期", "变质", "不新鲜", "菜品", "饭菜", "产品", "商品",
        "功能", "缺货", "故障", "瑕疵", "破损", "分量", "份量", "异物",
        "quality", "broken", "taste", "tasteless", "flavour", "flavor", "stale", "expired",
        "product", "item", "food", "dish", "meal", "defect", "defective", "faulty", "feature",
        "portion", "out of stock",
    ),
    "service": (
        "排队", "等待", "等了", "态度", "服务员", "店员", "员工", "收银", "上菜", "慢", "售后", "退换",
        "退货", "维修", "不耐烦", "不专业", "效率",
        "queue", "wait", "rude", "staff", "waitress", "employee", "cashier", "slow", "service",
        "after-sales", "after sales", "return", "repair", "attitude", "unfriendly", "ignore",
    ),
    "communication": (
        "没人通知", "没有通知", "通知", "电话", "回电", "回复", "解释", "沟通", "告知", "答复", "联系",
        "承诺", "说好的",
        "call", "phone", "callback", "explain", "explanation", "communicate", "communication",
        "inform", "reply", "replied", "respond", "email", "e-mail", "message", "promise", "told",
        "never called", "no one called", "nobody called", "no reply", "never replied", "no response",
    ),
    "environment": (
        "脏", "吵", "噪音", "洗手间", "厕所", "卫生", "温度", "太热", "太冷", "空调", "臭味", "异味",
        "灯光", "座位", "拥挤", "停车", "环境", "装修", "苍蝇", "蟑螂", "老鼠",
        "dirt", "filthy", "noise", "noisy", "loud", "toilet", "restroom", "bathroom", "washroom",
        "hygiene", "temperature", "air conditioning", "smell", "lighting", "seat", "crowded",
        "parking", "environment", "cockroach", "mouse", "mice", "rat", "flies",
    ),
})

#: Safety: any of these makes the ticket urgent, whichever department gets it.
URGENT_KEYWORDS: tuple[str, ...] = (
    "中毒", "拉肚子", "腹泻", "呕吐", "过敏", "受伤", "流血", "摔倒", "烫伤", "割伤", "着火", "起火",
    "火灾", "冒烟", "触电", "打人", "报警",
    "food poisoning", "poison", "diarrhea", "diarrhoea", "vomit", "allergic reaction", "injury",
    "injure", "bleeding", "scald", "on fire", "caught fire", "fire alarm", "smoke",
    "electric shock", "assault", "threat", "police",
)

NEGATIONS_ZH: tuple[str, ...] = (
    "不", "没", "无", "未", "没有", "不太", "不是", "不是很", "不算", "不怎么", "不那么", "没那么",
    "不用", "无需", "不会",
)
_EN_NEGATION = re.compile(
    r"(?<![a-z0-9'])(?:not|cannot|no|never|nothing|without|[a-z]+n't|isnt|wasnt|arent|werent|dont|"
    r"doesnt|didnt)(?:\s+(?:too|very|so|that|really|particularly|overly|even|at\s+all|a|an|the|any))?$"
)
_EN_ENDINGS = "s|es|ed|d|ing|er|ers|est|ly|ily|y|ier|iest|ness"
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class KeywordHit:
    keyword: str      # as configured
    question: str     # key of the open question it was found in
    text_index: int   # which of the response's texts, in questionnaire order
    offset: int       # where in that (normalised) text


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    word = _normalise(keyword).strip()
    if not word:
        return None
    if _CHINESE.search(word):
        return re.compile(re.escape(word))
    body = r"\s+".join(re.escape(part) for part in word.split())
    return re.compile(rf"(?<![a-z0-9]){body}(?:{_EN_ENDINGS})?(?![a-z0-9])")


def _negated(before: str) -> bool:
    before = before.rstrip()
    return before.endswith(NEGATIONS_ZH) or _EN_NEGATION.search(before[-40:]) is not None


def find_keywords(texts: Sequence[tuple[str, str]], keywords: Iterable[str]) -> list[KeywordHit]:
    """The first counting occurrence of each keyword in ``texts`` ((question key, text) pairs), in text order."""
    patterns = [(keyword, _keyword_pattern(keyword)) for keyword in dict.fromkeys(keywords)]
    found: dict[str, KeywordHit] = {}
    for index, (question, text) in enumerate(texts):
        normalised = _normalise(text)
        for keyword, pattern in patterns:
            if pattern is None or keyword in found:
                continue
            for match in pattern.finditer(normalised):
                if not _negated(normalised[: match.start()]):
                    found[keyword] = KeywordHit(keyword, question, index, match.start())
                    break
    return sorted(found.values(), key=lambda hit: (hit.text_index, hit.offset))
